"""KinesisBarPublisher: completed bars to the bar stream (partition key = symbol), batched and spooled."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from regime.contracts import Bar
from trader_host.cloud.batching import send_batches
from trader_host.cloud.spool import DiskSpool

log = logging.getLogger(__name__)
KINESIS_MAX_BATCH = 500


class KinesisBarPublisher:
    """Buffers bars; sends them every `batch_size` bars or `interval_s` seconds, oldest (spooled) first."""

    def __init__(
        self,
        client: Any,
        stream: str,
        spool_dir: Path | str,
        *,
        batch_size: int = 100,
        interval_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.stream = stream
        self.spool = DiskSpool(spool_dir, f"bars-{stream}")
        self.batch_size = batch_size
        self.interval_s = interval_s
        self._clock = clock
        self._sleep = sleep
        self._buffer: list[tuple[str, str]] = []  # (partition key, JSON)
        self._last_flush = clock()
        self.sent = 0

    def publish(self, bar: Bar) -> None:
        """Queue one bar; sends when the batch is full or the interval has passed."""
        self._buffer.append((bar.symbol, bar.to_json()))
        if len(self._buffer) >= self.batch_size or self._clock() - self._last_flush >= self.interval_s:
            self.flush()

    def flush(self) -> None:
        """Send the spool, then the buffer; whatever is refused goes (back) to the spool."""
        self._last_flush = self._clock()
        self.spool.replay(self._send)
        lines = [line for _, line in self._buffer]
        self._buffer.clear()
        unsent = self._send(lines)
        self.spool.append(unsent)

    def _send(self, lines: list[str]) -> list[str]:
        if not lines:
            return []
        unsent = send_batches(lines, self._put, max_batch=KINESIS_MAX_BATCH, sleep=self._sleep)
        self.sent += len(lines) - len(unsent)
        return unsent

    def _put(self, lines: list[str]) -> list[str | None]:
        records = [{"Data": line.encode(), "PartitionKey": _symbol_of(line)} for line in lines]
        response = self.client.put_records(StreamName=self.stream, Records=records)
        return [r.get("ErrorCode") for r in response["Records"]]


def _symbol_of(line: str) -> str:
    # The partition key is read back from the record, so spooled lines stay self-contained.
    return str(json.loads(line)["symbol"])
