"""Query results as text tables and CSV files, and CSV files (Athena's downloads) back as results."""

from __future__ import annotations

import csv
import math
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from trader_host.analytics.local_athena import QueryResult


def as_float(value: Any) -> float:
    """A query's number as a float, None (SQL NULL) as NaN."""
    if value is None:
        return math.nan
    return float(value)


def cell(value: Any, column: str = "") -> str:
    """One value as the tables print it: money with cents, None as blank."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal | float) and "_usd" in column:  # money: cents and thousands
        return f"{float(value):,.2f}" if isinstance(value, float) else f"{value.quantize(Decimal('0.01')):,}"
    if isinstance(value, Decimal):  # a CSV's number, or a DuckDB decimal that is not money
        value = float(value)
    if isinstance(value, float):
        value += 0.0  # -0.0 (a zero slippage of a sell) prints as 0
        return f"{value:.4g}" if abs(value) >= 1e6 else f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def text_table(result: QueryResult) -> str:
    """An aligned text table, or the result's message when it has no rows."""
    if result.empty:
        return result.message
    if len(result.rows) == 1 and len(result.columns) > 8:  # one wide row (the statistics): metric per line
        width = max(len(c) for c in result.columns)
        return "\n".join(
            f"{c.ljust(width)}  {cell(v, c)}" for c, v in zip(result.columns, result.rows[0], strict=True)
        )
    cells = [[cell(v, c) for v, c in zip(row, result.columns, strict=True)] for row in result.rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(result.columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(result.columns, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def write_csv(result: QueryResult, folder: Path) -> Path:
    """`<folder>/<name>.csv` with a header, as Athena writes a result set (every value quoted)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.name}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
        writer.writerow(result.columns)
        for row in result.rows:
            writer.writerow(["" if v is None else _csv_value(v) for v in row])
    return path


def _csv_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _parse(text: str) -> Any:
    # Athena's CSV carries every value as text: numbers back to numbers, money exact, blanks to None.
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return Decimal(text) if "." in text and "e" not in text.lower() else float(text)
    except ArithmeticError:
        return text
    except ValueError:
        return text


def read_csv(path: Path) -> QueryResult:
    """A result set downloaded from Athena (or written by write_csv); the name is the file's stem."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return QueryResult(path.stem, (), ())
    header, body = rows[0], rows[1:]
    return QueryResult(path.stem, tuple(header), tuple(tuple(_parse(v) for v in r) for r in body))


def read_csv_folder(folder: Path) -> dict[str, QueryResult]:
    """Every `<query>.csv` of a folder, by query name."""
    return {p.stem: read_csv(p) for p in sorted(folder.glob("*.csv"))}
