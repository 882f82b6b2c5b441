"""DiskSpool: JSON lines that could not be sent wait on local disk until they can; nothing is lost.

One file per destination. Appends are flushed and fsynced; a replay rewrites the file atomically with
whatever is still unsent, so a crash at any point loses nothing (at worst a record is sent twice, and every
record carries its dedupe key downstream).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)


class DiskSpool:
    """The unsent records of one destination."""

    def __init__(self, directory: Path | str, name: str) -> None:
        self.path = Path(directory) / f"{name}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, lines: Sequence[str]) -> None:
        """Keep `lines` (one JSON document each) for later."""
        if not lines:
            return
        with self.path.open("a", encoding="utf-8") as fh:
            for line in lines:
                fh.write(line.replace("\n", " ") + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        log.warning("spooled %d record(s) to %s", len(lines), self.path)

    def pending(self) -> list[str]:
        if not self.path.exists():
            return []
        return [line for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def __len__(self) -> int:
        return len(self.pending())

    def replay(self, send: Callable[[list[str]], list[str]]) -> int:
        """Offer every spooled line to `send`, which returns those it could not send; keep only those."""
        lines = self.pending()
        if not lines:
            return 0
        unsent = send(lines)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(line + "\n" for line in unsent), encoding="utf-8")
        tmp.replace(self.path)
        sent = len(lines) - len(unsent)
        if sent:
            log.info("replayed %d spooled record(s) from %s, %d still waiting", sent, self.path, len(unsent))
        return sent
