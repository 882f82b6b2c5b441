"""Fees per instrument: IBKR's published commissions plus exchange fees; the article's presets by name."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trading_engine.fees import NO_FEES, RETAIL, TIERED, fee_schedule, instrument_fees, preset_mismatch
from trading_engine.instruments import contract


def test_published_fees_per_instrument() -> None:
    assert instrument_fees("CL", "ib-fixed").per_side_usd == Decimal("2.32")  # 0.85 + 1.45 + 0.02 NFA
    assert instrument_fees("MCL", "ib-tiered").per_side_usd == Decimal("0.54")  # 0.25 + 0.27 + 0.02
    assert instrument_fees("MES", "ib-fixed").per_side_usd == Decimal("0.62")  # 0.25 + 0.35 + 0.02
    assert fee_schedule("ib-tiered", "mcl").name == "ib-tiered MCL"


@pytest.mark.parametrize(
    ("volume", "cl", "mes"),
    [
        (0, "0.85", "0.25"),
        (999, "0.85", "0.25"),
        (1_000, "0.65", "0.20"),
        (15_000, "0.45", "0.15"),
        (20_000, "0.25", "0.10"),
    ],
)
def test_tiered_commission_follows_the_monthly_volume(volume: int, cl: str, mes: str) -> None:
    assert instrument_fees("CL", "ib-tiered", volume).commission_usd == Decimal(cl)
    assert instrument_fees("MES", "ib-tiered", volume).commission_usd == Decimal(mes)


def test_the_cl_presets_cost_ten_times_more_ticks_on_mcl() -> None:
    mcl = contract("MCL")
    preset_ticks = TIERED.per_side_usd / mcl.tick_value_usd
    own_ticks = fee_schedule("ib-tiered", "MCL").per_side_usd / mcl.tick_value_usd
    assert preset_ticks == Decimal("1.42") and own_ticks == Decimal("0.54")
    assert fee_schedule("retail") is RETAIL and fee_schedule("tiered", "MES") is TIERED  # by name, unchanged


def test_bad_names_say_what_exists() -> None:
    choices = "presets: retail, tiered, none; per instrument: ib-fixed, ib-tiered"
    with pytest.raises(ValueError, match=choices):
        fee_schedule("cheap")
    with pytest.raises(ValueError, match="give the symbol"):
        fee_schedule("ib-fixed")
    with pytest.raises(ValueError, match="no published fees for 'ZZ'"):
        instrument_fees("ZZ", "ib-fixed")
    with pytest.raises(ValueError, match="unknown plan"):
        instrument_fees("CL", "ib-cheap")


def test_a_cl_preset_on_another_symbol_is_named_as_a_mismatch() -> None:
    assert preset_mismatch(TIERED, "CL") is None and preset_mismatch(NO_FEES, "MCL") is None
    assert preset_mismatch(fee_schedule("ib-tiered", "MCL"), "MCL") is None
    message = preset_mismatch(RETAIL, "MCL")
    assert message is not None and "'retail' holds CL figures" in message and "ib-tiered" in message
