"""Quarantine: corrupt lines set aside in a side file with the reason, once each, never forwarded."""

from __future__ import annotations

import base64
import json
import logging
import os
import zlib
from pathlib import Path

log = logging.getLogger(__name__)


class Quarantine:
    """`<name>.quarantine.jsonl` beside the file it guards: a JSON line per bad line (where, why, bytes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: set[tuple[str, int, int]] = set()
        if path.exists():
            for line in path.read_bytes().splitlines():
                try:
                    item = json.loads(line)
                    raw = base64.b64decode(item["raw_b64"])
                    self._seen.add((str(item["source"]), int(item["offset"]), zlib.crc32(raw)))
                except (ValueError, KeyError, TypeError):
                    continue  # a damaged quarantine entry only costs a repeated report
        self.count = len(self._seen)

    def put(self, source: Path, offset: int, raw: bytes, reason: str) -> bool:
        """Set `raw` (found at `offset` of `source`) aside; False if it was already there."""
        key = (str(source), offset, zlib.crc32(raw))
        if key in self._seen:
            return False
        entry = {
            "source": str(source),
            "offset": offset,
            "reason": reason,
            "raw_b64": base64.b64encode(raw).decode("ascii"),
        }
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self._seen.add(key)
        self.count += 1
        log.error(
            "quarantined %d byte(s) at offset %d of %s: %s (see %s)",
            len(raw),
            offset,
            source,
            reason,
            self.path,
        )
        return True
