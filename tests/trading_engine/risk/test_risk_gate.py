"""RiskGate: every limit that refuses an entry or demands a flatten."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

from regime.contracts import ExitReason
from trading_engine.config import Blackout, RiskConfig
from trading_engine.instruments import contract
from trading_engine.risk.risk_gate import RiskGate

CL = contract("CL")  # CME hours: daily break 17:00-18:00 New York
# Tuesday 2026-01-13 15:00 UTC = 10:00 New York (EST): two hours before the 17:00 ET break is 7 h away.
TUE_10_ET = datetime(2026, 1, 13, 15, 0, tzinfo=UTC).timestamp()
CFG = RiskConfig(
    max_position=1,
    max_daily_loss_usd=100.0,
    max_orders_per_minute=2,
    no_entry_before_break_minutes=10,
    flatten_before_break_minutes=2,
    max_quote_age_s=30.0,
)


def test_entry_allowed_in_normal_conditions() -> None:
    gate = RiskGate(CFG, CL)
    assert gate.entry_block(TUE_10_ET, TUE_10_ET, 0, 1) is None
    assert gate.flatten_reason(TUE_10_ET, Decimal(0), 0.0) is None


def test_max_position_counts_working_orders() -> None:
    gate = RiskGate(CFG, CL)
    assert "max position" in (gate.entry_block(TUE_10_ET, TUE_10_ET, 1, 1) or "")


def test_orders_per_minute_limit_rolls() -> None:
    gate = RiskGate(CFG, CL)
    gate.record_entry(TUE_10_ET)
    gate.record_entry(TUE_10_ET + 10)
    assert "per minute" in (gate.entry_block(TUE_10_ET + 20, TUE_10_ET + 20, 0, 1) or "")
    assert gate.entry_block(TUE_10_ET + 60.5, TUE_10_ET + 60.5, 0, 1) is None


def test_no_entry_near_the_daily_break_and_flatten_closer_still() -> None:
    gate = RiskGate(CFG, CL)
    brk = datetime(2026, 1, 13, 22, 0, tzinfo=UTC).timestamp()  # 17:00 New York in January
    assert gate.entry_block(brk - 11 * 60, brk - 11 * 60, 0, 1) is None
    assert "daily break" in (gate.entry_block(brk - 9 * 60, brk - 9 * 60, 0, 1) or "")
    assert gate.flatten_reason(brk - 3 * 60, Decimal(0), 0.0) is None
    assert gate.flatten_reason(brk - 90, Decimal(0), 0.0) is ExitReason.FLATTEN


def test_daily_loss_flattens_and_blocks_until_the_next_day() -> None:
    gate = RiskGate(CFG, CL)
    assert gate.flatten_reason(TUE_10_ET, Decimal("-60"), -4.0) is ExitReason.FLATTEN  # -60 - 40 USD
    assert gate.entry_block(TUE_10_ET + 1, TUE_10_ET + 1, 0, 1) == "daily loss limit reached"
    assert gate.flatten_reason(TUE_10_ET + 2, Decimal("-60"), 0.0) is ExitReason.FLATTEN  # latched
    next_day = TUE_10_ET + 24 * 3600  # after the break: the day's loss counts from the net at its start
    assert gate.flatten_reason(next_day, Decimal("-60"), 0.0) is None
    assert gate.entry_block(next_day, next_day, 0, 1) is None
    assert gate.flatten_reason(next_day + 5, Decimal("-150"), 0.0) is None  # -90 today
    assert gate.flatten_reason(next_day + 6, Decimal("-161"), 0.0) is ExitReason.FLATTEN


def test_kill_switch_flattens_and_halts_for_good() -> None:
    gate = RiskGate(CFG, CL)
    gate.engage_kill(TUE_10_ET, "ssm")
    assert gate.flatten_reason(TUE_10_ET, Decimal(0), 0.0) is ExitReason.KILL
    assert "kill switch" in (gate.entry_block(TUE_10_ET + 86400, TUE_10_ET + 86400, 0, 1) or "")


def test_shutdown_flattens() -> None:
    gate = RiskGate(CFG, CL)
    gate.begin_shutdown()
    assert gate.flatten_reason(TUE_10_ET, Decimal(0), 0.0) is ExitReason.FLATTEN
    assert gate.entry_block(TUE_10_ET, TUE_10_ET, 0, 1) == "shutting down"


def test_stale_quote_blocks_entry() -> None:
    gate = RiskGate(CFG, CL)
    assert "stale quote" in (gate.entry_block(TUE_10_ET, TUE_10_ET - 31, 0, 1) or "")


def test_blackout_window() -> None:
    wednesday = Blackout(("wed",), time(10, 25), time(10, 40), "America/New_York")
    gate = RiskGate(RiskConfig(blackout=(wednesday,)), CL)
    wed_1030 = datetime(2026, 1, 14, 15, 30, tzinfo=UTC).timestamp()  # 10:30 New York
    assert "blackout" in (gate.entry_block(wed_1030, wed_1030, 0, 1) or "")
    assert gate.entry_block(wed_1030 + 11 * 60, wed_1030 + 11 * 60, 0, 1) is None
    tue_1030 = wed_1030 - 86400
    assert gate.entry_block(tue_1030, tue_1030, 0, 1) is None
