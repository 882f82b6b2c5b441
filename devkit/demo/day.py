"""One simulated session through the real path: the host `run` assembles, trading what the cloud decides.

The host is built by `run`'s composition root (sim broker on its virtual clock, or at a real-time pace; the
cloud adapters named by the demo's stack outputs; no `--regime`, so the host trades the regime function's
decisions). The only addition is the CloudClock job that steps the local cloud in the host's time.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from devkit.demo.clock import CloudClock
from devkit.demo.cloud import DemoCloud
from regime.bar_file import symbol_from_name
from trader_host.assembly.live_host import LiveHost, assemble
from trader_host.cli import build_parser
from trader_host.monitor.attach import serving

# The host's EMF metric lines, kept in the state folder: on stdout they would bury the demo's own output.
METRIC_LINES = "metrics.emf.jsonl"


@dataclass(frozen=True)
class Market:
    """What to trade: synthetic sessions (days, seed) or a bars file from `start` for `days` days."""

    days: int
    seed: int
    bars: Path | None = None
    start: datetime | None = None

    @property
    def symbol(self) -> str:
        """What the host will trade: CL on synthetic sessions, else the file's symbol (MCL_1m_... -> MCL)."""
        return "CL" if self.bars is None else symbol_from_name(self.bars)

    def run_arguments(self) -> list[str]:
        if self.bars is None:
            return ["--synthetic-days", str(self.days), "--seed", str(self.seed)]
        if self.start is None:
            raise ValueError("--bars needs --start (the first day to trade)")
        end = self.start + timedelta(days=self.days)
        bars = ["--bars", str(self.bars), "--start", self.start.isoformat(), "--end", end.isoformat()]
        # The config's default fees are the article's CL preset: any other symbol pays its own (IBKR tiered).
        return bars if self.symbol == "CL" else [*bars, "--fees", "ib-tiered"]


@dataclass
class DayResult:
    host: LiveHost
    clock: CloudClock
    wall_s: float
    interrupted: bool = False  # Ctrl-C or SIGTERM: the session flattened and stopped early

    @property
    def host_s(self) -> float:
        """Wall time of the host itself: the session minus the cloud steps it awaited."""
        return self.wall_s - sum(self.clock.seconds.values())


def build_host(
    cloud: DemoCloud,
    state: Path,
    market: Market,
    *,
    pace: float | None = None,
    minutes: float | None = None,
    extra: Sequence[str] = (),
) -> tuple[LiveHost, CloudClock]:
    """The host `regime-trader run --stack-outputs <the demo's>` builds, with the cloud's clock job added."""
    argv = ["run", "--stack-outputs", str(cloud.outputs_file), "--state-dir", str(state)]
    argv += ["--metric-lines", str(state / METRIC_LINES)]  # no agent ships the demo's stdout: kept beside it
    argv += market.run_arguments()
    if pace is not None:
        argv += ["--pace", str(pace)]
    if minutes is not None:
        argv += ["--minutes", str(minutes)]
    argv += extra  # more of `run`'s options (the monitor's)
    host = assemble(build_parser().parse_args(argv))
    bars = host.session.bars
    if bars is None:
        raise RuntimeError("the host has no bar publisher: is the cloud attached?")
    clock = CloudClock(cloud.cloud, bars)
    host.session.jobs.append(clock.job())
    return host, clock


def run_day(host: LiveHost, clock: CloudClock) -> DayResult:
    """Run the session to its end (Ctrl-C: flatten and stop, as `run` does, and say so in the result); the
    journal is closed after."""
    quiet()
    started = time.perf_counter()
    try:
        interrupted = asyncio.run(_serve(host))
    finally:
        host.close()
    return DayResult(host, clock, time.perf_counter() - started, interrupted)


async def _serve(host: LiveHost) -> bool:
    """Run the session; True when a signal stopped it (flat, what was left shipped)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):  # as `run`: flatten, ship what is left, then stop
            loop.add_signal_handler(sig, stop.set)
    try:
        async with serving(host.monitor, host.session):
            await host.session.run(stop)
    finally:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
    return stop.is_set()


def quiet() -> None:
    """Per-order and per-invocation logs are for live operation; the demo prints its own progress."""
    for name in (
        "trader_host",
        "trading_engine",
        "devkit",
        "infra",
        "functions",
        "aws_lambda_powertools",
        "botocore",
        "regime",
        "regime_aws",
    ):
        logging.getLogger(name).setLevel(logging.WARNING)
