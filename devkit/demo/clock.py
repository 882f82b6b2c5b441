"""CloudClock: the local cloud driven in step with the host's virtual clock, as one of the session's jobs.

At each 5-minute boundary (half a second after it, once the minute's bar has been queued) it flushes the
bars the host published to Kinesis, lets the stream deliver them to ingest_bars, then fires the schedules
due up to that moment: the regime function decides from exactly the bars the host had published, and the
host's regime reader (due a second after the boundary) reads that decision. Where the time goes is kept
per stage for the progress line and the benchmark.
"""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from devkit.local_cloud.cloud import LocalCloud
from regime.contracts.cadence import DECISION_INTERVAL
from trading_engine.cloud_job import CloudJob
from trading_engine.session_ports import BarSink

CADENCE_S = DECISION_INTERVAL.total_seconds()
AFTER_BOUNDARY_S = 0.5  # the boundary's bar arrives at the boundary; the reader reads at +1 s


@dataclass
class Fired:
    """One scheduled invocation: the boundary it decided and what the function returned."""

    boundary: datetime
    result: Any


@dataclass
class CloudClock:
    cloud: LocalCloud
    bars: BarSink
    seconds: dict[str, float] = field(default_factory=lambda: {"publish": 0.0, "ingest": 0.0, "regime": 0.0})
    steps: int = 0
    fired: list[Fired] = field(default_factory=list)

    def job(self) -> CloudJob:
        """The session job (broker-timed): runs at the first event, then just after every boundary."""
        return CloudJob("local-cloud", self.step, CADENCE_S, schedule=next_step_at, wall=False)

    def step(self, now: float) -> None:
        """Flush, ingest, then fire what is due up to `now` (the host's virtual time, epoch seconds)."""
        t0 = time.perf_counter()
        self.bars.flush()
        t1 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            self.cloud.pump()
        t2 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # the functions' metrics lines (EMF) go to stdout
            fired = self.cloud.advance_to(datetime.fromtimestamp(now, UTC), pump=False)
        t3 = time.perf_counter()
        self.seconds["publish"] += t1 - t0
        self.seconds["ingest"] += t2 - t1
        self.seconds["regime"] += t3 - t2
        self.steps += 1
        self.fired += [Fired(at, result) for _, at, result in fired]


def next_step_at(now: float) -> float:
    """Just after the next 5-minute boundary."""
    return (now // CADENCE_S + 1) * CADENCE_S + AFTER_BOUNDARY_S
