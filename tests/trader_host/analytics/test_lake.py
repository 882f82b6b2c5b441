"""Reading the lake: malformed lines skipped and counted, the partition from the path, folder and S3 alike."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from trader_host.analytics.lake import FolderLake, S3Lake, clean_record, hour_of, load_lake, load_table
from trader_host.analytics.schema import TABLES

FILLS = TABLES["fills"]
GOOD = json.dumps(
    {
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
    },
    separators=(",", ":"),
)


def test_a_good_line_keeps_its_columns_fills_missing_ones_with_none_and_drops_unknown_keys() -> None:
    record = clean_record(GOOD[:-1] + ',"extra":1}', FILLS)
    assert record is not None
    assert record["price"] == 60.01 and record["qty"] == 1 and record["signal_ts"] is None
    assert "extra" not in record and set(record) == {name for name, _ in FILLS}


@pytest.mark.parametrize(
    "line",
    [
        "{not json",
        "[1, 2]",
        '"a string"',
        GOOD.replace('"qty":1', '"qty":"1"'),  # a string where an int belongs
        GOOD.replace('"qty":1', '"qty":true'),  # a boolean is not an int
        GOOD.replace('"qty":1', '"qty":1.5'),
        GOOD.replace('"price":60.01', '"price":NaN'),
        GOOD.replace('"price":60.01', '"price":123456789.0'),  # beyond decimal(12,4)
    ],
)
def test_malformed_lines_are_refused(line: str) -> None:
    assert clean_record(line, FILLS) is None


def test_the_partition_comes_from_the_firehose_path() -> None:
    assert hour_of("fills/2026/01/15/14/fills-part-0.jsonl") == "2026/01/15/14"
    assert hour_of("fills/loose-file.jsonl") is None


def test_a_file_with_bad_lines_bad_bytes_and_blank_lines_loads_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "fills" / "2026" / "01" / "15" / "14"
    folder.mkdir(parents=True)
    body = (GOOD + "\n\n{broken\n").encode() + b"\xff\xfe{\n" + GOOD.replace("e1", "e2").encode() + b"\n"
    (folder / "part").write_bytes(body)
    load = load_table(FolderLake(tmp_path), "fills")
    assert (load.files, len(load.records), load.malformed) == (1, 2, 2)
    assert load.examples == ["fills/2026/01/15/14/part:3", "fills/2026/01/15/14/part:4"]
    assert {r["hour"] for r in load.records} == {"2026/01/15/14"}


def test_a_missing_lake_is_empty_not_an_error(tmp_path: Path) -> None:
    loads = load_lake(FolderLake(tmp_path / "absent"))
    assert set(loads) == set(TABLES)
    assert all(not load.records and load.files == 0 for load in loads.values())


def test_the_s3_lake_reads_what_the_folder_holds(moto_endpoint: str, hand_lake: Path) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="lake-test")
    for path in hand_lake.rglob("*"):
        if path.is_file():
            s3.put_object(
                Bucket="lake-test", Key=path.relative_to(hand_lake).as_posix(), Body=path.read_bytes()
            )
    from_s3 = load_lake(S3Lake(s3, "lake-test"))
    from_folder = load_lake(FolderLake(hand_lake))
    for table in TABLES:
        assert from_s3[table].records == from_folder[table].records, table
        assert from_s3[table].malformed == from_folder[table].malformed
    assert len(from_s3["round_trips"].records) == 6
