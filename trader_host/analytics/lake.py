"""Where the lake is: `<table>/YYYY/MM/DD/HH/<object>`, JSON lines as Firehose writes them, in a folder or S3.

A source only lists and reads objects; `stage_table` copies a table's objects into a local folder for DuckDB
(`loader` checks every line there). The partition column `hour` comes from the object's path, as Glue's
projection derives it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

# <table>/YYYY/MM/DD/HH/ as Firehose writes it without a custom prefix expression.
_HOUR_PATH = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+$")


class LakeSource(Protocol):
    """Where the lake's objects are: `objects(table)` yields (key relative to the lake root, bytes)."""

    def objects(self, table: str) -> Iterator[tuple[str, bytes]]: ...


@dataclass(frozen=True, slots=True)
class FolderLake:
    """A lake on disk (a copy of the bucket, or what a test or a backtest wrote)."""

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


def hour_of(key: str) -> str | None:
    """The partition `hour` ("yyyy/MM/dd/HH") of an object key, or None when the path has none."""
    match = _HOUR_PATH.search(key)
    return "/".join(match.groups()) if match else None


@dataclass(frozen=True, slots=True)
class StagedFile:
    """One lake object copied to `path`, with the key and partition it came from."""

    path: Path
    key: str
    hour: str | None


def stage_table(source: LakeSource, table: str, folder: Path) -> list[StagedFile]:
    """Every object of `table` as a local UTF-8 file: a folder lake's own files where they are valid UTF-8
    (a year is thousands of files: copying them all costs seconds), a copy in `folder` otherwise."""
    folder.mkdir(parents=True, exist_ok=True)
    local = source.root if isinstance(source, FolderLake) else None
    staged: list[StagedFile] = []
    for i, (key, body) in enumerate(source.objects(table)):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            # Bytes that are not UTF-8 make their line malformed (skipped, counted), never the whole file.
            text = body.decode("utf-8", errors="replace")
        else:
            if local is not None:
                staged.append(StagedFile(local / key, key, hour_of(key)))
                continue
        path = folder / f"{i:06d}.jsonl"
        path.write_text(text, encoding="utf-8")
        staged.append(StagedFile(path, key, hour_of(key)))
    return staged
