"""FirehoseRecordSink: fills and round trips to their Firehose streams, deduplicated, batched and spooled."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from regime.contracts import Fill, RoundTrip
from trader_host.cloud.batching import send_batches
from trader_host.cloud.spool import DiskSpool

log = logging.getLogger(__name__)
FIREHOSE_MAX_BATCH = 500


class FirehoseRecordSink:
    """Implements the session's RecordSink. A fill is keyed by execution id, a round trip by trip id."""

    def __init__(
        self,
        client: Any,
        fills_stream: str,
        round_trips_stream: str,
        spool_dir: Path | str,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self._streams = {"fills": fills_stream, "round_trips": round_trips_stream}
        self._spools = {k: DiskSpool(spool_dir, f"{k}-{v}") for k, v in self._streams.items()}
        self._buffers: dict[str, list[str]] = {"fills": [], "round_trips": []}
        self._seen: set[tuple[str, str]] = set()
        self._sleep = sleep
        self.duplicates = 0

    def put(self, records: list[Fill | RoundTrip]) -> None:
        """Queue records; a record already seen (same key) is dropped and counted."""
        for record in records:
            key = record.execution_id if isinstance(record, Fill) else record.trip_id
            kind = "fills" if isinstance(record, Fill) else "round_trips"
            if (kind, key) in self._seen:
                self.duplicates += 1
                log.debug("duplicate %s %s dropped", kind, key)
                continue
            self._seen.add((kind, key))
            self._buffers[kind].append(record.to_json())

    def flush(self) -> None:
        """Replay the spools, then send the buffers; refused records are spooled."""
        for kind, stream in self._streams.items():
            spool = self._spools[kind]
            spool.replay(functools.partial(self._send, stream))
            lines, self._buffers[kind] = self._buffers[kind], []
            spool.append(self._send(stream, lines))

    def _send(self, stream: str, lines: list[str]) -> list[str]:
        if not lines:
            return []

        def put(batch: list[str]) -> list[str | None]:
            response = self.client.put_record_batch(
                DeliveryStreamName=stream, Records=[{"Data": (line + "\n").encode()} for line in batch]
            )
            return [r.get("ErrorCode") for r in response["RequestResponses"]]

        return send_batches(lines, put, max_batch=FIREHOSE_MAX_BATCH, sleep=self._sleep)
