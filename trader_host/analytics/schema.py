"""The lake's tables and columns: the Glue tables of template.yaml, as the local executor loads them.

One definition here; tests hold it equal to template.yaml's Glue columns and to the contracts' `to_dict`
keys. Each table also has the projected partition column `hour` ("yyyy/MM/dd/HH"), taken from the path.
"""

from __future__ import annotations

from typing import Final

Column = tuple[str, str]  # (name, Glue/Hive type)

TABLES: Final[dict[str, tuple[Column, ...]]] = {
    "bars": (
        ("symbol", "string"),
        ("ts", "string"),
        ("open", "double"),
        ("high", "double"),
        ("low", "double"),
        ("close", "double"),
        ("volume", "bigint"),
        ("wap", "double"),
        ("count", "bigint"),
        ("source", "string"),
    ),
    "fills": (
        ("execution_id", "string"),
        ("order_id", "string"),
        ("symbol", "string"),
        ("side", "string"),
        ("qty", "int"),
        ("price", "decimal(12,4)"),
        ("ts", "string"),
        ("commission_usd", "decimal(12,4)"),
        ("regime", "string"),
        ("zscore", "double"),
        ("role", "string"),
        ("signal_ts", "string"),
        ("ack_ts", "string"),
        ("signal_price", "decimal(12,4)"),
        ("order_type", "string"),
        ("decision_window_end", "string"),
    ),
    "round_trips": (
        ("trip_id", "string"),
        ("symbol", "string"),
        ("side", "string"),
        ("qty", "int"),
        ("entry_ts", "string"),
        ("exit_ts", "string"),
        ("entry_price", "decimal(12,4)"),
        ("exit_price", "decimal(12,4)"),
        ("regime", "string"),
        ("zscore", "double"),
        ("exit_reason", "string"),
        ("pnl_ticks", "int"),
        ("gross_usd", "decimal(12,4)"),
        ("fees_usd", "decimal(12,4)"),
        ("net_usd", "decimal(12,4)"),
        ("entry_execution_ids", "array<string>"),
        ("exit_execution_ids", "array<string>"),
    ),
    "regimes": (
        ("symbol", "string"),
        ("regime", "string"),
        ("window_end", "string"),
        ("computed_at", "string"),
        ("valid_until", "string"),
        ("model_version", "string"),
        ("trend_vote", "boolean"),
        ("trend_confidence", "double"),
        ("range_vote", "boolean"),
        ("range_confidence", "double"),
        ("probabilities", "map<string,double>"),
        ("reason", "string"),
    ),
    # The host's order outcomes (one per order at its final state) and the risk gate's events.
    "orders": (
        ("order_id", "string"),
        ("symbol", "string"),
        ("role", "string"),
        ("side", "string"),
        ("qty", "int"),
        ("order_type", "string"),
        ("limit_price", "decimal(12,4)"),
        ("placed_ts", "string"),
        ("final_ts", "string"),
        ("final_state", "string"),
        ("filled_qty", "int"),
        ("stale", "boolean"),
        ("reason", "string"),
        ("regime", "string"),
        ("exit_reason", "string"),
        ("signal_price", "decimal(12,4)"),
        ("revision", "int"),
    ),
    "risk_events": (
        ("event_id", "string"),
        ("symbol", "string"),
        ("ts", "string"),
        ("kind", "string"),
        ("trading_day", "string"),
        ("day_net_usd", "decimal(12,4)"),
        ("detail", "string"),
    ),
}

PARTITION_COLUMN: Final = "hour"

# Glue type -> DuckDB type of the same values.
_DUCKDB_TYPES: Final[dict[str, str]] = {
    "string": "VARCHAR",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "decimal(12,4)": "DECIMAL(12,4)",
    "boolean": "BOOLEAN",
    "array<string>": "VARCHAR[]",
    "map<string,double>": "MAP(VARCHAR, DOUBLE)",
}


def duckdb_type(glue_type: str) -> str:
    """The DuckDB type that holds a Glue column's values."""
    return _DUCKDB_TYPES[glue_type]
