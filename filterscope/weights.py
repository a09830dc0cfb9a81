"""`filterscope weights add FILE [--model ID]`: a standard model's weights file stored in the model
file store (REDIS_URL's Redis, or FILTERSCOPE_MODEL_STORE_URL), for every worker to fetch."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.standard import STANDARD_MODELS


def model_for(file: Path) -> str | None:
    """The standard model whose weights file has this name."""
    return next((model.id for model in STANDARD_MODELS.values() if model.weights_file == file.name), None)


def add(args: argparse.Namespace) -> int:
    from redis import Redis

    from core.errors import FilterscopeError
    from core.settings import get_settings
    from core.store.files import model_files
    from service.models.weights import add_weights

    model_id = args.model or model_for(args.file)
    if model_id is None:
        print(f"filterscope: {args.file.name} is not the weights file of a standard model; name it with --model ID "
              f"(one of {', '.join(STANDARD_MODELS)})", file=sys.stderr)
        return 2
    if not args.file.is_file():
        print(f"filterscope: {args.file}: no such file", file=sys.stderr)
        return 2
    settings = get_settings()
    redis = Redis.from_url(settings.effective_redis_url)
    try:
        stored = add_weights(redis, model_files(settings.model_store_url, redis), settings, model_id,
                             args.file.read_bytes())
    except FilterscopeError as error:
        print(f"filterscope: {error.detail}", file=sys.stderr)
        return 2
    print(f"{model_id}: {args.file.name} stored ({stored.size} bytes, SHA-256 {stored.file_sha256[:16]}…); a worker "
          "inspects it next, and every worker fetches it when a job needs it")
    return 0


def add_parser(commands) -> None:
    weights = commands.add_parser("weights", help="add a standard model's weights for every worker")
    actions = weights.add_subparsers(dest="action", required=True)
    adding = actions.add_parser("add", help="store FILE in the model file store as a standard model's weights")
    adding.add_argument("file", type=Path)
    adding.add_argument("--model", choices=list(STANDARD_MODELS), help="default: the model whose weights file "
                        "has FILE's name")
    adding.set_defaults(handler=add)
