"""DiskSpool: records that could not be sent wait on local disk until they can; nothing is lost.

One file per destination, in checksummed lines (`trading_engine.journal.journal_line`). Appends are fsynced; a
replay rewrites the file atomically with whatever is still unsent, so a crash at any point loses nothing (at
worst a record is sent twice, and every record carries its dedupe key downstream). A torn or corrupt line
is quarantined to a side file with its reason, never sent and never fatal.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from trading_engine.journal.journal_line import encode_line
from trading_engine.journal.line_file import read_lines, repair_tail
from trading_engine.journal.quarantine import Quarantine

log = logging.getLogger(__name__)


class DiskSpool:
    """The unsent records of one destination."""

    def __init__(self, directory: Path | str, name: str) -> None:
        self.path = Path(directory) / f"{name}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.quarantine = Quarantine(self.path.with_name(f"{name}.quarantine.jsonl"))
        repair_tail(self.path, self.quarantine)

    def append(self, lines: Sequence[str]) -> None:
        """Keep `lines` (one JSON document each) for later; raises OSError if the disk refuses them."""
        if not lines:
            return
        with self.path.open("ab") as fh:
            fh.write(b"".join(encode_line(line) for line in lines))
            fh.flush()
            os.fsync(fh.fileno())
        log.warning("spooled %d record(s) to %s", len(lines), self.path)

    def pending(self) -> list[str]:
        """The good spooled lines, oldest first (corrupt ones are quarantined on the way)."""
        return [text for _, text in read_lines(self.path, 0, self.quarantine)[0]]

    def __len__(self) -> int:
        return len(self.pending())

    def replay(self, send: Callable[[list[str]], list[str]]) -> int:
        """Offer every spooled line to `send`, which returns those it could not send; keep only those."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return 0
        lines = self.pending()
        unsent = send(lines) if lines else []
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            fh.write(b"".join(encode_line(line) for line in unsent))
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.path)
        sent = len(lines) - len(unsent)
        if sent:
            log.info("replayed %d spooled record(s) from %s, %d still waiting", sent, self.path, len(unsent))
        return sent
