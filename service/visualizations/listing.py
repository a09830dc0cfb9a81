"""Visualisations newest first (by their last request), filtered by model, layer and status, a
page at a time.

Records are indexed by the time of their last request in a sorted set. A cursor names the last record of a page
(its time and id), so pages stay stable while new records arrive. Records that expired are dropped
from the index as they are met.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from core.store import keys, records
from service.visualizations.schemas import Visualization
from service.visualizations.service import Visualizations

SCAN_BATCH = 50
MAX_SCANNED = 2000  # records looked at for one page: a rare filter ends a page early, with a cursor to go on


class VisualizationPage(BaseModel):
    items: list[Visualization]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null on the last page.")


def parse_cursor(cursor: str | None) -> tuple[float, str] | None:
    if not cursor:
        return None
    created, _, record_id = cursor.partition(":")
    try:
        return float(created), record_id
    except ValueError:
        return None


def after_cursor(score: float, record_id: str, cursor: tuple[float, str] | None) -> bool:
    """Whether an entry comes after the cursor in newest-first order (ties: larger ids first)."""
    return cursor is None or score < cursor[0] or (score == cursor[0] and record_id < cursor[1])


def page(visualizations: Visualizations, model: str | None, layer: str | None, status: str | None, limit: int,
         cursor: str | None) -> VisualizationPage:
    redis = visualizations.redis
    position = parse_cursor(cursor)
    top = position[0] if position else "+inf"
    items: list[Visualization] = []
    scanned, offset = 0, 0
    last: tuple[float, str] | None = position
    while len(items) < limit and scanned < MAX_SCANNED:
        batch = redis.zrevrangebyscore(keys.VISUALIZATIONS, top, "-inf", start=offset, num=SCAN_BATCH, withscores=True)
        if not batch:
            return VisualizationPage(items=items)
        offset += len(batch)
        for raw_id, score in batch:
            record_id = raw_id.decode()
            if not after_cursor(score, record_id, position):
                continue
            scanned += 1
            last = (score, record_id)
            record = records.load(redis, record_id)
            if record is None:
                redis.zrem(keys.VISUALIZATIONS, record_id)
                offset -= 1
                continue
            if (model and record.model != model) or (layer and record.layer != layer):
                continue
            described = visualizations.describe(record, visualizations.cached(record))
            if status and described.status != status:
                continue
            items.append(described)
            if len(items) == limit:
                break
    return VisualizationPage(items=items, next_cursor=f"{last[0]!r}:{last[1]}" if last else None)
