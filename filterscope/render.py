"""`filterscope render`: one visualisation straight to PNG files, in this process, without Redis."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError
from tqdm import tqdm

from core.errors import FilterscopeError, InvalidRequest
from core.settings import get_settings
from service.visualizations.schemas import VisualizationRequest
from service.visualizations.validation import build_record
from worker.engine.images import encode_png
from worker.engine.render import render
from worker.models.registry import current
from worker.tasks import image_spec

PARAM_FLAGS = ("method", "objective", "precision", "diversity", "steps", "image_size", "learning_rate", "seed")


def request_from(args: argparse.Namespace) -> VisualizationRequest:
    params = {name: getattr(args, name) for name in PARAM_FLAGS if getattr(args, name) is not None}
    if args.transforms is not None:
        params["transforms"] = args.transforms == "on"
    return VisualizationRequest(model=args.model, layer=args.layer, filters=args.filters or None, params=params)


def flag_of(location: tuple) -> str:
    """The command-line flag behind a field of the request (`params.image_size` -> `--image-size`)."""
    name = next((str(part) for part in reversed(location) if not isinstance(part, int)), "request")
    return "--" + name.replace("_", "-")


def render_to_files(args: argparse.Namespace) -> int:
    try:
        request = request_from(args)
        settings = get_settings()
        loaded = current(settings).get(request.model)
        record = build_record(request, loaded.info, settings.default_precision)
    except ValidationError as invalid:
        for error in invalid.errors():
            print(f"filterscope render: {flag_of(error['loc'])}: {error['msg']}", file=sys.stderr)
        return 2
    except InvalidRequest as error:
        field = tuple(error.field.split("[")[0].split("."))
        print(f"filterscope render: {flag_of(field)}: {error.reason}", file=sys.stderr)
        return 2
    except FilterscopeError as error:
        print(f"filterscope render: {error.detail}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    spec = record.spec()
    with tqdm(total=record.params.steps * len(record.filters), unit="step", desc=f"{record.layer}") as bar:
        def advance(step: int, steps: int) -> None:
            bar.total = steps
            bar.update(step - bar.n)

        renderings = render(loaded.target(record.layer), record.filters, record.params, on_progress=advance,
                            memory_budget=get_settings().worker_memory_bytes)
    for rendering in renderings:
        name = "layer" if rendering.filter is None else str(rendering.filter)
        suffix = f"_{rendering.index}" if record.params.diversity > 1 else ""
        path = args.out / f"{record.model}_{record.layer}_{name}{suffix}.png"
        path.write_bytes(encode_png(rendering.pixels, image_spec(spec, rendering)))
        print(f"{path}  activation {rendering.activation:.2f} (from {rendering.start_activation:.2f})")
    return 0
