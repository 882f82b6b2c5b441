"""How `run` and `demo` get a monitor: the command-line options, attaching it to a session, serving it.

`--monitor-port` (default 8750; 0: no monitor) and `--monitor-host` (default 127.0.0.1: this machine only;
any other address needs the token, see access.py). A monitor that cannot start (port taken) is reported
on the console and in the log, and the host trades on without it: the page is a view, not a duty.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from trader_host.monitor.access import MonitorAccess
from trader_host.monitor.server import MonitorServer, MonitorUnavailable
from trader_host.monitor.tap import MonitorTap
from trader_host.monitor.view import MonitorView
from trading_engine.session import TradingSession

log = logging.getLogger(__name__)
DEFAULT_PORT = 8750


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be in 0..65535 (0: no monitor), got {port}")
    return port


def add_monitor_arguments(parser: Any) -> None:
    """The live monitor's options, on `run` and `demo`."""
    parser.add_argument(
        "--monitor-port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"live monitor page port (default {DEFAULT_PORT}; 0: no monitor)",
    )
    parser.add_argument(
        "--monitor-host",
        default="127.0.0.1",
        help="address the monitor listens on (default 127.0.0.1; any other needs the token, "
        "from $REGIME_TRADER_MONITOR_TOKEN or generated and printed)",
    )


def monitor_arguments(args: argparse.Namespace) -> list[str]:
    """The same options as a command line (the demo hands them to `run`'s parser)."""
    return ["--monitor-port", str(args.monitor_port), "--monitor-host", args.monitor_host]


def attach_monitor(
    session: TradingSession, host: str, port: int, env: Mapping[str, str] | None = None
) -> MonitorServer | None:
    """A monitor for `session` (its tap attached; not listening yet), or None when `port` is 0."""
    if port == 0:
        return None
    access = MonitorAccess.for_host(host, os.environ if env is None else env)
    tap = MonitorTap(session.trader, session.regime)
    session.observer = tap
    return MonitorServer(MonitorView(session, tap), tap, access, host, port)


@asynccontextmanager
async def serving(monitor: MonitorServer | None, session: TradingSession) -> AsyncIterator[None]:
    """Serve `monitor` (printing its address) for the duration of the block."""
    if monitor is not None:
        try:
            await monitor.start()
        except MonitorUnavailable as exc:
            log.error("monitor not serving: %s", exc)
            print(f"monitor: NOT serving ({exc}); trading on without it", flush=True)
            session.observer = None
            monitor = None
        else:
            print(f"monitor: {monitor.url}", flush=True)
    try:
        yield
    finally:
        if monitor is not None:
            await monitor.close()
