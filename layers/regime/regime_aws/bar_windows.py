"""The regime function's bars: each symbol's window from the bars table, waiting (bounded) for late bars;
a warm container keeps each window and reads only its tail (`regime.recent_bars`)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from regime.contracts import Bar, BarError
from regime.contracts.timestamps import format_minute as _iso
from regime.recent_bars import RecentBars
from regime_aws import SERVICE
from regime_aws.clients import client
from regime_aws.decision_settings import Settings
from regime_aws.dynamodb_items import from_wire

logger = Logger(child=True, service=SERVICE)
RECENT_BARS = RecentBars()  # per container, as the models: a warm invocation reads only the window's tail


def bar_of_item(item: dict[str, Any]) -> Bar:
    """A bars-table item (DynamoDB wire format) back into the Bar contract."""
    plain = from_wire(item)
    plain.pop("expires_at", None)
    return Bar.from_dict(plain)


def read_bars(table: str, symbol: str, after: str, before: str) -> list[Bar]:
    """Bars of `symbol` with after < ts < before (ISO minute strings sort in time order)."""
    bars: list[Bar] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "symbol = :s AND ts BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":s": {"S": symbol}, ":a": {"S": after}, ":b": {"S": before}},
    }
    while True:
        page = client("dynamodb").query(**kwargs)
        for item in page["Items"]:
            try:
                bar = bar_of_item(item)
            except (
                BarError,
                ValueError,
                OverflowError,
            ) as exc:  # a bad stored item must not cost the decision
                logger.warning("unreadable bar item", extra={"symbol": symbol, "error": str(exc)})
                continue
            if after < item["ts"]["S"] < before:
                bars.append(bar)
        if "LastEvaluatedKey" not in page:
            return bars
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def collect_windows(settings: Settings, boundary: datetime, failures: dict[str, str]) -> dict[str, list[Bar]]:
    """Bars before `boundary` per symbol, waiting (bounded) for late last bars and reading only the tail.

    A symbol whose bars cannot be read is left out and its reason put in `failures`.
    """
    window = timedelta(minutes=settings.window_minutes)
    start = _iso(boundary - window)
    end = _iso(boundary)
    last_needed = _iso(boundary - timedelta(minutes=1))
    bars: dict[str, list[Bar]] = {}

    def read(symbol: str, after: str) -> None:
        try:
            bars.setdefault(symbol, []).extend(read_bars(settings.bars_table, symbol, after, end))
        except (ClientError, BotoCoreError) as exc:
            failures[symbol] = f"{symbol}: Query {settings.bars_table} failed: {exc}"
            bars.pop(symbol, None)
            RECENT_BARS.forget(settings.bars_table, symbol)

    def read_window(symbol: str) -> None:
        # What a previous boundary read is kept: only the tail (and a few minutes before it) is read again.
        kept, read_after = RECENT_BARS.split(settings.bars_table, symbol, boundary - window, boundary)
        bars[symbol] = kept
        read(symbol, _iso(read_after))

    client("dynamodb")  # made once before the threads share it (making a client is not thread-safe)
    # The queries are I/O: a few in flight at once keep 100 symbols' windows within the boundary's seconds.
    with ThreadPoolExecutor(max_workers=max(1, min(settings.read_threads, len(settings.symbols)))) as pool:
        list(pool.map(read_window, settings.symbols))
    deadline = time.monotonic() + settings.bar_wait_seconds

    def late() -> list[str]:
        return [s for s, b in bars.items() if not b or _iso(b[-1].ts) < last_needed]

    while (waiting := late()) and time.monotonic() < deadline:
        time.sleep(min(settings.bar_poll_seconds, max(0.0, deadline - time.monotonic())))
        for s in waiting:
            read(s, _iso(bars[s][-1].ts) if bars[s] else start)
    for s in late():
        logger.info(
            "last bar missing after waiting", extra={"symbol": s, "waited_s": settings.bar_wait_seconds}
        )
    for s, window_bars in bars.items():
        RECENT_BARS.keep(settings.bars_table, s, window_bars)
    return bars
