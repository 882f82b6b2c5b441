"""ShipCursor: how far into the journal the lake has acknowledged, kept in a small file beside it."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


class ShipCursor:
    """A byte offset, always at a line boundary of the journal; written atomically (temp file + rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = self._load()

    def _load(self) -> int:
        try:
            return max(0, int(self.path.read_text(encoding="ascii").strip()))
        except FileNotFoundError:
            return 0
        except (OSError, ValueError) as exc:
            # Starting over re-sends what was shipped: duplicates the lake deduplicates, never a loss.
            log.error("ship cursor %s unreadable (%s): shipping the journal from its start", self.path, exc)
            return 0

    def advance(self, offset: int) -> None:
        """Record that everything before `offset` reached the lake."""
        if offset <= self.offset:
            return
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="ascii") as fh:
            fh.write(str(offset))
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.path)
        self.offset = offset
