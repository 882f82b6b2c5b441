"""LocalCloud: the deployed stack plus its event sources, driven by a real or a virtual clock.

cloud = LocalCloud.deploy()            # AWS_ENDPOINT_URL must point at the local endpoint
...the host publishes bars to cloud.stack.outputs["BarStreamName"]...
cloud.advance_to(now)                  # ingest what arrived, then fire the schedules due up to `now`
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from devkit.local_cloud.event_sources import (
    ScheduledTarget,
    StreamSource,
    fire_due,
    scheduled_targets,
    stream_sources,
)
from devkit.local_cloud.handlers import BoundFunction, bind_functions
from devkit.local_cloud.stack import DEFAULT_STACK, LocalStack, deploy

log = logging.getLogger(__name__)


@dataclass
class LocalCloud:
    """The stack's functions wired to its Kinesis stream and schedules."""

    stack: LocalStack
    functions: dict[str, BoundFunction]
    sources: list[StreamSource]
    schedules: list[ScheduledTarget]
    clock: datetime | None = None  # the last moment the schedules were evaluated
    history: list[tuple[str, datetime, Any]] = field(default_factory=list)

    @classmethod
    def deploy(
        cls,
        stack_name: str = DEFAULT_STACK,
        parameters: dict[str, str] | None = None,
        *,
        include: set[str] | None = None,
    ) -> LocalCloud:
        """Create the stack on the endpoint in AWS_ENDPOINT_URL and wire it.

        `include` limits which functions the schedules may fire (e.g. {"RegimeFunction"} to keep the weekly
        training out of a simulated session); every function stays deployed.
        """
        stack = deploy(stack_name, parameters)
        functions = bind_functions(stack)
        targets = [
            t for t in scheduled_targets(functions) if include is None or t.function.logical_id in include
        ]
        return cls(stack, functions, stream_sources(functions), targets)

    def override_env(self, logical_id: str, **env: str) -> BoundFunction:
        """Change a function's environment wherever it is wired (e.g. LAYER_MODEL_PATH for a local model)."""
        old = self.functions[logical_id]
        new = dataclasses.replace(old, env={**old.env, **env})
        self.functions[logical_id] = new
        for target in self.schedules:
            if target.function is old:
                target.function = new
        for source in self.sources:
            for mapping in source.mappings:
                if mapping.function is old:
                    mapping.function = new
        return new

    def pump(self) -> int:
        """Deliver what arrived on the streams (to the functions and the archive); returns records read."""
        return sum(source.pump() for source in self.sources)

    def advance_to(self, now: datetime, *, pump: bool = True) -> list[tuple[str, datetime, Any]]:
        """Pump, then fire every schedule due in (previous now, now]; the first call fires at `now` itself.

        `pump=False` when the caller has just pumped (each pump is a read per shard on the endpoint).
        """
        if pump:
            self.pump()
        now = now.astimezone(UTC)
        after = self.clock if self.clock is not None else now - timedelta(minutes=1)
        fired = fire_due(self.schedules, after, now) if now > after else []
        self.clock = max(now, after)
        self.history.extend(fired)
        return fired

    def run(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Follow the real clock until `stop` is set."""
        while not stop.is_set():
            try:
                self.advance_to(datetime.now(UTC))
            except Exception:  # keep the cloud up; the error is in the log with its traceback
                log.exception("local cloud step failed")
            stop.wait(poll_seconds)
