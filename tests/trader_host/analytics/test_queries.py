"""Every named query, transpiled to DuckDB and run on the hand-worked lake of hand_lake.py.

The expected figures come from the table in hand_lake.py's docstring, worked out by hand; each test says how.
The lake holds duplicates of a round trip, a fill, a decision and a bar, and one malformed line per record
table: a query that forgot to deduplicate would count T1 twice.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from trader_host.analytics.lake import FolderLake
from trader_host.analytics.local_athena import LocalAthena, query_names

D = Decimal


def test_the_lake_holds_the_duplicates_and_the_loader_counts_the_malformed_lines(athena: LocalAthena) -> None:
    # 5 trips + 1 redelivered; 10 fills + 1; 7 decisions + 1; 90 bars + 1; 14 orders + 1 + o4a's
    # first word (revised); 2 risk events + 1.
    # One malformed line in each table but bars.
    assert {t: athena.count(t) for t in athena.loads} == {
        "round_trips": 6,
        "fills": 11,
        "regimes": 8,
        "bars": 91,
        "orders": 16,
        "risk_events": 3,
    }
    assert athena.malformed == {
        "bars": 0,
        "fills": 1,
        "round_trips": 1,
        "regimes": 1,
        "orders": 1,
        "risk_events": 1,
    }


def test_trade_statistics_is_the_articles_table(athena: LocalAthena) -> None:
    (row,) = athena.run("trade_statistics").records()
    # Wins T1 (+3) and T4 (+10 on 2 contracts = +5 each): avg +4. Losses T2 (-4), T5 (-29): avg -16.5.
    assert (row["round_trips"], row["wins"], row["losses"], row["scratches"]) == (5, 2, 2, 1)
    assert (row["win_share"], row["loss_share"], row["scratch_share"]) == (0.4, 0.4, 0.2)
    assert (row["avg_win_ticks"], row["avg_loss_ticks"]) == (4.0, -16.5)
    assert row["ticks_per_trip"] == -5.0  # (3 - 4 + 0 + 5 - 29) / 5
    assert (row["hours"], row["round_turns_per_hour"]) == (1.5, 3.3333)  # 90 distinct bar minutes; 5 / 1.5
    # Nominal: (60.00+60.03 + 60.10+60.14 + 60.20+60.20 + 2*(61.00+60.95) + 61.00+61.29) * 1000 = 726,860
    # over 3 trading days.
    assert (row["trading_days"], row["nominal_usd_per_day"]) == (3, 242286.67)
    assert (row["gross_usd"], row["fees_usd"], row["net_usd"]) == (D("-200"), D("17.04"), D("-217.04"))
    assert row["return_on_margin"] == -0.043408  # -217.04 / 5,000


def test_daily_pnl_equity_drawdown_and_the_loss_limit_day(athena: LocalAthena) -> None:
    rows = athena.run("daily_pnl").records()
    assert [r["trading_day"] for r in rows] == [date(2026, 1, 15), date(2026, 1, 16), date(2026, 1, 20)]
    assert [r["net_usd"] for r in rows] == [D("-18.52"), D("94.32"), D("-292.84")]
    assert [r["equity_usd"] for r in rows] == [D("-18.52"), D("75.80"), D("-217.04")]
    # Day 1: peak 27.16 after T1, then -15.68, -18.52: drawdown 45.68. Day 3: 75.80 -> -217.04.
    assert [r["drawdown_usd"] for r in rows] == [D("45.68"), D("0"), D("292.84")]
    assert [r["max_drawdown_usd"] for r in rows] == [D("45.68"), D("45.68"), D("292.84")]
    # From the gate's events, each once (the loss-limit event was delivered twice): the loss limit on
    # 01-20 at a day net of -301.42 (T5 open at -30 ticks), the kill on 01-16.
    assert [r["loss_limit_stop"] for r in rows] == [False, False, True]
    assert [r["loss_limit_day_net_usd"] for r in rows] == [None, None, D("-301.42")]
    assert [r["killed"] for r in rows] == [False, True, False]


def test_daily_pnl_takes_the_stops_from_the_events_only(tmp_path: Path, hand_lake: Path) -> None:
    # Without the gate's events, T5's day is no loss-limit day: nothing is inferred from the trips.
    import shutil

    shutil.copytree(hand_lake / "round_trips", tmp_path / "round_trips")
    rows = LocalAthena(FolderLake(tmp_path)).run("daily_pnl").records()
    assert [r["net_usd"] for r in rows] == [D("-18.52"), D("94.32"), D("-292.84")]
    assert [(r["loss_limit_stop"], r["killed"]) for r in rows] == [(False, False)] * 3


def test_pnl_by_hour_of_entry(athena: LocalAthena) -> None:
    rows = [
        (r["entry_hour_utc"], r["round_trips"], r["wins"], r["net_usd"])
        for r in athena.run("pnl_by_hour").records()
    ]
    assert rows == [(14, 2, 1, D("-15.68")), (15, 2, 1, D("91.48")), (16, 1, 0, D("-292.84"))]


def test_pnl_by_regime_joins_the_decision_in_force_at_entry(athena: LocalAthena) -> None:
    rows = [
        (r["regime"], r["confidence_bucket"], r["round_trips"], r["gross_usd"], r["fees_usd"], r["net_usd"])
        for r in athena.run("pnl_by_regime").records()
    ]
    # T3 (range, 15:06) meets the 15:05 range decision (computed 15:05:05, confidence 2.3). The 15:00 trend
    # decision is still valid until 15:05 but it is another regime; T1 and T2 come before any decision.
    # T4 (trend) names its decision on its entry fill: v3's, confidence 2.6, computed months after by the
    # clock (no time rule would find it). T5 has none.
    assert rows == [
        ("range", "2.0-2.5", 1, D("0"), D("2.84"), D("-2.84")),
        ("range", "none", 1, D("30"), D("2.84"), D("27.16")),
        ("trend", "2.5-3.0", 1, D("100"), D("5.68"), D("94.32")),
        ("trend", "none", 2, D("-330"), D("5.68"), D("-335.68")),
    ]


def test_exit_reasons_and_trade_outcomes(athena: LocalAthena) -> None:
    reasons = {
        (r["regime"], r["exit_reason"]): (r["round_trips"], r["net_usd"])
        for r in athena.run("exit_reasons").records()
    }
    assert reasons == {
        ("range", "stale-to-market"): (1, D("-2.84")),
        ("range", "target"): (1, D("27.16")),
        ("trend", "flatten"): (1, D("-292.84")),
        ("trend", "trail"): (2, D("51.48")),  # T2 -42.84 + T4 94.32
    }
    outcomes = [(r["regime"], r["ticks"], r["round_trips"]) for r in athena.run("trade_outcomes").records()]
    assert outcomes == [
        ("range", 0, 1),
        ("range", 3, 1),
        ("trend", -29, 1),
        ("trend", -4, 1),
        ("trend", 5, 1),
    ]


def test_daily_fills_count_each_execution_and_commission_once(athena: LocalAthena) -> None:
    rows = [
        (r["day"], r["fills"], r["contracts"], r["commission_usd"])
        for r in athena.run("daily_fills").records()
    ]
    assert rows == [
        ("2026-01-15", 6, 6, D("8.52")),
        ("2026-01-16", 2, 4, D("5.68")),
        ("2026-01-20", 2, 2, D("2.84")),
    ]


def test_execution_quality_latency_and_slippage(athena: LocalAthena) -> None:
    rows = {(r["role"], r["order_type"]): r for r in athena.run("execution_quality").records()}
    assert set(rows) == {
        ("entry", "limit"),
        ("entry", "unknown"),
        ("exit", "limit"),
        ("exit", "market"),
        ("exit", "unknown"),
    }
    entry = rows[("entry", "limit")]  # signal 09.900, ack 09.950, fill 10.000; bought 60.00, saw 60.01
    assert (entry["avg_signal_to_ack_ms"], entry["avg_signal_to_fill_ms"], entry["avg_slippage_ticks"]) == (
        50.0,
        100.0,
        -1.0,
    )
    market = rows[("exit", "market")]  # T3's stale exit: signal 54.000, fill 15:07:00; sold 60.20, saw 60.22
    assert (market["avg_signal_to_fill_ms"], market["avg_slippage_ticks"]) == (6000.0, 2.0)
    unknown = rows[("entry", "unknown")]  # fills without execution details count, but measure nothing
    assert (
        unknown["fills"],
        unknown["contracts"],
        unknown["with_signal"],
        unknown["avg_slippage_ticks"],
    ) == (4, 5, 0, None)


FATES = ("orders", "filled", "cancelled", "rejected", "stale", "stale_cancelled", "stale_filled_late")


def test_execution_quality_reports_the_fate_of_every_order_once(athena: LocalAthena) -> None:
    rows = {
        (r["role"], r["order_type"]): tuple(r[c] for c in FATES)
        for r in athena.run("execution_quality").records()
    }
    assert rows == {
        # o1a..o5a filled (o4a late, after going stale); oX1 stale and cancelled (delivered twice, counted
        # once); oX2 rejected; oX3 cancelled by the kill.
        ("entry", "limit"): (8, 5, 2, 1, 2, 1, 1),
        # o1b, o2b, o4b filled; o3s stale, cancelled and replaced by market.
        ("exit", "limit"): (4, 3, 1, 0, 1, 1, 0),
        ("exit", "market"): (2, 2, 0, 0, 0, 0, 0),  # o3b (the replacement) and o5b (T5's flatten)
        # Fills that recorded no order type: they have no orders of their own.
        ("entry", "unknown"): (0, 0, 0, 0, 0, 0, 0),
        ("exit", "unknown"): (0, 0, 0, 0, 0, 0, 0),
    }


def test_execution_quality_shows_orders_without_any_fill(tmp_path: Path, hand_lake: Path) -> None:
    import shutil

    shutil.copytree(hand_lake / "orders", tmp_path / "orders")  # an order table, no fills at all
    rows = {
        (r["role"], r["order_type"]): r
        for r in LocalAthena(FolderLake(tmp_path)).run("execution_quality").records()
    }
    entry = rows[("entry", "limit")]
    assert (entry["fills"], entry["orders"], entry["stale_cancelled"], entry["avg_slippage_ticks"]) == (
        0,
        8,
        1,
        None,
    )


def test_live_accuracy_against_the_label_the_bars_realised(athena: LocalAthena) -> None:
    rows = {r["model_version"]: r for r in athena.run("live_accuracy").records()}
    v1, v2 = rows["v1"], rows["v2"]
    # v1: 5 decisions, the 15:28 one unlabelled. Labels: 14:20 range, 14:40 trend (the 14:40-14:44 climb of
    # 5 ticks against an ATR floored at 1 tick), 15:00 range, 15:05 range.
    assert (v1["decisions"], v1["labelled"]) == (5, 4)
    assert (v1["trend_share"], v1["range_share"], v1["nothing_share"]) == (0.2, 0.6, 0.2)
    assert (v1["trend_accuracy"], v1["trend_base_rate"], v1["trend_baseline"]) == (0.5, 0.25, 0.75)
    assert (v1["range_accuracy"], v1["range_base_rate"], v1["range_baseline"]) == (0.5, 0.75, 0.75)
    assert v1["regime_accuracy"] == 0.5  # right at 14:20 and 15:05
    # v2 said nothing at 14:30 while the next five bars stayed in range.
    assert (
        v2["decisions"],
        v2["labelled"],
        v2["trend_accuracy"],
        v2["range_accuracy"],
        v2["regime_accuracy"],
    ) == (1, 1, 1.0, 0.0, 0.0)


def test_an_empty_lake_gives_empty_results_with_a_message(tmp_path: Path) -> None:
    athena = LocalAthena(FolderLake(tmp_path / "nothing-here"))
    results = athena.run_all()
    assert set(results) == set(query_names()) and len(results) >= 9
    for name, result in results.items():
        assert result.empty and result.columns, name
        assert result.message == f"{name}: no rows (no records in the lake for this query)"


def test_a_period_with_decisions_but_no_fills_gives_empty_trade_tables(
    tmp_path: Path, hand_lake: Path
) -> None:
    import shutil

    shutil.copytree(hand_lake / "regimes", tmp_path / "regimes")
    shutil.copytree(hand_lake / "bars", tmp_path / "bars")
    athena = LocalAthena(FolderLake(tmp_path))
    assert athena.run("trade_statistics").empty and athena.run("daily_pnl").empty
    assert not athena.run("live_accuracy").empty
