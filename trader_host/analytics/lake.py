"""Read the lake as Firehose wrote it: `<table>/YYYY/MM/DD/HH/<object>`, JSON lines, from a folder or S3.

Every line is checked against the table's Glue columns the way the JSON SerDe with `ignore.malformed.json`
treats it: a line that is not a JSON object, or whose value does not fit its column, is skipped and counted,
never a crash. Keys the table does not know are dropped (the SerDe ignores them too). The partition column
`hour` comes from the object's path, as Glue's projection derives it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from trader_host.analytics.schema import PARTITION_COLUMN, TABLES, Column

log = logging.getLogger(__name__)

# <table>/YYYY/MM/DD/HH/ as Firehose writes it without a custom prefix expression.
_HOUR_PATH = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+$")


class LakeSource(Protocol):
    """Where the lake's objects are: `objects(table)` yields (key relative to the lake root, bytes)."""

    def objects(self, table: str) -> Iterator[tuple[str, bytes]]: ...


@dataclass(frozen=True, slots=True)
class FolderLake:
    """A lake on disk (a copy of the bucket, or what a test or the backtest wrote)."""

    root: Path

    def objects(self, table: str) -> Iterator[tuple[str, bytes]]:
        base = self.root / table
        if not base.is_dir():
            return
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            yield path.relative_to(self.root).as_posix(), path.read_bytes()


@dataclass(frozen=True, slots=True)
class S3Lake:
    """The data lake bucket itself (boto3 honours AWS_ENDPOINT_URL, so this reads the local cloud too)."""

    client: Any  # a boto3 S3 client
    bucket: str

    def objects(self, table: str) -> Iterator[tuple[str, bytes]]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{table}/"):
            for obj in page.get("Contents", []):
                key = str(obj["Key"])
                if key.endswith("/"):
                    continue
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                yield key, bytes(body)


@dataclass(slots=True)
class TableLoad:
    """The clean records of one table, and what was skipped on the way."""

    table: str
    files: int = 0
    malformed: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)  # where the first few malformed lines were


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, float)) and v == v and abs(v) != float("inf")


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "int": lambda v: _is_int(v) and -(2**31) <= v < 2**31,
    "bigint": lambda v: _is_int(v) and -(2**63) <= v < 2**63,
    "double": _is_number,
    # decimal(12,4): at most 8 digits before the point.
    "decimal(12,4)": lambda v: _is_number(v) and abs(v) < 1e8,
    "boolean": lambda v: isinstance(v, bool),
    "array<string>": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "map<string,double>": lambda v: isinstance(v, dict) and all(_is_number(x) for x in v.values()),
}


def clean_record(line: str, columns: tuple[Column, ...]) -> dict[str, Any] | None:
    """The line as a record of these columns (missing ones None), or None if it is malformed."""
    try:
        raw = json.loads(line)
    except ValueError:
        return None
    if not isinstance(raw, dict):
        return None
    out: dict[str, Any] = {}
    for name, glue_type in columns:
        value = raw.get(name)
        if value is not None and not _CHECKS[glue_type](value):
            return None
        out[name] = value
    return out


def hour_of(key: str) -> str | None:
    """The partition `hour` ("yyyy/MM/dd/HH") of an object key, or None when the path has none."""
    match = _HOUR_PATH.search(key)
    return "/".join(match.groups()) if match else None


def load_table(source: LakeSource, table: str, max_examples: int = 5) -> TableLoad:
    """Every clean record of `table` in the lake, with the partition column added."""
    columns = TABLES[table]
    load = TableLoad(table)
    for key, body in source.objects(table):
        load.files += 1
        hour = hour_of(key)
        for number, line in enumerate(_lines(body), start=1):
            if not line.strip():
                continue  # a trailing newline is not a record
            record = clean_record(line, columns)
            if record is None:
                load.malformed += 1
                if len(load.examples) < max_examples:
                    load.examples.append(f"{key}:{number}")
                continue
            record[PARTITION_COLUMN] = hour
            load.records.append(record)
    if load.malformed:
        log.warning(
            "%s: skipped %d malformed line(s), first at %s", table, load.malformed, ", ".join(load.examples)
        )
    return load


def _lines(body: bytes) -> Iterable[str]:
    # A line that is not UTF-8 is malformed like any other, not a crash: decode with replacement.
    return body.decode("utf-8", errors="replace").splitlines()


def load_lake(source: LakeSource, tables: Iterable[str] = TABLES) -> dict[str, TableLoad]:
    """Every table of the lake."""
    return {table: load_table(source, table) for table in tables}
