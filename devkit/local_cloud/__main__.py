"""`python -m devkit.local_cloud up|down|status|invoke|sam-invoke`: the local cloud as a service.

`up` starts a moto server (or uses --endpoint), deploys template.yaml there, and follows the real clock:
Kinesis -> ingest_bars and the archive every second, the schedules on the minute. It writes its state
(endpoint, pid, stack outputs) to build/local-cloud/state.json; `down` (or Ctrl-C in the foreground) stops
it cleanly. `invoke --stack build/local-cloud/state.json` calls one of its functions in-process, `sam-invoke`
in a container with `sam local invoke` (`make invoke`): both on its tables, so invocations chain.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from devkit.local_cloud.running import STATE
from infra.layer_model import DEFAULT_OUT
from infra.template_yaml import REPO

__all__ = ["STATE", "alive", "main"]

LOG = STATE.parent / "local-cloud.log"
STOP_TIMEOUT = 150  # s: longer than any function's timeout in the template


def read_state() -> dict[str, object] | None:
    try:
        state: dict[str, object] = json.loads(STATE.read_text())
    except (OSError, ValueError):
        return None
    return state


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def up(args: argparse.Namespace) -> int:
    state = read_state()
    if state and alive(int(str(state["pid"]))):
        print(f"already up: {state['endpoint']} (pid {state['pid']})")
        return 0
    if args.detach:
        return _spawn(args)
    from devkit.local_cloud.cloud import LocalCloud
    from devkit.local_cloud.endpoint import MotoServer, use_endpoint

    server = None if args.endpoint else MotoServer.start(args.port)
    endpoint = args.endpoint or (server.url if server else "")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        use_endpoint(endpoint)
        params = dict(p.split("=", 1) for p in args.param)
        if args.symbols:
            params["Symbols"] = args.symbols
        # --no-schedules: only what is invoked by hand decides (the real clock's decision, on no bars,
        # would otherwise supersede a sample event's older one).
        cloud = LocalCloud.deploy(args.stack, params or None, include=set() if args.no_schedules else None)
        layer_model = Path(
            args.layer_model
            or cloud.functions["RegimeFunction"].env.get("LAYER_MODEL_PATH", "")
            or DEFAULT_OUT
        )
        cloud.override_env("RegimeFunction", LAYER_MODEL_PATH=str(layer_model.resolve()))
        if not layer_model.exists():
            logging.warning(
                "no layer model at %s: decisions will be `nothing` until one is published; "
                "write one with `python -m infra.layer_model --quick`",
                layer_model,
            )
        STATE.parent.mkdir(parents=True, exist_ok=True)
        STATE.write_text(
            json.dumps(
                {"pid": os.getpid(), "stack": args.stack, **cloud.stack.described(endpoint)},
                indent=2,
            )
        )
        print(
            f"local cloud up: {endpoint} (stack {args.stack}); "
            "stop with Ctrl-C or `python -m devkit.local_cloud down`"
        )
        sys.stdout.flush()
        cloud.run(stop)
    finally:
        STATE.unlink(missing_ok=True)
        if server:
            server.stop()
    print("local cloud down")
    return 0


def _spawn(args: argparse.Namespace) -> int:
    STATE.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "devkit.local_cloud", "up", "--stack", args.stack]
    command += ["--port", str(args.port)] if args.port else []
    command += ["--endpoint", args.endpoint] if args.endpoint else []
    command += ["--symbols", args.symbols] if args.symbols else []
    command += ["--layer-model", args.layer_model] if args.layer_model else []
    command += [f"--param={p}" for p in args.param]
    command += ["--no-schedules"] if args.no_schedules else []
    with LOG.open("ab") as log_file:
        proc = subprocess.Popen(
            command, cwd=REPO, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = read_state()
        if state and int(str(state["pid"])) == proc.pid:
            print(f"local cloud up: {state['endpoint']} (pid {proc.pid}, log {LOG})")
            return 0
        if proc.poll() is not None:
            print(f"local cloud failed to start: see {LOG}", file=sys.stderr)
            return 1
        time.sleep(0.2)
    proc.terminate()
    print(f"local cloud did not come up within 60 s: see {LOG}", file=sys.stderr)
    return 1


def down(args: argparse.Namespace) -> int:
    state = read_state()
    if not state:
        print("local cloud is not running")
        return 0
    pid = int(str(state["pid"]))
    if alive(pid):
        os.kill(pid, signal.SIGTERM)
        # A scheduled invocation in progress finishes first (the regime function may wait for late bars).
        deadline = time.monotonic() + STOP_TIMEOUT
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if alive(pid):
            print(f"pid {pid} did not stop within {STOP_TIMEOUT} s", file=sys.stderr)
            return 1
    STATE.unlink(missing_ok=True)
    print("local cloud down")
    return 0


def status(args: argparse.Namespace) -> int:
    state = read_state()
    if not state or not alive(int(str(state["pid"]))):
        print("local cloud is not running")
        return 1
    print(json.dumps(state, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devkit.local_cloud",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start the endpoint, deploy template.yaml, follow the clock")
    p_up.add_argument("--port", type=int, default=0, help="moto port (default: a free one)")
    p_up.add_argument("--endpoint", default="", help="use this running endpoint instead of starting one")
    p_up.add_argument("--stack", default="regime-trader-local")
    p_up.add_argument("--symbols", default="", help="comma-separated symbols (template default otherwise)")
    p_up.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a template parameter override (repeatable), e.g. BarWaitSeconds=5",
    )
    p_up.add_argument(
        "--layer-model",
        default="",
        help="ensemble.onnx the regime function falls back to "
        "(default: the layer's, written by `python -m infra.layer_model`)",
    )
    p_up.add_argument(
        "--no-schedules",
        action="store_true",
        help="fire no schedule: the functions run only on bars and on `invoke --stack` (the samples)",
    )
    p_up.add_argument("--detach", action="store_true", help="run in the background; return once it is up")
    p_up.set_defaults(func=up)
    sub.add_parser("down", help="stop a running local cloud").set_defaults(func=down)
    sub.add_parser("status", help="print the running local cloud's endpoint and outputs").set_defaults(
        func=status
    )
    from devkit.local_cloud.invoke import add_parser as add_invoke
    from devkit.local_cloud.sam_invoke import add_parser as add_sam_invoke

    add_invoke(sub)
    add_sam_invoke(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)  # one line per client otherwise
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
