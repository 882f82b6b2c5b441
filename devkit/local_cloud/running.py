"""The running local cloud, as its state file describes it: the stack's name, its endpoint, the variables
(region, dummy credentials) that reach that endpoint.

`python -m devkit.local_cloud up` writes build/local-cloud/state.json and removes it when it stops; the
invocation commands (`invoke --stack FILE`, `sam-invoke`) read it to act on that stack rather than a new one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from devkit.local_cloud.endpoint import is_up
from infra.template_yaml import REPO
from trader_host.cloud.stack_outputs import describe_stack
from trading_engine.config import ConfigError

STATE = REPO / "build" / "local-cloud" / "state.json"
START_HINT = "start one with `python -m devkit.local_cloud up` (in another terminal, or with --detach)"


class NotRunning(RuntimeError):
    """No usable local cloud at the state file (the message says why, and how to start one)."""


@dataclass(frozen=True)
class RunningCloud:
    """A local cloud that answers: its stack's name, endpoint, and the AWS variables to reach it."""

    stack: str
    endpoint: str
    environment: dict[str, str]


def running_cloud(path: Path = STATE) -> RunningCloud:
    """The local cloud that `path` describes, checked to answer; NotRunning otherwise."""
    if not path.is_file():
        raise NotRunning(f"no local cloud running ({path} does not exist): {START_HINT}")
    try:
        described = describe_stack(str(path), flag="--stack")
        stack = str(json.loads(path.read_text()).get("stack", ""))
    except (ConfigError, ValueError) as exc:
        raise NotRunning(f"{path}: {exc}") from exc
    if not described.endpoint or not stack:
        raise NotRunning(f"{path}: not a local cloud's state file (no endpoint or stack name)")
    if not is_up(described.endpoint):
        raise NotRunning(
            f"the local cloud of {path} does not answer at {described.endpoint} (stopped?): {START_HINT}"
        )
    return RunningCloud(stack, described.endpoint, dict(described.environment))
