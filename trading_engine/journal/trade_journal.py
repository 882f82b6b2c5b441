"""TradeJournal: every trade record, appended and fsynced before the ledger's figures are trusted.

Four kinds of record: fills and round trips (what the ledger is rebuilt from), order outcomes and risk events
(for the lake only). A journal written before the last two existed holds only the first two and reads as it
always did.

The journal is the host's memory across crashes: a restart rebuilds the position and the day's realised P&L
from it, and the shipper forwards to the lake whatever lies past its cursor. Lines are checksummed
(`journal_line`); a torn tail left by a kill is cut off and quarantined at open, so the next append never
glues a good record onto a broken one; a corrupt line found later is quarantined and skipped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from regime.contracts import Fill, OrderOutcome, RiskEvent, RoundTrip, TradeRecord
from trading_engine.journal.journal_line import encode_line
from trading_engine.journal.line_file import read_lines, repair_tail
from trading_engine.journal.quarantine import Quarantine

log = logging.getLogger(__name__)
# Each kind of record and the field that identifies it (the lake's dedupe key).
RECORD_IDS = {"fill": "execution_id", "round_trip": "trip_id", "order": "order_id", "risk_event": "event_id"}
KINDS = tuple(RECORD_IDS)


class JournalWriteError(OSError):
    """An append did not reach the disk (disk full, I/O error); nothing of it was kept."""


class JournalEntry(NamedTuple):
    offset: int  # byte offset of the line in the journal
    kind: str  # one of KINDS
    record: dict[str, Any]  # the record's to_dict()

    @property
    def record_id(self) -> str:
        """The dedupe key: a fill's execution id, a trip id, an order id, a risk event's id."""
        return str(self.record[RECORD_IDS[self.kind]])


def kind_of(record: TradeRecord) -> str:
    if isinstance(record, Fill):
        return "fill"
    if isinstance(record, RoundTrip):
        return "round_trip"
    if isinstance(record, OrderOutcome):
        return "order"
    if isinstance(record, RiskEvent):
        return "risk_event"
    raise TypeError(f"not a trade record: {type(record).__name__}")


class TradeJournal:
    """One append-only file of trade records for one symbol."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.quarantine = Quarantine(self.path.with_name(self.path.stem + ".quarantine.jsonl"))
        created = not self.path.exists()
        repair_tail(self.path, self.quarantine)
        self._fh = self.path.open("ab")
        if created:
            _fsync_dir(self.path.parent)  # the new file's name is durable too
        # Bytes of whole lines; kept here so nobody stats the file per tick.
        self.size = self.path.stat().st_size

    def append(self, records: Sequence[TradeRecord]) -> None:
        """Write `records` and fsync; raises JournalWriteError (with nothing half-written kept) on failure."""
        if not records:
            return
        data = b"".join(
            encode_line(json.dumps({"kind": kind_of(r), "record": r.to_dict()}, separators=(",", ":")))
            for r in records
        )
        fh = self._fh
        start = self.size
        try:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        except OSError as exc:
            self._undo(start)
            raise JournalWriteError(exc.errno, f"journal {self.path}: {exc.strerror or exc}") from exc
        self.size = start + len(data)

    def _undo(self, start: int) -> None:
        # A partial line must not stay: the next append would be glued to it. Best effort on a sick disk.
        with contextlib.suppress(OSError):
            self._fh.close()
        try:
            with self.path.open("r+b") as fh:
                fh.truncate(start)
        except OSError as exc:
            log.error("journal %s: could not cut a failed append back to %d: %s", self.path, start, exc)
        self._fh = self.path.open("ab")

    def read(self, start: int = 0) -> tuple[list[JournalEntry], int]:
        """Complete lines from byte `start`: the good entries, and the offset after the last complete line.

        An incomplete last line (being written now) is left for the next read; a corrupt line is quarantined.
        """
        lines, end = read_lines(self.path, start, self.quarantine)
        entries = [e for e in (self._parse(offset, text) for offset, text in lines) if e is not None]
        return entries, end

    def _parse(self, offset: int, text: str) -> JournalEntry | None:
        try:
            doc = json.loads(text)
            kind, record = doc["kind"], doc["record"]
            if kind not in KINDS or not isinstance(record, dict):
                raise ValueError(f"unknown kind {kind!r}")
            entry = JournalEntry(offset, kind, record)
            entry.record_id  # noqa: B018 - a record without its id cannot be deduplicated downstream
        except (ValueError, KeyError, TypeError) as exc:
            self.quarantine.put(self.path, offset, text.encode(), f"bad record: {exc}")
            return None
        return entry

    def put(self, records: list[TradeRecord]) -> None:
        """The session's RecordSink: append and fsync."""
        self.append(records)

    def close(self) -> None:
        self._fh.close()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
