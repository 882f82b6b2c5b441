"""`regime-trader run`: the live host, built by `trader_host.assembly` and served until it stops.

The host (`assemble`): the broker adapter (`--broker sim`: the simulated broker on a virtual or real-pace
clock, with its own books on disk so that it outlives the host as a real broker does; `--broker ib`:
Interactive Brokers), the Trader, the journal, and the cloud adapters named by the stack's outputs; then the
TradingSession. At start the journal is replayed (position, the day's P&L) and the broker reconciled. Ctrl-C
and SIGTERM flatten and stop; a failure flattens and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from regime.contracts import Regime
from trader_host.assembly.live_host import LiveHost, assemble
from trader_host.broker.ib.config import add_ib_arguments
from trader_host.commands.market_data import add_market_arguments
from trader_host.monitor.attach import add_monitor_arguments, serving
from trader_host.state_folder import StateFolderInUse
from trading_engine.config import ConfigError
from trading_engine.execution.money import usd
from trading_engine.fees import SCHEDULES


def register(p: argparse.ArgumentParser) -> None:
    """The subcommand's arguments."""
    p.add_argument("--broker", choices=("sim", "ib"), default="sim", help="broker adapter")
    add_ib_arguments(p)
    add_market_arguments(p)
    p.add_argument("--pace", type=float, help="sim clock: times real time (1 = real time; default: virtual)")
    p.add_argument(
        "--minutes",
        type=float,
        help="stop (flat) after this many minutes of market time: the sim's clock (virtual, or --pace times "
        "real time); with --broker ib, the market's own clock, which is wall time",
    )
    cloud = p.add_mutually_exclusive_group()
    cloud.add_argument(
        "--stack-outputs",
        help="the cloud's names: a JSON file (`python -m devkit.local_cloud status`) or a stack name",
    )
    cloud.add_argument("--no-cloud", action="store_true", help="standalone: a local journal only")
    p.add_argument(
        "--regime",
        choices=[r.value for r in Regime],
        help="trade under this fixed regime instead of the cloud's decisions (required with --no-cloud)",
    )
    p.add_argument("--config", type=Path, help="strategy config (default: config/strategy.toml)")
    p.add_argument(
        "--fees",
        choices=SCHEDULES,
        help="the sim broker's fees: the article's CL presets retail|tiered|none, or IBKR's published fees "
        "for the symbol ib-fixed|ib-tiered (default: from the config; IB's own come from its reports)",
    )
    p.add_argument("--state-dir", type=Path, help="journal, spools, sim books (default: [cloud] state_dir)")
    p.add_argument(
        "--metric-lines",
        type=Path,
        metavar="FILE",
        help="append the EMF lines of the metrics no alarm reads to FILE instead of stdout (on the EC2 host "
        "stdout is host.log, which the CloudWatch agent ships; never written to a terminal)",
    )
    p.add_argument(
        "--evidence",
        type=Path,
        help="--broker ib: the evidence record (`regime-trader evaluate` or `sweep`) that this strategy "
        "config and model earned out of sample; a live account refuses to start without it",
    )
    p.add_argument(
        "--accept-unproven",
        action="store_true",
        help="--broker ib: trade a live account without such evidence (logged at every start, shown on "
        "the monitor page)",
    )
    add_monitor_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Assemble the host and serve it: 0 at a clean end, 1 after a failure, 2 when it cannot start."""
    try:
        host = assemble(args)
    except (ConfigError, ValueError, OSError, StateFolderInUse) as exc:
        print(f"regime-trader run: {exc}")
        return 2
    return asyncio.run(_serve(host))


async def _serve(host: LiveHost) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(host.banner, flush=True)
    session = host.session
    try:
        async with serving(host.monitor, session):
            await session.run(stop)
    finally:
        host.close()
    snap = session.trader.snapshot()
    if session.failure is not None:
        why = "failure"
    elif stop.is_set():
        why = "a signal"
    elif snap.risk.kill_reason is not None:
        why = f"kill switch: {snap.risk.kill_reason}"
    elif session.stop_at is not None and session.broker.now() >= session.stop_at:
        why = "--minutes"
    else:
        why = "the end of the data"
    print(
        f"session over ({why}): position {snap.position}, {snap.fills} fill(s), "
        f"{snap.round_trips} round trip(s), realised net {usd(snap.realised_net_usd)} USD",
        flush=True,
    )
    if session.failure is not None:
        print(f"FAILED: {session.failure}", flush=True)
        return 1
    return 0
