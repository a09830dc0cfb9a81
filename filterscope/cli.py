"""`filterscope up | api | worker | render | remote | weights`. The worker and the renderer are imported only when
they are run, so the API's command never loads TensorFlow."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from core.methods import METHODS, OBJECTIVES, method_descriptions, objective_descriptions
from filterscope import remote, weights

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000


LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def exposed_without_keys(args: argparse.Namespace) -> bool:
    """Whether the API would listen beyond this machine with nobody's key needed to spend its GPUs;
    says so when it would."""
    from core.settings import get_settings

    settings = get_settings()
    if args.host in LOOPBACK or not settings.anonymous or args.allow_anonymous or settings.allow_anonymous:
        return False
    print(f"filterscope: refusing to listen on {args.host} without API keys: anyone who can reach it could queue "
          "work. Set FILTERSCOPE_API_KEYS, or pass --allow-anonymous (FILTERSCOPE_ALLOW_ANONYMOUS=1) if anonymous "
          "use is intended.", file=sys.stderr)
    return True


def run_api(host: str, port: int) -> None:
    import uvicorn

    from core.settings import get_settings

    # No access log: at thousands of cached images a second, one line each costs more than the image.
    uvicorn.run("service.app:create_app", factory=True, host=host, port=port, workers=get_settings().api_workers,
                access_log=False)


def cmd_api(args: argparse.Namespace) -> int:
    if exposed_without_keys(args):
        return 2
    run_api(args.host, args.port)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    if args.gpus or args.processes:
        from filterscope import supervisor

        try:
            targets = supervisor.devices(args.gpus, args.processes or 1)
        except supervisor.NoGpus as error:
            print(f"filterscope: {error}", file=sys.stderr)
            return 2
        return supervisor.supervise(targets, burst=args.burst)
    if args.gpu is not None or args.cpu:
        # Must be set before TensorFlow is imported: the process then sees only that GPU (or none).
        os.environ["CUDA_VISIBLE_DEVICES"] = "" if args.cpu else str(args.gpu)
    from core.settings import get_settings
    from worker.main import run

    run(get_settings(), burst=args.burst)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from core.settings import get_settings
    from filterscope import redis_server

    if exposed_without_keys(args):
        return 2
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    children: list[subprocess.Popen] = []
    env = dict(os.environ, FILTERSCOPE_DATA_DIR=str(settings.data_dir.resolve()))
    try:
        if not settings.redis_url:
            try:
                for role, variable, cap in ((redis_server.STATE, "REDIS_URL", settings.state_redis_maxmemory),
                                            (redis_server.CACHE, "CACHE_REDIS_URL", settings.redis_maxmemory)):
                    server, env[variable] = redis_server.start(settings.data_dir, cap, role)
                    children.append(server)
                    print(f"filterscope: private Redis ({role[0]}) at {env[variable]}", file=sys.stderr)
                if dropped := redis_server.drop_images(env["REDIS_URL"]):
                    print(f"filterscope: {dropped} cached images dropped from the state Redis (images now live in "
                          "the cache Redis; these are rendered again on demand)", file=sys.stderr)
            except redis_server.RedisServerMissing as missing:
                print(f"filterscope: {missing}", file=sys.stderr)
                return 2
        children.append(subprocess.Popen([sys.executable, "-m", "filterscope", "worker"], env=env))
        api = subprocess.Popen([sys.executable, "-m", "filterscope", "api", "--host", args.host, "--port", str(args.port)]
                               + (["--allow-anonymous"] if args.allow_anonymous else []), env=env)
        children.append(api)
        stopping = []

        def stop_api(*_):
            stopping.append(True)
            api.terminate()

        signal.signal(signal.SIGTERM, stop_api)
        code = api.wait()
        # Asked to stop, the API exits by the signal; that is a clean shutdown, not a failure.
        return 0 if stopping else code
    except KeyboardInterrupt:
        return 0
    finally:
        for child in reversed(children):
            stop(child)


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cmd_render(args: argparse.Namespace) -> int:
    from filterscope.render import render_to_files

    return render_to_files(args)


def parse_filters(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("filters are comma-separated integers, e.g. 0,1,2") from None


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="filterscope", description="What does filter k of layer L of a CNN respond to?")
    commands = root.add_subparsers(dest="command", required=True)

    for name, handler, text in (("up", cmd_up, "API, one worker and (without REDIS_URL) a private redis-server"),
                                ("api", cmd_api, "the HTTP API only")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--host", default=DEFAULT_HOST)
        command.add_argument("--port", type=int, default=DEFAULT_PORT)
        command.add_argument("--allow-anonymous", action="store_true",
                             help="listen beyond loopback without API keys (anyone who can reach it may queue work)")
        command.set_defaults(handler=handler)

    worker = commands.add_parser("worker", help="a worker process, or one per GPU (--gpus), supervised")
    pinning = worker.add_mutually_exclusive_group()
    pinning.add_argument("--gpus", help="'all' or GPU indices (0,1,...): one supervised worker process per GPU, "
                         "pinned to it, restarted if it dies")
    pinning.add_argument("--processes", type=int, help="N supervised worker processes on the CPU (no GPU)")
    pinning.add_argument("--gpu", type=int, help="this one process, pinned to GPU N")
    pinning.add_argument("--cpu", action="store_true", help="this one process, on the CPU even where GPUs are")
    worker.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    worker.set_defaults(handler=cmd_worker)

    render = commands.add_parser("render", help="render one visualisation straight to PNG files (no Redis)")
    add_param_flags(render)
    render.set_defaults(handler=cmd_render)
    remote.add_parser(commands, add_param_flags)
    weights.add_parser(commands)
    return root


def add_param_flags(render: argparse.ArgumentParser) -> None:
    """The request's fields as flags, shared by `render` and `remote render`."""
    render.add_argument("--model", default="vgg16-hed")
    render.add_argument("--layer", required=True)
    render.add_argument("--filters", type=parse_filters, help="comma-separated, e.g. 0,1,2 (not with --objective layer)")
    render.add_argument("--method", choices=[method.value for method in METHODS], help=method_descriptions())
    render.add_argument("--objective", choices=[objective.value for objective in OBJECTIVES],
                        help=objective_descriptions())
    render.add_argument("--precision", choices=["float32", "bfloat16"],
                        help="default: FILTERSCOPE_DEFAULT_PRECISION (float32)")
    render.add_argument("--diversity", type=int)
    render.add_argument("--steps", type=int)
    render.add_argument("--image-size", type=int)
    render.add_argument("--learning-rate", type=float)
    render.add_argument("--seed", type=int)
    render.add_argument("--transforms", choices=["on", "off"])
    render.add_argument("--out", type=Path, default=Path("."), help="directory for the PNG files")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter, for worker and render
    return args.handler(args) or 0
