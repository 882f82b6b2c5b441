"""Serve the fake IB Gateway to other processes: `python -m devkit.fake_gateway`.

The market is a synthetic session on the wall clock, `--pace` times real time, so that
`regime-trader run --broker ib --port N` can be tried without an IB account. Prints the port it listens on;
stops on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from datetime import UTC, datetime

from devkit.fake_gateway.script import GatewayScript, months_after
from devkit.fake_gateway.server import FakeGateway
from regime.synthetic import synthetic_days
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import load_config
from trading_engine.fees import fee_schedule
from trading_engine.instruments import SYNTHETIC_SESSION, contract


async def serve(args: argparse.Namespace) -> None:
    config = load_config(None)
    tape = MarketTape.from_synthetic(synthetic_days(args.synthetic_days, seed=args.seed))
    spec = contract("CL").with_session(SYNTHETIC_SESSION)
    script = GatewayScript(months=months_after(datetime.now(UTC).date()))  # its clients are on the wall clock
    gw = FakeGateway(
        tape, spec, fee_schedule(config.fees.schedule, spec.symbol), config.sim, script=script, pace=args.pace
    )
    port = await gw.start(args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"fake IB gateway on 127.0.0.1:{port} (synthetic CL, x{args.pace:g} real time)", flush=True)
    try:
        await stop.wait()
    finally:
        await gw.close()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m devkit.fake_gateway", description=__doc__)
    p.add_argument("--port", type=int, default=0, help="TCP port (0: any free one)")
    p.add_argument("--pace", type=float, default=60.0, help="market time per wall-clock time")
    p.add_argument("--synthetic-days", type=int, default=1)
    p.add_argument("--seed", type=int, default=7)
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(p.parse_args()))


if __name__ == "__main__":
    main()
