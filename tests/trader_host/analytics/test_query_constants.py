"""The constants the Athena queries carry in their VALUES tables are the project's own, one definition each:
tick sizes, multipliers and margins from the contract specs, the label rule's thresholds from regime.labels,
the daily loss limit from the host's default configuration."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlglot
from sqlglot import exp

from regime.labels import LabelSpec
from trader_host.analytics.engine import SQL_DIR
from trading_engine.instruments import CONTRACTS


def values(query: str, cte: str) -> list[tuple[Any, ...]]:
    """The rows of the VALUES table named `cte` in infra/athena/<query>.sql, as Python numbers and strings."""
    tree = sqlglot.parse_one((SQL_DIR / f"{query}.sql").read_text(), read="athena")
    (table,) = [c for c in tree.find_all(exp.CTE) if c.alias == cte]
    rows = []
    for row in table.this.find_all(exp.Tuple):
        rows.append(tuple(Decimal(v.name) if v.is_number else v.name for v in row.expressions))
    return rows


def test_tick_sizes_multipliers_and_margins_are_the_contract_specs() -> None:
    tick_sizes = {s: spec.tick_size for s, spec in CONTRACTS.items()}
    for query in ("execution_quality", "live_accuracy"):
        assert dict(values(query, "spec")) == tick_sizes, query
    statistics = {row[0]: row[1:] for row in values("trade_statistics", "spec")}
    assert statistics == {
        s: (spec.tick_value_usd / spec.tick_size, spec.margin_usd) for s, spec in CONTRACTS.items()
    }
    assert all(spec.margin_usd > 0 for spec in CONTRACTS.values())


def test_the_label_rule_is_the_projects_own() -> None:
    ((range_z, trend_k),) = values("live_accuracy", "params")
    assert (range_z, trend_k) == (Decimal(str(LabelSpec().range_z)), Decimal(str(LabelSpec().trend_k)))
    # The daily loss limit is no constant of the SQL: the risk gate's own events say when it tripped.
    assert "max_daily_loss" not in (SQL_DIR / "daily_pnl.sql").read_text()
