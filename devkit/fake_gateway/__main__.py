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
import time
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
    tape = MarketTape.from_synthetic(synthetic_days(args.synthetic_days, seed=args.seed, symbol=args.symbol))
    spec = contract(args.symbol).with_session(SYNTHETIC_SESSION)
    multiplier = str(int(spec.tick_value_usd / spec.tick_size))  # 1000 barrels CL, 100 MCL
    months = months_after(datetime.now(UTC).date(), args.symbol, multiplier=multiplier)  # on the wall clock
    script = GatewayScript(months=months)
    shift = (int(time.time()) - int(tape.time[0])) // 60 * 60  # the tape as of now: its times, the listing's
    fees = fee_schedule(config.fees.schedule, spec.symbol)
    gw = FakeGateway(tape, spec, fees, config.sim, script=script, pace=args.pace, shift_s=shift)
    port = await gw.start(args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(
        f"fake IB gateway on 127.0.0.1:{port} (synthetic {args.symbol}, x{args.pace:g} real time)", flush=True
    )
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
    p.add_argument("--symbol", choices=("CL", "MCL"), default="CL", help="the future it lists and trades")
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(p.parse_args()))


if __name__ == "__main__":
    main()
