"""Files of checksummed lines (the journal, the spools): read the complete lines, cut a torn tail."""

from __future__ import annotations

import os
from pathlib import Path

from trading_engine.journal.journal_line import CorruptLine, decode_line
from trading_engine.journal.quarantine import Quarantine


def repair_tail(path: Path, quarantine: Quarantine) -> None:
    """Cut an unterminated last line (a write the process died in) off `path` and quarantine it.

    Without this, the next append would be glued onto the broken bytes and be lost with them.
    """
    if not path.exists():
        return
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    quarantine.put(path, cut, data[cut:], "torn last line (the process died mid-write)")
    with path.open("r+b") as fh:
        fh.truncate(cut)
        fh.flush()
        os.fsync(fh.fileno())


def read_lines(path: Path, start: int, quarantine: Quarantine) -> tuple[list[tuple[int, str]], int]:
    """(offset, text) of each good complete line from byte `start`, and the offset after the last one.

    A corrupt line is quarantined and skipped; an unterminated last line (being written) is left alone.
    """
    try:
        with path.open("rb") as fh:
            fh.seek(start)
            data = fh.read()
    except FileNotFoundError:
        return [], start
    end = start + data.rfind(b"\n") + 1
    good: list[tuple[int, str]] = []
    offset = start
    for raw in data[: end - start].splitlines(keepends=True):
        try:
            good.append((offset, decode_line(raw)))
        except CorruptLine as exc:
            quarantine.put(path, offset, raw, str(exc))
        offset += len(raw)
    return good, end
