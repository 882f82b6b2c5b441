"""The IB connector: the same session through the fake IB Gateway (TWS socket API, unmodified ib_insync)
and through the sim broker.

Figures, for one synthetic session of CL traded under a fixed range regime, on the virtual clock:
- tick-to-order through the gateway: wall time from a tick's bytes written by the gateway to the order
  they caused read back from the socket (ib_insync decode, adapter, strategy, order encode, loopback),
  median and p99;
- the session's per-tick decision latency (event in -> commands sent) through each broker;
- fills per second and events per second of wall time through each broker (how fast a session replays).

Run: `.venv/bin/python -m bench ib_gateway` (about half a minute); figures in bench/results/ib_gateway.json.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.results import percentiles_us, write_results
from devkit.fake_gateway.server import FakeGateway
from trader_host.assembly.broker_choice import IbOverrides
from trader_host.assembly.live_host import LiveHost, assemble
from trader_host.cli import build_parser
from trader_host.commands.market_data import load_market_data
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import load_config
from trading_engine.fees import fee_schedule
from trading_engine.instruments import SYNTHETIC_SESSION, contract

MARKET = ["--synthetic-days", "1", "--seed", "3"]
SESSION = ["--no-cloud", "--regime", "range", "--minutes", "1200"]


def figures(host: LiveHost, wall_s: float) -> dict[str, Any]:
    session = host.session
    fills = len(session.trader.fills())
    return {
        "fills": fills,
        "events": session.events,
        "wall_s": round(wall_s, 2),
        "fills_per_s": round(fills / wall_s, 1),
        "events_per_s": round(session.events / wall_s, 1),
        "tick_decision": percentiles_us(session.tick_latency_s),
    }


def through_sim(state: Path) -> tuple[LiveHost, dict[str, Any]]:
    host = assemble(build_parser().parse_args(["run", "--state-dir", str(state), *MARKET, *SESSION]))
    start = time.perf_counter()
    asyncio.run(host.session.run())
    wall = time.perf_counter() - start
    host.close()
    return host, figures(host, wall)


async def _gateway_session(state: Path) -> tuple[LiveHost, FakeGateway, float]:
    market = load_market_data(build_parser().parse_args(["run", *MARKET])).market
    assert market is not None
    config = load_config(None)
    spec = contract("CL").with_session(SYNTHETIC_SESSION)
    gw = FakeGateway(
        MarketTape.from_synthetic(market), spec, fee_schedule(config.fees.schedule, spec.symbol), config.sim
    )
    port = await gw.start()
    try:
        argv = ["run", "--broker", "ib", "--port", str(port), "--state-dir", str(state), *SESSION]
        host = assemble(build_parser().parse_args(argv), IbOverrides(gw.clock, spec))
        start = time.perf_counter()
        await host.session.run()
        wall = time.perf_counter() - start
        host.close()
    finally:
        await gw.close()
    return host, gw, wall


def through_gateway(state: Path) -> tuple[LiveHost, dict[str, Any]]:
    host, gw, wall = asyncio.run(_gateway_session(state))
    out = figures(host, wall)
    out["tick_to_order"] = percentiles_us(gw.tick_to_order_s)
    return host, out


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("trader_host").setLevel(logging.ERROR)  # the session's own warnings are not figures
    with tempfile.TemporaryDirectory() as tmp:
        sim_host, sim = through_sim(Path(tmp) / "sim")
        print(f"sim broker:       {sim}")
        ib_host, ib = through_gateway(Path(tmp) / "ib")
        print(f"fake IB gateway:  {ib}")
    same = [f.execution_id for f in sim_host.session.trader.fills()] == [
        f.execution_id for f in ib_host.session.trader.fills()
    ]
    print(f"same fills through both: {same}")
    write_results("ib_gateway", {"sim_broker": sim, "fake_ib_gateway": ib, "same_fills": same})


if __name__ == "__main__":
    main()
