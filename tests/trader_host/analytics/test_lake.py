"""Reading the lake: malformed lines skipped and counted, the partition from the path, folder and S3 alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from trader_host.analytics.lake import FolderLake, S3Lake, hour_of
from trader_host.analytics.local_athena import LocalAthena
from trader_host.analytics.schema import TABLES

RECORD: dict[str, Any] = {
    "execution_id": "e1",
    "order_id": "o1",
    "symbol": "CL",
    "side": "BUY",
    "qty": 1,
    "price": 60.01,
    "ts": "2026-01-15T14:00:00Z",
    "commission_usd": 1.42,
    "regime": "range",
    "zscore": 2.1,
    "role": "entry",
}
GOOD = json.dumps(RECORD, separators=(",", ":"))


def _lake(root: Path, table: str, body: bytes, key: str = "2026/01/15/14/part") -> LocalAthena:
    path = root / table / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return LocalAthena(FolderLake(root))


def _rows(athena: LocalAthena, table: str) -> list[dict[str, Any]]:
    cur = athena.con.execute(f'SELECT * FROM "{table}"')
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_a_good_line_keeps_its_columns_fills_missing_ones_with_null_and_ignores_unknown_keys(
    tmp_path: Path,
) -> None:
    athena = _lake(tmp_path, "fills", (GOOD[:-1] + ',"extra":1}\n').encode())
    (row,) = _rows(athena, "fills")
    assert str(row["price"]) == "60.0100" and row["qty"] == 1 and row["signal_ts"] is None
    assert row["hour"] == "2026/01/15/14" and "extra" not in row
    assert athena.malformed["fills"] == 0


def _with(**changes: Any) -> str:
    return json.dumps({**RECORD, **changes})


@pytest.mark.parametrize(
    "line",
    [
        "{not json",
        "[1, 2]",
        '"a string"',
        _with(qty="1"),  # a string where an int belongs
        _with(qty=True),  # a boolean is not an int
        _with(qty=1.5),
        _with(qty=2**40),  # beyond int
        GOOD.replace('"price":60.01', '"price":NaN'),
        _with(price=123456789.0),  # beyond decimal(12,4)
        _with(symbol=5),
    ],
)
def test_malformed_lines_are_skipped_and_counted(line: str, tmp_path: Path) -> None:
    athena = _lake(tmp_path, "fills", f"{GOOD}\n{line}\n".encode())
    assert (athena.count("fills"), athena.malformed["fills"]) == (1, 1)
    assert athena.loads["fills"].examples == ["fills/2026/01/15/14/part:2"]


@pytest.mark.parametrize(
    ("changes", "ok"),
    [
        ({"entry_execution_ids": ["a", "b"]}, True),
        ({"entry_execution_ids": []}, True),
        ({"entry_execution_ids": ["a", 1]}, False),
        ({"entry_execution_ids": "a"}, False),
    ],
)
def test_arrays_hold_strings(changes: dict[str, Any], ok: bool, tmp_path: Path) -> None:
    trip = {"trip_id": "rt-1", "symbol": "CL", "qty": 1, "gross_usd": 10, "fees_usd": 2.84, **changes}
    athena = _lake(tmp_path, "round_trips", (json.dumps(trip) + "\n").encode())
    assert athena.count("round_trips") == int(ok)


@pytest.mark.parametrize(
    ("probabilities", "ok"), [({"trend_mlp": 0.7}, True), ({}, True), ({"x": "high"}, False)]
)
def test_maps_hold_numbers(probabilities: dict[str, Any], ok: bool, tmp_path: Path) -> None:
    item = {
        "symbol": "CL",
        "regime": "range",
        "window_end": "2026-01-15T14:05:00Z",
        "probabilities": probabilities,
    }
    athena = _lake(tmp_path, "regimes", (json.dumps(item) + "\n").encode())
    assert athena.count("regimes") == int(ok)
    if ok:
        assert _rows(athena, "regimes")[0]["probabilities"] == probabilities


def test_the_partition_comes_from_the_firehose_path() -> None:
    assert hour_of("fills/2026/01/15/14/fills-part-0.jsonl") == "2026/01/15/14"
    assert hour_of("fills/loose-file.jsonl") is None


def test_a_file_with_bad_lines_bad_bytes_and_blank_lines_loads_the_rest(tmp_path: Path) -> None:
    body = (GOOD + "\n\n{broken\n").encode() + b"\xff\xfe{\n" + GOOD.replace("e1", "e2").encode() + b"\n"
    athena = _lake(tmp_path, "fills", body)
    assert (athena.loads["fills"].files, athena.count("fills"), athena.malformed["fills"]) == (1, 2, 2)
    assert athena.loads["fills"].examples == ["fills/2026/01/15/14/part:3", "fills/2026/01/15/14/part:4"]


def test_a_missing_lake_is_empty_not_an_error(tmp_path: Path) -> None:
    athena = LocalAthena(FolderLake(tmp_path / "absent"))
    assert athena.empty and set(athena.loads) == set(TABLES)
    assert all(load.files == 0 and load.records == 0 for load in athena.loads.values())


def test_the_s3_lake_reads_what_the_folder_holds(moto_endpoint: str, hand_lake: Path) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="lake-test")
    for path in hand_lake.rglob("*"):
        if path.is_file():
            s3.put_object(
                Bucket="lake-test", Key=path.relative_to(hand_lake).as_posix(), Body=path.read_bytes()
            )
    from_s3 = LocalAthena(S3Lake(s3, "lake-test"))
    from_folder = LocalAthena(FolderLake(hand_lake))
    for table in TABLES:
        query = f'SELECT * FROM "{table}" ORDER BY ALL'
        assert from_s3.con.execute(query).fetchall() == from_folder.con.execute(query).fetchall(), table
        assert from_s3.malformed[table] == from_folder.malformed[table]
    assert from_s3.count("round_trips") == 6


def test_a_lake_folder_with_a_quote_and_a_space_in_its_name(tmp_path: Path) -> None:
    athena = _lake(tmp_path / "it's a lake", "fills", (GOOD + "\n").encode())
    assert athena.count("fills") == 1
