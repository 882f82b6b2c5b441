"""The sweep on this machine's cores in worker processes forked from this one (the `SweepExecutor` seam).

Each worker runs its tasks one at a time on the fast engine's ahead-of-time compiled loop, so neither this
process nor the workers import numba (its start-up and its batch kernel's loading cost a second and more,
the whole of a sweep's compute on a small grid). The workers are forked: they inherit the prepared engine,
its tape and every input array copy-on-write (nothing is pickled or copied), and send back only the results
(exit times and net USD per round trip). `prepare` computes, before the fork, what the tasks read (regime
sources, the engine's per-input arrays) so that no worker computes it again.

A worker's exception is raised here (the worker's traceback in its notes); a worker that dies is an error
naming it, never a hang; Ctrl-C stops the workers (they ignore SIGINT and are terminated from here). Forking
a process while other threads run (a Python thread, an ONNX Runtime session's pool) can deadlock the child:
then the tasks run in this process instead, one at a time.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import traceback
import warnings
from collections import deque
from collections.abc import Callable, Generator, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

from trading_engine.sweep.sweep_executor import Evaluate, TaskResult, batches

log = logging.getLogger(__name__)
_AHEAD = 2  # chunks a worker holds: its next one waits in its pipe while this process stores a result


def native_threads() -> int:
    """Threads of this process as the kernel counts them (those of C libraries too), where it tells."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def fork_safe(known_threads: int) -> bool:
    """Whether worker processes can be forked from this one: fork exists here, no other Python thread runs
    (a forked child has only the forking thread, and a lock another thread held stays locked in it), and no
    native thread started since `known_threads` were counted (an ONNX Runtime session's pool left running).
    The threads counted before are those of libraries that shut their pools down around a fork (OpenBLAS,
    pyarrow's reader), idle once the data are loaded."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and native_threads() <= known_threads
    )


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class WorkerDied(RuntimeError):
    """A worker process ended without answering (killed: out of memory, a signal)."""


class ProcessExecutor:
    """`workers` forked processes (at most one per core), each given `batch` tasks at a time as it becomes
    free; `prepare(tasks)` runs here first, `meanwhile()` once, here, while the first workers run (work
    for later that would otherwise leave the cores idle). One worker, or threads running here beyond
    `known_threads` (`fork_safe`; default: those running now): the tasks run in this process."""

    def __init__(
        self,
        workers: int,
        batch: int = 1,
        prepare: Callable[[list[Any]], None] | None = None,
        known_threads: int | None = None,
        meanwhile: Callable[[], None] | None = None,
    ) -> None:
        self.workers = max(1, min(workers, cores()))
        self.batch = batch
        self.prepare = prepare
        self.known_threads = native_threads() if known_threads is None else known_threads
        self.meanwhile = meanwhile

    def map(self, evaluate: Evaluate, tasks: list[Any]) -> Generator[tuple[Any, TaskResult]]:
        if self.prepare is not None:
            self.prepare(tasks)
        chunks = list(batches(tasks, self.batch))
        workers = min(self.workers, len(chunks))
        if workers > 1 and not fork_safe(self.known_threads):
            log.warning(
                "sweep: other threads run in this process: its tasks run here, not in %d workers", workers
            )
            workers = 1
        if workers <= 1:
            for chunk in chunks:
                yield from zip(chunk, evaluate(chunk), strict=True)
            return
        meanwhile, self.meanwhile = self.meanwhile, None
        yield from _forked(evaluate, chunks, workers, meanwhile)


def _forked(
    evaluate: Evaluate, chunks: list[list[Any]], workers: int, meanwhile: Callable[[], None] | None
) -> Iterator[tuple[Any, TaskResult]]:
    """The chunks' results from `workers` forked processes, each kept `_AHEAD` chunks ahead (more while
    `meanwhile` runs) and sent another as it answers one."""
    context = multiprocessing.get_context("fork")
    procs: list[tuple[Any, Connection]] = []
    finished = False
    try:
        for _ in range(workers):
            here, there = context.Pipe()
            # The worker closes its copies of this process's ends (its own and earlier workers'): else it
            # would hold its own pipe open and never read end of file when this process dies.
            ends = [c for _, c in procs] + [here]
            proc = context.Process(
                target=_work, args=(evaluate, there, ends), daemon=True, name="sweep-worker"
            )
            with warnings.catch_warnings():  # fork_safe() judged the threads here (CPython counts them all)
                warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
                proc.start()
            there.close()  # this process's copy: the worker's death then reads as end of file here
            procs.append((proc, here))
        todo = deque(chunks)
        queued: dict[Connection, tuple[Any, deque[list[Any]]]] = {conn: (p, deque()) for p, conn in procs}

        def feed(conn: Connection, ahead: int) -> None:
            queue = queued[conn][1]
            while todo and len(queue) < ahead:
                queue.append(todo.popleft())
                conn.send(queue[-1])

        # Before `meanwhile`, enough for the workers not to wait for it (a quarter of the chunks).
        first = max(_AHEAD, -(-len(chunks) // (4 * workers))) if meanwhile is not None else _AHEAD
        for conn in queued:
            feed(conn, first)
        if meanwhile is not None:
            meanwhile()
        while any(queue for _, queue in queued.values()):
            for ready in wait([conn for conn, (_, queue) in queued.items() if queue]):
                assert isinstance(ready, Connection)
                proc, queue = queued[ready]
                chunk = queue.popleft()
                results = _answer(ready, proc, chunk)
                feed(ready, _AHEAD if len(todo) >= _AHEAD * workers else 1)  # the last ones to who is free
                yield from zip(chunk, results, strict=True)
        finished = True
    finally:
        _stop(procs, finished)


def _answer(conn: Connection, proc: Any, chunk: list[Any]) -> list[TaskResult]:
    """A worker's results for `chunk`, or its exception raised here, or WorkerDied."""
    try:
        message = conn.recv()
    except (EOFError, OSError):
        proc.join(timeout=5)
        raise WorkerDied(
            f"sweep: worker process {proc.pid} died (exit code {proc.exitcode}; killed for memory, or by a "
            f"signal?) while running tasks {chunk}"
        ) from None
    if message[0] == "ok":
        return message[1]  # type: ignore[no-any-return]
    _, exc, text = message
    if exc is None:
        raise RuntimeError(f"sweep: worker process {proc.pid} failed on tasks {chunk}:\n{text}")
    exc.add_note(f"raised in sweep worker process {proc.pid} on tasks {chunk}:\n{text}")
    raise exc


def _stop(procs: list[tuple[Any, Connection]], finished: bool) -> None:
    """Workers told to exit when all went well, else terminated (an error here, Ctrl-C); always reaped."""
    for proc, conn in procs:
        if finished:
            with contextlib.suppress(OSError):  # a worker already gone
                conn.send(None)
        else:
            proc.terminate()
        conn.close()
    for proc, _ in procs:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
            proc.join()


def _work(evaluate: Evaluate, conn: Connection, parent_ends: list[Connection]) -> None:
    """A worker: chunks of tasks in, their results out, until told to stop (None) or this end closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops us
    for end in parent_ends:
        end.close()
    while True:
        try:
            chunk = conn.recv()
        except (EOFError, OSError):
            return
        if chunk is None:
            return
        try:
            results = evaluate(chunk)
        except BaseException as exc:  # every failure goes back to the parent, named
            text = traceback.format_exc()
            with contextlib.suppress(OSError):  # the parent gone: nobody to tell
                try:
                    conn.send(("error", exc, text))
                except OSError:
                    raise
                except Exception:  # an exception that does not pickle: its text only
                    conn.send(("error", None, text))
            return
        try:
            conn.send(("ok", results))
        except OSError:  # the parent is gone (killed): stop quietly
            return
