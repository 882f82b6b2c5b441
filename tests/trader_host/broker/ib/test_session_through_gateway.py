"""A session through the fake IB Gateway trades exactly as the same session through the sim broker."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from trader_host.broker.ib.fake_gateway.server import FakeGateway
from trader_host.broker.sim.market_tape import MarketTape
from trader_host.cli import build_parser
from trader_host.commands.market_data import load_market_data
from trader_host.commands.run import LiveHost, assemble
from trader_host.config import load_config
from trader_host.fees import fee_schedule

from .conftest import SPEC

MARKET = ["--synthetic-days", "1", "--seed", "11"]
COMMON = ["--no-cloud", "--regime", "range", "--minutes", "300"]


def fills(host: LiveHost) -> list[tuple[str, str, str, int, Decimal, Decimal]]:
    return [
        (f.execution_id, f.order_id, str(f.side), f.qty, f.price, f.commission_usd)
        for f in host.session.trader.ledger.fills
    ]


async def through_gateway(tmp_path: Path) -> tuple[LiveHost, FakeGateway]:
    args = build_parser().parse_args(["run", *MARKET])
    market = load_market_data(args).market
    assert market is not None
    config = load_config(None)
    gw = FakeGateway(MarketTape.from_synthetic(market), SPEC, fee_schedule(config.fees.schedule), config.sim)
    port = await gw.start()
    try:
        argv = ["run", "--broker", "ib", "--port", str(port), "--state-dir", str(tmp_path / "ib"), *COMMON]
        host = assemble(build_parser().parse_args(argv), ib_clock=gw.clock, ib_spec=SPEC)
        try:
            await host.session.run()
        finally:
            host.journal.close()
    finally:
        await gw.close()
    return host, gw


@pytest.mark.slow
def test_the_same_session_through_the_gateway_and_the_sim_broker_has_the_same_fills(tmp_path: Path) -> None:
    argv = ["run", "--state-dir", str(tmp_path / "sim"), *MARKET, *COMMON]
    sim = assemble(build_parser().parse_args(argv))
    asyncio.run(sim.session.run())
    sim.journal.close()

    ib, gw = asyncio.run(through_gateway(tmp_path))

    assert sim.session.failure is None and ib.session.failure is None
    assert len(fills(sim)) >= 6  # enough trading for the comparison to mean something
    assert fills(ib) == fills(sim)
    assert ib.session.trader.position == sim.session.trader.position == 0
    assert ib.session.trader.ledger.realised_net_usd == sim.session.trader.ledger.realised_net_usd
    assert {month for month, _ in gw.placed} == {"CLG6"}  # the front month of the gateway's listing
