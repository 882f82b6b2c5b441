"""The lake's three descriptions agree: template.yaml's Glue columns, the local executor's schema, and the
contracts' JSON fields; the named queries are the files, and every query deduplicates on its record id."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from infra.template_yaml import REPO, load_template
from regime.contracts import (
    Bar,
    BarSource,
    ExitReason,
    Fill,
    OrderFinalState,
    OrderOutcome,
    Regime,
    RegimeItem,
    RiskEvent,
    RiskEventKind,
    Role,
    RoundTrip,
    Side,
)
from trader_host.analytics.engine import query_names, transpile
from trader_host.analytics.schema import TABLES

NOW = datetime(2026, 1, 15, 14, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def _glue_tables(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["TableInput"]["Name"]: r["Properties"]["TableInput"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Glue::Table"
    }


def test_glue_columns_are_the_executor_schema(template: dict[str, Any]) -> None:
    glue, prefixes = _glue_tables(template), _firehose_prefixes(template)
    assert set(glue) == set(TABLES)
    for name, table in glue.items():
        columns = tuple((c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"])
        assert columns == TABLES[name], name
        assert table["PartitionKeys"] == [{"Name": "hour", "Type": "string"}]
        serde = table["StorageDescriptor"]["SerdeInfo"]
        assert serde["Parameters"] == {"ignore.malformed.json": "true"}, name  # malformed lines skipped
        # A Firehose stream (for bars, the archive) writes where the table reads.
        assert table["Parameters"]["storage.location.template"]["Fn::Sub"].endswith(f"/{name}/${{!hour}}/")
        assert f"{name}/" in prefixes, name


def _firehose_prefixes(template: dict[str, Any]) -> set[str]:
    return {
        r["Properties"]["ExtendedS3DestinationConfiguration"]["Prefix"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::KinesisFirehose::DeliveryStream"
    }


def _contract_keys() -> dict[str, set[str]]:
    fill = Fill(
        "e1", "o1", "CL", Side.BUY, 1, Decimal("60.00"), NOW, Decimal("1.42"), Regime.RANGE, 2.1, Role.ENTRY
    )
    trip = RoundTrip(
        "rt-e1",
        "CL",
        Side.BUY,
        1,
        NOW,
        NOW,
        Decimal("60"),
        Decimal("60.01"),
        Regime.RANGE,
        2.1,
        ExitReason.TARGET,
        1,
        Decimal("10"),
        Decimal("2.84"),
    )
    item = RegimeItem("CL", Regime.RANGE, NOW, NOW, NOW, "v1")
    bar = Bar("CL", NOW, 60.0, 60.0, 60.0, 60.0, 1, BarSource.SIM, wap=60.0, count=1)
    order = OrderOutcome(
        "o1",
        "CL",
        Role.ENTRY,
        Side.BUY,
        1,
        "limit",
        Decimal("60.00"),
        NOW,
        NOW,
        OrderFinalState.CANCELLED,
        0,
        True,
        "stale timeout",
    )
    event = RiskEvent("CL", NOW, RiskEventKind.LOSS_LIMIT, NOW.date(), Decimal("-300"), "loss limit")
    return {
        "fills": set(fill.to_dict()),
        "round_trips": set(trip.to_dict()),
        "regimes": set(item.to_dict()),
        "bars": set(bar.to_dict()),
        "orders": set(order.to_dict()),
        "risk_events": set(event.to_dict()),
    }


def test_executor_schema_is_every_contract_field() -> None:
    assert set(_contract_keys()) == set(TABLES)
    for table, keys in _contract_keys().items():
        assert {name for name, _ in TABLES[table]} == keys, table


# How each table is deduplicated: on the record id, keeping one copy per id.
DEDUPE = {
    "fills": ("PARTITION BY f.execution_id",),
    "round_trips": ("PARTITION BY t.trip_id",),
    "regimes": ("PARTITION BY r.symbol, r.window_end",),
    "bars": ("PARTITION BY b.symbol, b.ts", "count(DISTINCT ts)"),
    "orders": ("PARTITION BY o.order_id",),
    "risk_events": ("PARTITION BY e.event_id",),
}


@pytest.mark.parametrize("table", sorted(DEDUPE))
def test_every_query_reading_a_table_deduplicates_it_on_its_record_id(table: str) -> None:
    readers = 0
    for name in query_names():
        sql = (REPO / "infra" / "athena" / f"{name}.sql").read_text()
        if re.search(rf"\bFROM {table}\b", sql):
            readers += 1
            assert any(way in sql for way in DEDUPE[table]), f"{name} reads {table} without deduplicating it"
    assert readers, f"no query reads {table}"


def test_every_query_transpiles_to_duckdb_and_is_a_named_query(template: dict[str, Any]) -> None:
    named = {
        r["Properties"]["Name"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Athena::NamedQuery"
    }
    assert set(named) == set(query_names())
    for name, props in named.items():
        assert props["Description"] == f"infra/athena/{name}.sql"
        assert props["WorkGroup"] == {"Ref": "AthenaWorkGroup"}
        assert transpile(props["QueryString"])  # one statement, parsed as Athena SQL
