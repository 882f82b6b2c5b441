"""IB adapter test fixtures: ib_insync's own warnings and errors fail a test unless it expects them.

ib_insync's decoder only logs a message whose fields it cannot read, so a fake gateway that gets a field
wrong would pass silently without this.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from devkit.fake_gateway.script import GatewayScript
from devkit.fake_gateway.server import FakeGateway
from regime.synthetic import synthetic_days
from trader_host.broker.ib.ib_api import LIBRARY_LOGGERS
from trading_engine.broker.sim.faults import NO_FAULTS, FaultPlan
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import load_config
from trading_engine.fees import fee_schedule
from trading_engine.instruments import SYNTHETIC_SESSION, ContractSpec, contract

SPEC = contract("CL").with_session(SYNTHETIC_SESSION)


class IbLogWatch(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.expected: list[str] = []  # regexes of the warnings and errors a test provokes
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def expect(self, *patterns: str) -> None:
        self.expected.extend(patterns)

    def unexpected(self) -> list[str]:
        out = []
        for r in self.records:
            text = r.getMessage()
            if not any(re.search(p, text) for p in self.expected):
                out.append(f"{r.name} {r.levelname}: {text}")
        return out

    def seen(self, pattern: str) -> bool:
        return any(re.search(pattern, r.getMessage()) for r in self.records)


@pytest.fixture(autouse=True)
def ib_logs() -> Iterator[IbLogWatch]:
    watch = IbLogWatch()
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    for lg in loggers:
        lg.addHandler(watch)
    try:
        yield watch
    finally:
        for lg in loggers:
            lg.removeHandler(watch)
    bad = watch.unexpected()
    assert not bad, "ib_insync logged what this test did not expect:\n" + "\n".join(bad)


def market_tape(days: int = 1, seed: int = 11) -> MarketTape:
    return MarketTape.from_synthetic(synthetic_days(days, seed=seed))


def gateway(
    tape: MarketTape | None = None,
    script: GatewayScript | None = None,
    faults: FaultPlan = NO_FAULTS,
    spec: ContractSpec = SPEC,
) -> FakeGateway:
    config = load_config(None)
    return FakeGateway(
        tape or market_tape(), spec, fee_schedule(config.fees.schedule), config.sim, faults, script
    )
