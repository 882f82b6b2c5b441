"""A progress bar on stderr for the steps of a long report (loading a year of records takes seconds)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """`step(label)` advances by one of `total` steps; the bar appears only after the first second, so a
    quick run prints nothing, and it redraws in place on a terminal, one line per step elsewhere."""

    def __init__(self, total: int, stream: TextIO | None = None, delay_s: float = 1.0) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.monotonic()
        self.delay_s = delay_s
        self.shown = False

    def step(self, label: str) -> None:
        self.done = min(self.done + 1, self.total)
        if time.monotonic() - self.start < self.delay_s:
            return
        width = 30
        filled = width * self.done // self.total
        line = f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {label}"
        tty = self.stream.isatty()
        self.stream.write(("\r" + line.ljust(80)) if tty else line + "\n")
        if tty and self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()
        self.shown = True
