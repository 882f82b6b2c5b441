"""Load a staged table into DuckDB the way the Glue table's JSON SerDe (with `ignore.malformed.json`) reads
it: a line that is not a JSON object, or whose value does not fit its column, is skipped and counted (with
where the first few were), never a crash; keys the table does not know are ignored; a missing key is NULL.

All of it runs inside DuckDB, column-wise: a year of records is checked and typed in seconds, where parsing
line by line in Python took a minute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trader_host.analytics.lake import StagedFile
from trader_host.analytics.schema import PARTITION_COLUMN, TABLES, duckdb_type

_NUMBER = "('BIGINT', 'UBIGINT', 'DOUBLE')"
_INTEGER = "('BIGINT', 'UBIGINT')"


def _fits(glue_type: str, x: str) -> str:
    """SQL: the JSON value `x` (present, not null) fits a column of `glue_type`.

    Every cast is a TRY_CAST: DuckDB evaluates both sides of an AND, so a check must not raise on a value of
    the wrong type, only come out false.
    """
    t = f"json_type({x})"
    checks = {
        "string": f"{t} = 'VARCHAR'",
        "int": f"{t} IN {_INTEGER} AND TRY_CAST({x} AS INTEGER) IS NOT NULL",
        "bigint": f"{t} IN {_INTEGER} AND TRY_CAST({x} AS BIGINT) IS NOT NULL",
        "double": f"{t} IN {_NUMBER} AND isfinite(TRY_CAST({x} AS DOUBLE))",
        # decimal(12,4): finite, and at most 8 digits before the point.
        "decimal(12,4)": (
            f"{t} IN {_NUMBER} AND isfinite(TRY_CAST({x} AS DOUBLE)) AND abs(TRY_CAST({x} AS DOUBLE)) < 1e8"
        ),
        "boolean": f"{t} = 'BOOLEAN'",
        "array<string>": (
            f"{t} = 'ARRAY' AND coalesce(list_bool_and("
            f"list_transform(TRY_CAST({x} AS JSON[]), lambda e: json_type(e) = 'VARCHAR')), true)"
        ),
        "map<string,double>": (
            f"{t} = 'OBJECT' AND coalesce(list_bool_and(list_transform("
            f"map_values(TRY_CAST({x} AS MAP(VARCHAR, JSON))), lambda e: json_type(e) IN {_NUMBER})), true)"
        ),
    }
    return checks[glue_type]


def _value(glue_type: str, x: str) -> str:
    """SQL: the typed value of the JSON value `x` (NULL when missing or null)."""
    if glue_type == "string":
        typed = f"json_extract_string({x}, '$')"
    else:
        typed = f"TRY_CAST({x} AS {duckdb_type(glue_type)})"
    return f"CASE WHEN {x} IS NULL OR json_type({x}) = 'NULL' THEN NULL ELSE {typed} END"


@dataclass(slots=True)
class TableLoad:
    """What loading one table found."""

    table: str
    files: int = 0
    records: int = 0
    malformed: int = 0
    examples: list[str] = field(default_factory=list)  # "key:line" of the first malformed lines


def load_staged(con: Any, table: str, files: list[StagedFile], max_examples: int = 5) -> TableLoad:
    """Create `table` in the DuckDB connection from its staged files; returns the counts."""
    columns = TABLES[table]
    typed = ", ".join(f'"{name}" {duckdb_type(glue)}' for name, glue in columns)
    con.execute(f'CREATE TABLE "{table}" ({typed}, "{PARTITION_COLUMN}" VARCHAR)')
    load = TableLoad(table, files=len(files))
    if not files:
        return load
    con.execute("CREATE OR REPLACE TEMP TABLE _files (file VARCHAR, key VARCHAR, hour VARCHAR)")
    # One statement with three lists: executemany would run one INSERT per file.
    con.execute(
        "INSERT INTO _files SELECT unnest(?), unnest(?), unnest(?)",
        [[f.path.as_posix() for f in files], [f.key for f in files], [f.hour for f in files]],
    )
    # One row per non-blank line, with its file and line number; then every column extracted in one parse.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lines AS
        WITH split AS (
            SELECT filename, string_split(content, chr(10)) AS lines FROM read_text(?)
        ), numbered AS (
            SELECT filename, unnest(lines) AS line, unnest(range(1, len(lines) + 1)) AS n FROM split
        )
        SELECT f.key, f.hour, numbered.n, numbered.line, json_valid(numbered.line) AS valid
        FROM numbered JOIN _files f ON f.file = numbered.filename
        WHERE trim(numbered.line) <> ''
        """,
        [[f.path.as_posix() for f in files]],  # a parameter: a path with a quote cannot break the SQL
    )
    paths_list = "[" + ", ".join(f"'$.\"{name}\"'" for name, _ in columns) + "]"
    # Only valid JSON reaches a JSON function (DuckDB raises on the rest instead of returning NULL).
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _values AS
        SELECT key, hour, n, json_type(line) = 'OBJECT' AS is_object, json_extract(line, {paths_list}) AS v
        FROM _lines WHERE valid
        """
    )
    fits = " AND ".join(
        f"(v[{i}] IS NULL OR json_type(v[{i}]) = 'NULL' OR ({_fits(glue, f'v[{i}]')}))"
        for i, (_, glue) in enumerate(columns, start=1)
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _checked AS SELECT *, is_object AND ({fits}) AS ok FROM _values"
    )
    values = ", ".join(_value(glue, f"v[{i}]") for i, (_, glue) in enumerate(columns, start=1))
    con.execute(f'INSERT INTO "{table}" SELECT {values}, hour FROM _checked WHERE ok')
    row = con.execute(
        "SELECT (SELECT count(*) FROM _lines), (SELECT count(*) FROM _checked WHERE ok)"
    ).fetchone()
    lines, load.records = (int(row[0]), int(row[1])) if row else (0, 0)
    load.malformed = lines - load.records
    if load.malformed:
        bad = con.execute(
            "SELECT key, n FROM (SELECT key, n FROM _lines WHERE NOT valid "
            "UNION ALL SELECT key, n FROM _checked WHERE NOT ok) "
            f"ORDER BY key, n LIMIT {int(max_examples)}"
        ).fetchall()
        load.examples = [f"{key}:{n}" for key, n in bad]
    for temp in ("_checked", "_values", "_lines", "_files"):
        con.execute(f"DROP TABLE {temp}")
    return load
