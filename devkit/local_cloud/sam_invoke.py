"""`make invoke FN=RegimeFunction EVENT=events/regime.json`: the real `sam local invoke`, in Docker, on the
running local cloud (`python -m devkit.local_cloud sam-invoke FUNCTION -e EVENT`).

1. the running local cloud, from its state file (none: one line saying how to start one);
2. Docker and the offline stand-in for the Lambda python3.12 image, for this machine's architecture;
3. `sam build` of the layer and the zip functions for that architecture (the template's `Architecture`
   parameter; arm64 stays the deployed default), cached in build/sam-local;
4. the function's variables as the running stack deployed them (its tables, stream, bucket names), given
   to SAM with `--env-vars`, and the cloud's region and dummy credentials, which SAM hands the container;
5. the endpoint: relayed onto Docker's bridge (`relay`) and set in the invoke image (SAM passes a function
   only the variables its template declares, and AWS_ENDPOINT_URL is none of them), so the function reaches
   the local cloud and never AWS;
6. `sam local invoke`: the container's log on standard error as it runs, the response as the last line of
   standard output; exit 1 when the response is the function's error (sam itself exits 0 then).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from devkit.local_cloud.endpoint import environment
from devkit.local_cloud.handlers import bind_running
from devkit.local_cloud.relay import relay
from devkit.local_cloud.running import STATE, NotRunning, running_cloud
from infra.lambda_image import sam_local
from infra.lambda_image.build import ImageError, ensure_image, machine_arch
from infra.template_yaml import REPO

BUILD_DIR = REPO / "build" / "sam-local"
# Credentials a shell may carry for real AWS: SAM must hand the container the local cloud's, not these.
AWS_IDENTITY = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


class SamInvokeError(RuntimeError):
    """The function named cannot be invoked in a container (the message says why and what to do)."""


async def _invoke_relayed(
    template: Path,
    function: str,
    event: Path,
    env_vars: dict[str, str],
    endpoint: str,
    sam_env: dict[str, str],
) -> tuple[int, Any]:
    """Relay the endpoint onto the bridge, run `sam local invoke` there; (sam's exit code, response)."""
    target = urlsplit(endpoint)
    gateway = sam_local.bridge_gateway()
    host, port = target.hostname or "127.0.0.1", target.port or 80
    # On the gateway, the endpoint's own port when free: the invoke image (which names it) is then reused.
    async with relay(gateway, host, port, prefer_port=port) as relayed_port:
        image = sam_local.endpoint_image(f"http://{gateway}:{relayed_port}")
        with tempfile.TemporaryDirectory() as tmp:
            env_file = sam_local.write_env_vars(function, env_vars, Path(tmp))
            proc = await asyncio.create_subprocess_exec(
                *sam_local.invoke_command(template, function, event, env_file, image),
                cwd=template.parent,
                env=sam_env,
                stdout=asyncio.subprocess.PIPE,  # the response; the log (stderr) goes to the terminal
            )
            stdout, _ = await proc.communicate()
    text = stdout.decode(errors="replace")
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
    return int(proc.returncode or 0), sam_local.last_json_line(text)


def sam_invoke(function: str, event: Path, state: Path = STATE, built: Path | None = None) -> int:
    """Invoke `function` with `event` in a container on the running local cloud; the exit code.

    `built`: a template `sam_local.build` made (else one is built, or found current, in BUILD_DIR).
    """
    if not event.is_file():
        raise SamInvokeError(f"event {event}: no such file (the samples are in events/)")
    if function in sam_local.image_functions():
        raise SamInvokeError(
            f"{function} is a container image function, built from a registry this command does not reach: "
            f"invoke it in-process: python -m devkit.local_cloud invoke --stack {state} {function} -e {event}"
        )
    cloud = running_cloud(state)
    with environment(cloud.environment):
        functions = bind_running(cloud.stack)
    if function not in functions:
        raise SamInvokeError(f"no function {function!r}: the template has {', '.join(sorted(functions))}")
    ensure_image()
    if built is None:
        print(f"sam build ({machine_arch()}, cached in {BUILD_DIR.relative_to(REPO)})", file=sys.stderr)
    template = built or sam_local.build(BUILD_DIR, cached=True)
    sam_env = sam_local.sam_environment(cloud.environment)
    for key in AWS_IDENTITY:
        sam_env.pop(key, None)
    code, response = asyncio.run(
        _invoke_relayed(template, function, event.resolve(), functions[function].env, cloud.endpoint, sam_env)
    )
    if code != 0:
        print(f"sam-invoke: sam local invoke {function} exited {code}", file=sys.stderr)
        return code
    error = sam_local.function_error(response)
    if response is None or error:
        print(f"sam-invoke: {function} failed: {error or 'no response'}", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    """The `sam-invoke` subcommand."""
    try:
        return sam_invoke(args.function, Path(args.event), args.stack)
    except (SamInvokeError, NotRunning) as exc:
        print(f"sam-invoke: {exc}", file=sys.stderr)
        return 2
    except (sam_local.SamLocalError, ImageError) as exc:
        print(f"sam-invoke: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sam-invoke: interrupted", file=sys.stderr)
        return 130


def add_parser(sub: Any) -> None:
    """Register `sam-invoke` on the CLI's subparsers."""
    p = sub.add_parser(
        "sam-invoke",
        help="`sam local invoke` in Docker on the running local cloud (make invoke FN=... EVENT=...)",
    )
    p.add_argument("function", help="logical id: IngestBarsFunction or RegimeFunction")
    p.add_argument("-e", "--event", required=True, help="event JSON file (events/*.json)")
    p.add_argument(
        "--stack",
        type=Path,
        default=STATE,
        metavar="STATE_FILE",
        help=f"the running local cloud's state file (default {STATE.relative_to(REPO)})",
    )
    p.set_defaults(func=run)
