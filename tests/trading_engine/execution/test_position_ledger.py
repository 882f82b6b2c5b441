"""PositionLedger: exact P&L in ticks then USD, fees on every execution, flips split correctly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from regime.contracts import ExitReason, Regime, Role, Side
from trading_engine.broker.port import Execution
from trading_engine.execution.ledger import FillContext, PositionLedger
from trading_engine.fees import TIERED
from trading_engine.instruments import contract

ENTRY = FillContext(Role.ENTRY, Regime.RANGE, -2.1, None)
EXIT = FillContext(Role.EXIT, Regime.RANGE, 0.0, ExitReason.TARGET)
FOREIGN = FillContext(None, Regime.NOTHING, 0.0, None)  # an order the host does not know


def _ex(n: int, side: Side, qty: int, price: int) -> Execution:
    return Execution(1000.0 + n, f"x{n}", f"o{n}", side, qty, price, TIERED.for_fill(qty))


def test_round_trip_pnl_in_ticks_then_usd_with_fees() -> None:
    ledger = PositionLedger(contract("CL"))
    fill, closed = ledger.apply(_ex(1, Side.BUY, 1, 7000), ENTRY)
    assert fill.price == Decimal("70.00") and fill.role is Role.ENTRY and fill.regime is Regime.RANGE
    assert closed == [] and ledger.position == 1
    _, closed = ledger.apply(_ex(2, Side.SELL, 1, 7003), EXIT)
    (trip,) = closed
    assert trip.pnl_ticks == 3
    assert trip.gross_usd == Decimal("30")  # CL: 10 USD a tick
    assert trip.fees_usd == Decimal("2.84")  # tiered: 1.42 a side
    assert trip.net_usd == Decimal("27.16")
    assert trip.exit_reason is ExitReason.TARGET and trip.side is Side.BUY
    assert trip.entry_execution_ids == ("x1",) and trip.exit_execution_ids == ("x2",)
    assert ledger.realised_net_usd == trip.net_usd and ledger.position == 0


def test_short_with_partial_fills_averages_exactly() -> None:
    ledger = PositionLedger(contract("MCL"))
    ledger.apply(_ex(1, Side.SELL, 1, 7000), ENTRY)
    ledger.apply(_ex(2, Side.SELL, 2, 7003), ENTRY)
    assert ledger.position == -3
    assert ledger.unrealised_ticks(7000) == pytest.approx(6.0)
    ledger.apply(_ex(3, Side.BUY, 2, 6999), EXIT)
    _, closed = ledger.apply(_ex(4, Side.BUY, 1, 7001), EXIT)
    (trip,) = closed
    # entries 7000 + 2*7003 = 21006; exits 2*6999 + 7001 = 20999; short: +7 ticks
    assert trip.pnl_ticks == 7 and trip.gross_usd == Decimal("7") and trip.qty == 3
    assert trip.fees_usd == Decimal("1.42") * 6
    assert trip.entry_price == Decimal("70.02")
    assert trip.exit_price == Decimal("69.996667")


def test_a_flip_closes_the_trip_and_opens_a_new_one_with_split_fees() -> None:
    ledger = PositionLedger(contract("CL"))
    ledger.apply(_ex(1, Side.BUY, 1, 7000), ENTRY)
    _, closed = ledger.apply(_ex(2, Side.SELL, 3, 7002), EXIT)
    assert len(closed) == 1 and ledger.position == -2
    assert closed[0].fees_usd == Decimal("1.42") + (Decimal("4.26") / 3).quantize(Decimal("0.000001"))
    _, closed2 = ledger.apply(_ex(3, Side.BUY, 2, 7002), EXIT)
    assert closed2[0].trip_id != closed[0].trip_id
    assert ledger.realised_net_usd == sum(t.net_usd for t in ledger.round_trips)


def test_a_foreign_fill_takes_its_role_from_its_effect_on_the_position() -> None:
    ledger = PositionLedger(contract("CL"))
    roles = [
        ledger.apply(_ex(n, side, qty, 7000), FOREIGN)[0].role
        for n, (side, qty) in enumerate([(Side.SELL, 1), (Side.SELL, 1), (Side.BUY, 1), (Side.BUY, 3)])
    ]
    # opens, adds, reduces, then closes and flips (closing comes first, so the flip is an exit)
    assert roles == [Role.ENTRY, Role.ENTRY, Role.EXIT, Role.EXIT] and ledger.position == 2
    assert ledger.apply(_ex(9, Side.BUY, 1, 7000), FOREIGN)[0].role is Role.ENTRY


def test_rejects_a_non_positive_quantity() -> None:
    with pytest.raises(ValueError, match="qty"):
        PositionLedger(contract("CL")).apply(_ex(1, Side.BUY, 0, 7000), ENTRY)
