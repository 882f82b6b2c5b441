"""`regime-trader stats`: the Athena named queries, run locally on DuckDB over the lake.

The lake is a folder laid out as the data lake bucket (`<table>/YYYY/MM/DD/HH/...`) or the bucket itself
(`--bucket`; boto3 honours AWS_ENDPOINT_URL, so the local cloud's lake works the same). Malformed lines are
skipped and counted; an empty lake prints each query's empty-result message.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def register(p: argparse.ArgumentParser) -> None:
    """The subcommand's arguments."""
    add_lake_arguments(p)
    p.add_argument("--query", action="append", help="a named query to run (repeatable; default: all)")
    p.add_argument("--csv", type=Path, help="also write each result as <query>.csv into this folder")
    p.set_defaults(func=run)


def add_lake_arguments(p: argparse.ArgumentParser) -> None:
    """--lake DIR or --bucket NAME, shared with `report`."""
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--lake", type=Path, help="a folder laid out like the data lake bucket")
    where.add_argument("--bucket", help="the data lake bucket (the stack's DataLakeBucket)")


def open_lake(args: argparse.Namespace) -> Any:
    """The LakeSource the arguments name; a folder that does not exist is an error, an empty one is not."""
    from trader_host.analytics.lake import FolderLake, S3Lake

    if args.lake is not None:
        if not args.lake.is_dir():
            raise FileNotFoundError(f"--lake {args.lake}: no such folder")
        return FolderLake(args.lake)
    import boto3

    from trader_host.cloud.aws import missing_setup
    from trader_host.commands.user_error import UserError

    if missing := missing_setup():
        raise UserError(f"--bucket {args.bucket}: {missing}")
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = boto3.client("s3")
    try:
        s3.head_bucket(Bucket=args.bucket)  # a wrong name or missing rights: one line, not a traceback later
    except (BotoCoreError, ClientError) as exc:
        raise UserError(f"--bucket {args.bucket}: not readable ({exc})") from None
    return S3Lake(s3, args.bucket)


def run(args: argparse.Namespace) -> int:
    try:
        # DuckDB and sqlglot are analytics-only dependencies (`pip install .[analytics]`).
        from trader_host.analytics.local_athena import LocalAthena, query_names
        from trader_host.analytics.tables import text_table, write_csv
    except ImportError as exc:
        log.error("stats needs the analytics extra (duckdb, sqlglot): %s", exc)
        return 2
    try:
        names = args.query or query_names()
        unknown = sorted(set(names) - set(query_names()))
        if unknown:
            raise ValueError(f"--query: unknown {', '.join(unknown)}; choose from {', '.join(query_names())}")
        athena = LocalAthena(open_lake(args))
    except (FileNotFoundError, ValueError) as exc:
        log.error("stats: %s", exc)
        return 2
    counts = ", ".join(f"{t} {athena.count(t):,}" for t in athena.loads)
    skipped = {t: n for t, n in athena.malformed.items() if n}
    print(f"lake: {counts} records" + (f"; skipped malformed lines: {skipped}" if skipped else ""))
    if athena.empty:
        print("the lake is empty: every query below has no rows")
    for name in names:
        result = athena.run(name)
        print(f"\n== {name}\n{text_table(result)}")
        if args.csv is not None:
            write_csv(result, args.csv)
    if args.csv is not None:
        print(f"\nresults written to {args.csv}/<query>.csv")
    return 0
