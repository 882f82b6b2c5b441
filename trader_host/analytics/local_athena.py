"""LocalAthena: the named queries (queries/*.sql), transpiled from Athena (Trino) SQL by sqlglot and run by
DuckDB over the lake's clean records, so that the SQL tested here is the SQL Athena runs.

DuckDB differs from Athena in two places that the session fixes rather than the SQL: it runs in UTC (Athena's
timestamps are UTC), and `at_timezone`, which DuckDB lacks, becomes a macro over its `timezone`.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import sqlglot

from trader_host.analytics.lake import LakeSource, stage_table
from trader_host.analytics.loader import TableLoad, load_staged
from trader_host.analytics.schema import TABLES

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent / "queries"  # package data: the wheel carries them


def query_names(sql_dir: Path = SQL_DIR) -> list[str]:
    """The named queries, one per .sql file, in name order."""
    return sorted(p.stem for p in sql_dir.glob("*.sql"))


def transpile(sql: str) -> str:
    """Athena (Trino) SQL as DuckDB runs it."""
    statements = sqlglot.transpile(sql, read="athena", write="duckdb")
    if len(statements) != 1:
        raise ValueError(f"one statement per named query, found {len(statements)}")
    return statements[0]


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The rows of one query; `message` says why a result is empty."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    @property
    def empty(self) -> bool:
        return not self.rows

    @property
    def message(self) -> str:
        return f"{self.name}: no rows (no records in the lake for this query)" if self.empty else ""

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts keyed by column."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]


class LocalAthena:
    """An in-memory DuckDB holding the lake's tables, with the named queries to run on it."""

    def __init__(
        self,
        source: LakeSource,
        sql_dir: Path = SQL_DIR,
        on_table: Callable[[str], None] | None = None,
    ) -> None:
        self.sql_dir = sql_dir
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("CREATE MACRO at_timezone(ts, tz) AS timezone(tz, ts)")
        self.loads: dict[str, TableLoad] = {}
        with tempfile.TemporaryDirectory(prefix="lake-") as tmp:
            for table in TABLES:
                staged = stage_table(source, table, Path(tmp) / table)
                self.loads[table] = load_staged(self.con, table, staged)
                if self.loads[table].malformed:
                    load = self.loads[table]
                    log.warning(
                        "%s: skipped %d malformed line(s), first at %s",
                        table,
                        load.malformed,
                        ", ".join(load.examples),
                    )
                if on_table is not None:
                    on_table(table)

    @property
    def malformed(self) -> dict[str, int]:
        """Lines skipped per table because they were not records of it."""
        return {t: load.malformed for t, load in self.loads.items()}

    @property
    def empty(self) -> bool:
        """True when no table holds a record."""
        return not any(load.records for load in self.loads.values())

    def count(self, table: str) -> int:
        """Records of `table` (duplicates included: the queries deduplicate)."""
        return self.loads[table].records

    def sql(self, name: str) -> str:
        """The Athena text of a named query."""
        return (self.sql_dir / f"{name}.sql").read_text(encoding="utf-8")

    def run_sql(self, sql: str, name: str = "query") -> QueryResult:
        """Transpile and run one Athena statement."""
        cursor = self.con.execute(transpile(sql))
        columns = tuple(d[0] for d in cursor.description or ())
        return QueryResult(name, columns, tuple(tuple(row) for row in cursor.fetchall()))

    def run(self, name: str) -> QueryResult:
        """Run the named query `name` (queries/<name>.sql)."""
        return self.run_sql(self.sql(name), name)

    def run_all(self, names: Iterable[str] | None = None) -> dict[str, QueryResult]:
        """Every named query (or those given), by name."""
        return {n: self.run(n) for n in (query_names(self.sql_dir) if names is None else names)}
