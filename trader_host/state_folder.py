"""StateFolder: the host's state folder (journal, spools, sim books), one host's at a time, with a name.

Ownership: a running host holds an exclusive `flock` on `<state>/lock`, whose text says who holds it (pid,
host name, start time). A second host on the same folder would replay the same journal, number its orders and
its simulated executions the same way and double-book the day: it is refused at start, naming the holder. The
kernel releases the lock when the process dies, even by `kill -9`, so a crash never leaves the folder locked.

Identity: `<state>/id`, random and written once, goes into every order id (and the sim account's ids come
from its own book), so the lake's dedupe keys never meet another folder's, host's or day's records; restarts
of one folder keep it, so a record replayed after a crash keeps its id.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import socket
import time
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)


class StateFolderInUse(RuntimeError):
    """Another live process holds the state folder."""


def new_id() -> str:
    """A random id (48 bits, 12 hex digits): unique enough across every folder, host and day there will be."""
    return secrets.token_hex(6)


def durable_write(path: Path, text: str) -> None:
    """Replace `path` with `text`, fsynced before the rename: either the old or the new file, never half."""
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


class StateFolder:
    """The folder `path`, locked for this process until `release()` (or its death)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock: IO[str] | None = self._take_lock()
        self.id = self._identity()

    def _take_lock(self) -> IO[str]:
        fh = (self.path / "lock").open("a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "a process that has not written its name yet"
            fh.close()
            raise StateFolderInUse(
                f"state folder {self.path} is in use by {holder}: one host per state folder "
                "(stop that one, or give this one another --state-dir)"
            ) from None
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()}, started {started}\n")
        fh.flush()
        return fh

    def _identity(self) -> str:
        path = self.path / "id"
        try:
            text = path.read_text().strip()
        except FileNotFoundError:
            text = ""
        if len(text) == 12 and all(c in "0123456789abcdef" for c in text):
            return text
        if text:
            log.error("state folder id %s unreadable (%r): a new one, so no id is ever reused", path, text)
        ident = new_id()
        durable_write(path, ident + "\n")  # durable before any order carries it
        return ident

    def next_run(self) -> int:
        """A number per start, so a restarted host never reuses an order id the broker has seen."""
        path = self.path / "runs"
        try:
            runs = int(path.read_text()) + 1
        except FileNotFoundError:
            runs = 1
        except (OSError, ValueError) as exc:
            runs = int(time.time())  # unreadable: a number larger than any count so far, never one reused
            log.error("run counter %s unreadable (%s): this run is %d", path, exc, runs)
        durable_write(path, str(runs))
        return runs

    def order_id_prefix(self, symbol: str) -> str:
        """The prefix of this start's order ids: symbol, the folder's id, the run number."""
        return f"{symbol}-{self.id}-r{self.next_run()}-"

    def release(self) -> None:
        """Let another host have the folder (closing the file releases the lock)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None
