"""`python -m devkit.local_cloud invoke FUNCTION -e events/X.json`: one invocation, in-process, no Docker.

The path where Docker is absent (`sam local invoke` needs it). With `--stack build/local-cloud/state.json`
the function is one of the running local cloud's (`up`), so invocations chain on the same tables and
buckets (ingest the sample bars, then decide on them); without it, a new stack is deployed on a local
endpoint (a moto server of its own, or `--endpoint`). The function is bound to its handler with the
environment the stack gave it and called once with the event; its response is printed as the last line of
standard output (one JSON line, after the function's own log lines), or its error and exit 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from devkit.local_cloud.handlers import BoundFunction, bind_running
from devkit.local_cloud.running import NotRunning, running_cloud
from infra.layer_model import DEFAULT_OUT


class InvokeError(RuntimeError):
    """The function or the event named on the command line is not usable (the message says which)."""


def read_event(path: str) -> dict[str, Any]:
    """The event file as a JSON object (`-` reads standard input)."""
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    try:
        event = json.loads(text)
    except ValueError as exc:
        raise InvokeError(f"event {path}: not JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise InvokeError(f"event {path}: expected a JSON object, got {type(event).__name__}")
    return event


def invoke(
    function: str,
    event: dict[str, Any],
    endpoint: str = "",
    layer_model: str = "",
    stack: Path | None = None,
) -> Any:
    """Invoke `function` once: on the running local cloud that `stack` (its state file) describes, else on
    a new stack deployed on `endpoint` (a moto server of its own when empty)."""
    from devkit.local_cloud.endpoint import MotoServer, environment, use_endpoint

    if stack is not None:
        cloud = running_cloud(stack)
        with environment(cloud.environment):
            return _call(bind_running(cloud.stack), function, event, layer_model)
    server = None if endpoint else MotoServer.start()
    try:
        use_endpoint(endpoint or (server.url if server else ""))
        return _call(_fresh_stack(), function, event, layer_model)
    finally:
        if server:
            server.stop()


def _fresh_stack() -> dict[str, BoundFunction]:
    from devkit.local_cloud.cloud import LocalCloud

    return LocalCloud.deploy(f"regime-trader-invoke-{uuid.uuid4().hex[:8]}", include=set()).functions


def _call(functions: dict[str, BoundFunction], function: str, event: dict[str, Any], layer_model: str) -> Any:
    """Find `function` (logical id, deployed name or folder), point the regime function at a local fallback
    model (the layer's path exists only inside Lambda), call it."""
    bound = functions.get(function) or next(
        (f for f in functions.values() if function in (f.name, f.module.split(".")[1])), None
    )
    if bound is None:
        raise InvokeError(f"no function {function!r}: the template has {', '.join(sorted(functions))}")
    if "LAYER_MODEL_PATH" in bound.env or bound.logical_id == "RegimeFunction":
        model = Path(layer_model or DEFAULT_OUT)
        bound = dataclasses.replace(bound, env={**bound.env, "LAYER_MODEL_PATH": str(model.resolve())})
    return bound.invoke(event)


def run(args: argparse.Namespace) -> int:
    """The `invoke` subcommand."""
    try:
        event = read_event(args.event)
        response = invoke(args.function, event, args.endpoint, args.layer_model, args.stack)
    except (InvokeError, NotRunning) as exc:
        print(f"invoke: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the function's own error, as Lambda would report it
        print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}), file=sys.stderr)
        return 1
    # One line, last: the function's own logs (Powertools writes JSON lines to stdout) come before it.
    print(json.dumps(response, default=str))
    return 0


def add_parser(sub: Any) -> None:
    """Register `invoke` on the CLI's subparsers."""
    p = sub.add_parser("invoke", help="invoke one function in-process with an event file (no Docker)")
    p.add_argument("function", help="logical id (RegimeFunction) or folder name (regime, ingest_bars, train)")
    p.add_argument("-e", "--event", required=True, help="event JSON file (events/*.json), or - for stdin")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--stack",
        type=Path,
        default=None,
        metavar="STATE_FILE",
        help="invoke on the running local cloud this state file describes "
        "(build/local-cloud/state.json, written by `up`): invocations chain on its data",
    )
    where.add_argument(
        "--endpoint",
        default="",
        help="deploy a new stack on this running endpoint (one without a regime-trader stack: "
        "some resource names are fixed)",
    )
    p.add_argument("--layer-model", default="", help="the regime function's fallback ensemble.onnx")
    p.set_defaults(func=run)
