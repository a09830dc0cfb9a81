"""`filterscope remote`: the API of a running server from the command line, through the typed client."""

from __future__ import annotations

import argparse
import json
import os
import sys

import httpx

from filterscope.client import Client, ProblemError

PARAM_FLAGS = ("method", "objective", "precision", "diversity", "steps", "image_size", "learning_rate", "seed")


def params_of(args: argparse.Namespace) -> dict:
    params = {name: getattr(args, name) for name in PARAM_FLAGS if getattr(args, name) is not None}
    if args.transforms is not None:
        params["transforms"] = args.transforms == "on"
    return params


def render(client: Client, args: argparse.Namespace) -> int:
    submitted = client.submit(args.model, args.layer, args.filters, **params_of(args))
    print(f"visualisation {submitted.id}: {submitted.status}", file=sys.stderr)
    done = submitted
    if submitted.status != "finished":
        from tqdm import tqdm  # installed with the worker extra; only a progress bar

        with tqdm(total=submitted.progress.steps, unit="step", desc=args.layer) as bar:
            done = client.wait(submitted, on_progress=lambda p: bar.update(p.step - bar.n))
    if done.status != "finished":
        detail = (done.error or {}).get("detail", "")
        print(f"filterscope remote: visualisation {done.id} {done.status}: {detail}", file=sys.stderr)
        return 1
    for path, image in zip(client.save_images(done, args.out), done.images):
        print(f"{path}  activation {image.activation:.2f}")
    return 0


def run(args: argparse.Namespace) -> int:
    api_key = args.api_key or os.environ.get("FILTERSCOPE_API_KEY")
    try:
        with Client(args.url, api_key=api_key) as client:
            if args.action == "render":
                return render(client, args)
            if args.action == "list":
                for visualization in client.list(args.model, args.layer, args.status):
                    print(f"{visualization.id}  {visualization.status:9} {visualization.model} {visualization.layer} "
                          f"filters {visualization.filters}")
                return 0
            answer = client.cancel(args.id) if args.action == "cancel" else client.get(args.id)
            print(json.dumps(answer.model_dump(mode="json"), indent=2))
            return 0
    except ProblemError as problem:
        for error in problem.errors or [{"field": None, "reason": problem.problem.get("detail")}]:
            field = f"{error['field']}: " if error["field"] else ""
            print(f"filterscope remote: {field}{error['reason']}", file=sys.stderr)
        return 2
    except httpx.HTTPError as error:
        print(f"filterscope remote: {args.url} did not answer: {error}", file=sys.stderr)
        return 1


def add_parser(commands, add_param_flags) -> None:
    remote = commands.add_parser("remote", help="use a running server's API (render, list, get, cancel)")
    remote.add_argument("--url", default=os.environ.get("FILTERSCOPE_URL", "http://127.0.0.1:8000"),
                        help="the server (default: FILTERSCOPE_URL or http://127.0.0.1:8000)")
    remote.add_argument("--api-key", help="default: FILTERSCOPE_API_KEY")
    actions = remote.add_subparsers(dest="action", required=True)
    rendering = actions.add_parser("render", help="submit, follow its progress, save the PNGs")
    add_param_flags(rendering)
    listing = actions.add_parser("list", help="visualisations, most recently requested first")
    listing.add_argument("--model")
    listing.add_argument("--layer")
    listing.add_argument("--status", choices=["queued", "running", "finished", "failed", "cancelled", "expired"])
    for action, text in (("get", "one visualisation as JSON"), ("cancel", "stop a queued or running visualisation")):
        actions.add_parser(action, help=text).add_argument("id")
    remote.set_defaults(handler=run)
