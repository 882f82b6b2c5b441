"""JournalShipper: the journal's records to their Firehose streams, from the ship cursor on.

Delivery is at least once: the cursor moves only past lines every one of which Firehose accepted, so a lost
answer or a crash re-sends them, and the lake deduplicates on each record's id (execution id, trip id, order
id, risk event id). Every kind of record has its stream (fills, round trips, orders, risk events).
It runs off the event loop (blocking boto3 calls); it reads the journal through its own file handle.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from trader_host.cloud.batching import send_batches
from trading_engine.journal.ship_cursor import ShipCursor
from trading_engine.journal.trade_journal import KINDS, TradeJournal

log = logging.getLogger(__name__)
FIREHOSE_MAX_BATCH = 500


class JournalShipper:
    """Ships every kind of journal record to its stream; `backlog_bytes()` says how much is waiting."""

    def __init__(
        self,
        journal: TradeJournal,
        client: Any,
        streams: Mapping[str, str],
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`streams`: the Firehose stream of each journal kind (`KINDS`), e.g. {"fill": "...-fills", ...}."""
        missing = [k for k in KINDS if not streams.get(k)]
        unknown = sorted(set(streams) - set(KINDS))
        if missing or unknown:
            raise ValueError(
                f"journal shipper streams: missing {missing or 'none'}, unknown {unknown or 'none'}; "
                f"name one stream for each of {', '.join(KINDS)}"
            )
        self.journal = journal
        self.client = client
        self.streams = {k: streams[k] for k in KINDS}
        self.cursor = ShipCursor(Path(str(journal.path) + ".shipped"))
        self._sleep = sleep
        self.shipped = 0

    def backlog_bytes(self) -> int:
        """Journal bytes not yet acknowledged by the lake (no I/O: asked on every event)."""
        return max(0, self.journal.size - self.cursor.offset)

    def ship(self) -> int:
        """Send everything past the cursor; returns the records accepted (0 when the lake is unreachable)."""
        entries, end = self.journal.read(self.cursor.offset)
        if end == self.cursor.offset:
            return 0
        lines: dict[str, list[str]] = {kind: [] for kind in KINDS}
        for entry in entries:
            lines[entry.kind].append(json.dumps(entry.record, separators=(",", ":")))
        for kind, batch in lines.items():
            if batch and self._send(self.streams[kind], batch):
                log.warning(
                    "lake did not take every %s record: %d waiting in the journal", kind, len(entries)
                )
                return 0
        self.cursor.advance(end)
        self.shipped += len(entries)
        return len(entries)

    def _send(self, stream: str, lines: list[str]) -> list[str]:
        def put(batch: list[str]) -> list[str | None]:
            response = self.client.put_record_batch(
                DeliveryStreamName=stream, Records=[{"Data": (line + "\n").encode()} for line in batch]
            )
            return [r.get("ErrorCode") for r in response["RequestResponses"]]

        return send_batches(lines, put, max_batch=FIREHOSE_MAX_BATCH, sleep=self._sleep)
