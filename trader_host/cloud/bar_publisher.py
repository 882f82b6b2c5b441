"""KinesisBarPublisher: completed bars to the bar stream (partition key = symbol), batched and spooled.

`publish` only queues (the trading loop calls it); `flush` does the I/O and runs off the event loop, as a
CloudJob: every `interval_s` or as soon as `batch_size` bars wait. Bars that cannot be sent are spooled to
disk and go first next time, oldest first.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from regime.contracts import Bar
from trader_host.cloud.batching import send_batches
from trader_host.cloud.spool import DiskSpool

log = logging.getLogger(__name__)
KINESIS_MAX_BATCH = 500


class KinesisBarPublisher:
    """Implements the session's BarSink."""

    def __init__(
        self,
        client: Any,
        stream: str,
        spool_dir: Path | str,
        *,
        batch_size: int = 100,
        interval_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.stream = stream
        self.spool = DiskSpool(spool_dir, f"bars-{stream}")
        self.batch_size = batch_size
        self.interval_s = interval_s
        self._sleep = sleep
        self._queue: deque[str] = deque()  # appended by the loop, drained by flush (deque ops are atomic)
        self.sent = 0

    def publish(self, bar: Bar) -> None:
        """Queue one bar (no I/O)."""
        self._queue.append(bar.to_json())

    def pending(self) -> int:
        """Bars queued in memory, not yet offered to the stream."""
        return len(self._queue)

    def flush(self) -> None:
        """Send the spool, then the queue; whatever is refused goes (back) to the spool."""
        self.spool.replay(self._send)
        lines = []
        while self._queue:
            lines.append(self._queue.popleft())
        self.spool.append(self._send(lines))

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
