"""Write records into a lake folder as Firehose delivers them: `<table>/YYYY/MM/DD/HH/<object>`, JSON lines.

Firehose files a record under the hour it arrived; here the record's own time stands in for it (the host
ships within seconds). Each call writes a new object, so writing the same records twice is exactly what an
at-least-once redelivery leaves in the lake. Used by the tests, the benchmark and `report --backtest`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from regime.contracts import Bar, Fill, OrderOutcome, RegimeItem, RiskEvent, RoundTrip


def hour_path(ts: datetime) -> str:
    """The folder Firehose writes a record of time `ts` to: 'YYYY/MM/DD/HH'."""
    return ts.astimezone(UTC).strftime("%Y/%m/%d/%H")


def write_lines(root: Path, table: str, lines: Iterable[tuple[datetime, str]], name: str = "part-0") -> int:
    """Append (time, JSON line) pairs as one object per hour named `name`; returns the lines written."""
    by_hour: dict[str, list[str]] = defaultdict(list)
    for ts, line in lines:
        by_hour[hour_path(ts)].append(line)
    for hour, chunk in by_hour.items():
        folder = root / table / hour
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{table}-{name}.jsonl").open("a", encoding="utf-8") as fh:
            fh.writelines(line + "\n" for line in chunk)
    return sum(len(chunk) for chunk in by_hour.values())


def write_records(
    root: Path,
    *,
    fills: Iterable[Fill] = (),
    round_trips: Iterable[RoundTrip] = (),
    regimes: Iterable[RegimeItem] = (),
    bars: Iterable[Bar] = (),
    orders: Iterable[OrderOutcome] = (),
    risk_events: Iterable[RiskEvent] = (),
    name: str = "part-0",
) -> None:
    """Every kind of record into its table's prefix (template.yaml's Firehose streams and bar archive)."""
    write_lines(root, "fills", ((f.ts, f.to_json()) for f in fills), name)
    write_lines(root, "round_trips", ((t.exit_ts, t.to_json()) for t in round_trips), name)
    write_lines(root, "regimes", ((r.computed_at, _regime_json(r)) for r in regimes), name)
    write_lines(root, "bars", ((b.ts, b.to_json()) for b in bars), name)
    write_lines(root, "orders", ((o.final_ts, o.to_json()) for o in orders), name)
    write_lines(root, "risk_events", ((e.ts, e.to_json()) for e in risk_events), name)


def _regime_json(item: RegimeItem) -> str:
    return json.dumps(item.to_dict(), separators=(",", ":"))
