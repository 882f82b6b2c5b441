"""Config file, contract specs and fee presets."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from regime.contracts.zscore_window import ZSCORE_WINDOW_BARS
from trading_engine.config import ConfigError, RiskConfig, load_config, parse_config, with_strategy_overrides
from trading_engine.fees import RETAIL, TIERED, fee_schedule
from trading_engine.instruments import CME_GLOBEX, SYNTHETIC_SESSION, UnknownInstrument, contract
from trading_engine.risk.risk_gate import RiskGate


def test_the_shipped_config_holds_the_article_parameters() -> None:
    cfg = load_config()
    s = cfg.strategy
    assert (s.z_thresh, s.z_thresh_up, s.z_target, s.stop_offset_ticks) == (2.0, 0.5, 0.2, 4)
    assert cfg.fees.schedule in ("retail", "tiered")
    assert cfg.risk.blackout and cfg.risk.blackout[0].days == ("wed",)
    # The trigger's window is the model's z-score feature window unless the file sets another.
    assert s.lookback_bars == ZSCORE_WINDOW_BARS


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"strategy": {"z_thres": 2.0}}, r"\[strategy\]: unknown key\(s\) z_thres"),
        ({"strategy": {"lookback_bars": "20"}}, r"strategy.lookback_bars: expected int"),
        ({"strategy": {"z_target": 3.0}}, r"strategy.z_target: must be in \[0, z_thresh\)"),
        ({"risk": {"max_position": 0}}, r"risk.max_position"),
        ({"risk": {"blackout": [{"days": ["xyz"], "start": "10:00", "end": "11:00"}]}}, r"unknown day"),
        ({"risk": {"blackout": [{"days": ["wed"], "start": "11:00", "end": "10:00"}]}}, r"must be after"),
        ({"execution": {"stop_exit": "limit"}}, r"execution.stop_exit: .*market \(got 'limit'\)"),
        ({"strateg": {}}, r"unknown section"),
        ({"strategy": {"z_thresh": float("inf")}}, r"strategy.z_thresh: expected a finite number, got inf"),
    ],
)
def test_bad_config_names_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(data)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[strategy\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_contract_specs() -> None:
    cl, mcl, mes = contract("CL"), contract("mcl"), contract("MES")
    assert cl.tick_size == Decimal("0.01") and cl.tick_value_usd == Decimal("10")
    assert mcl.tick_value_usd == Decimal("1") and mes.tick_size == Decimal("0.25")
    assert mes.tick_value_usd == Decimal("1.25")
    assert cl.to_ticks(70.07) == 7007 and cl.price(7007) == Decimal("70.07")
    assert mes.to_ticks("4500.25") == 18001
    with pytest.raises(ValueError, match="tick grid"):
        mes.to_ticks(4500.1)
    with pytest.raises(UnknownInstrument, match="known: CL, MCL, MES"):
        contract("ZZ")


def test_cme_session_hours_follow_new_york_time() -> None:
    # 2026-01-13 is a Tuesday; EST = UTC-5, so the break is 22:00-23:00 UTC.
    assert CME_GLOBEX.is_open(datetime(2026, 1, 13, 21, 59, tzinfo=UTC).timestamp())
    assert not CME_GLOBEX.is_open(datetime(2026, 1, 13, 22, 30, tzinfo=UTC).timestamp())
    # In July (EDT = UTC-4) the break is an hour earlier in UTC.
    assert not CME_GLOBEX.is_open(datetime(2026, 7, 14, 21, 30, tzinfo=UTC).timestamp())
    saturday = datetime(2026, 1, 17, 12, 0, tzinfo=UTC).timestamp()
    assert not CME_GLOBEX.is_open(saturday)
    friday_close = datetime(2026, 1, 16, 22, 0, tzinfo=UTC).timestamp()
    assert CME_GLOBEX.next_close(friday_close - 60) == friday_close
    monday_close = datetime(2026, 1, 19, 22, 0, tzinfo=UTC).timestamp()
    assert CME_GLOBEX.next_close(saturday) == monday_close
    assert CME_GLOBEX.trading_date(datetime(2026, 1, 13, 23, 30, tzinfo=UTC).timestamp()) == date(2026, 1, 14)
    assert SYNTHETIC_SESSION.seconds_to_close(datetime(2026, 1, 13, 20, 0, tzinfo=UTC).timestamp()) == 3600


def test_the_synthetic_session_is_where_the_synthetic_market_trades() -> None:
    from regime.synthetic import synthetic_days

    bars = synthetic_days(2, seed=5, first_day=date(2026, 1, 9)).bars  # a Friday, then the weekend
    assert all(SYNTHETIC_SESSION.is_open(m * 60.0) for m in bars.minute.tolist())
    for _, stop in bars.segment_bounds():  # the minute after each session is the break or the weekend
        assert not SYNTHETIC_SESSION.is_open((int(bars.minute[stop - 1]) + 1) * 60.0)


def test_fee_presets_are_the_articles() -> None:
    assert RETAIL.per_side_usd == Decimal("2.30") and RETAIL.round_turn_usd == Decimal("4.60")
    assert TIERED.per_side_usd == Decimal("1.42") and TIERED.round_turn_usd == Decimal("2.84")
    assert TIERED.for_fill(3) == Decimal("4.26")
    assert fee_schedule("retail") is RETAIL
    with pytest.raises(ValueError, match="presets"):
        fee_schedule("vip")
    with pytest.raises(ValueError, match="qty"):
        TIERED.for_fill(0)


def test_the_default_daily_loss_limit_is_in_ticks_of_each_instrument() -> None:
    risk = load_config().risk
    limits = {s: RiskGate(risk, contract(s)).max_daily_loss_usd for s in ("CL", "MCL", "MES")}
    assert limits == {"CL": 300.0, "MCL": 30.0, "MES": 37.5}
    assert RiskConfig(max_position=2).daily_loss_limit_usd(contract("MCL").tick_value_usd) == 60.0
    assert RiskConfig(max_daily_loss_usd=250.0).daily_loss_limit_usd(contract("MES").tick_value_usd) == 250.0


def test_a_daily_loss_limit_that_is_not_a_positive_number_is_named() -> None:
    with pytest.raises(ConfigError, match=r"risk.max_daily_loss_usd"):
        parse_config({"risk": {"max_daily_loss_usd": "lots"}})
    with pytest.raises(ConfigError, match=r"risk.max_daily_loss_ticks"):
        parse_config({"risk": {"max_daily_loss_ticks": 0}})


def test_an_ssm_override_of_1e400_is_refused() -> None:
    # JSON's 1e400 parses as inf: accepted before, a trigger that never fires.
    with pytest.raises(ConfigError, match=r"/x/strategy-config: strategy.z_thresh: expected a finite number"):
        with_strategy_overrides(load_config(), json.loads('{"z_thresh": 1e400}'), "/x/strategy-config")
