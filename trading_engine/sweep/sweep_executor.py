"""Where a sweep's backtests run, and where their results are kept so that a sweep resumes.

`SweepExecutor` is the seam: `map(evaluate, tasks)` runs `evaluate` on batches of the tasks and yields (task,
result) as batches finish. `ProcessExecutor` (process_executor.py, the default here when the fast engine's
loop is compiled ahead of time) forks one worker process per core, each running its tasks on that loop
without numba, the prepared engine inherited copy-on-write. `LocalExecutor` runs the batches in this process,
each one compiled call of numba's batch spread over every core (numba threads over the shared tape: nothing
is copied or sent). `RayExecutor` (ray_executor.py) sends them to a Ray cluster, the prepared
engine in Ray's object store. Other backends implement the same method on an existing engine (AWS Batch, a
Step Functions distributed map whose workers evaluate a slice of tasks and write `ResultStore` files to S3).
No scheduler of our own: the backend schedules, retries and scales.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class TaskResult:
    """One configuration's closed round trips over the whole data: exit times and net USD."""

    exit_ts: npt.NDArray[np.float64]
    net_usd: npt.NDArray[np.float64]


Evaluate = Callable[[list[Any]], list[TaskResult]]  # a batch of tasks -> their results, in order


class SweepExecutor(Protocol):
    def map(self, evaluate: Evaluate, tasks: list[Any]) -> Iterator[tuple[Any, TaskResult]]:
        """Run `evaluate` on batches of the tasks; yield each task with its result as its batch completes."""
        ...


def batches(tasks: list[Any], size: int) -> Iterator[list[Any]]:
    """The tasks in consecutive batches of at most `size`."""
    for lo in range(0, len(tasks), max(1, size)):
        yield tasks[lo : lo + size]


class LocalExecutor:
    """This machine: batches of `batch` tasks (default: four per core, enough to keep every core busy while
    results stream back), each evaluated across the cores by the engine."""

    def __init__(self, batch: int | None = None) -> None:
        self.batch = batch or 4 * (os.cpu_count() or 1)

    def map(self, evaluate: Evaluate, tasks: list[Any]) -> Iterator[tuple[Any, TaskResult]]:
        for chunk in batches(tasks, self.batch):
            yield from zip(chunk, evaluate(chunk), strict=True)


class ResultStore:
    """One file per finished configuration under `root`, and the sweep's identity: a sweep resumes only
    over the same data, grid and base configuration (otherwise it is an error, not a silent mix)."""

    def __init__(self, root: Path, identity: dict[str, Any]) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        ident = root / "sweep.json"
        text = json.dumps(identity, sort_keys=True, default=str)
        if ident.exists() and ident.read_text() != text:
            raise ValueError(f"{root}: holds another sweep (different data, grid or config); use a new --out")
        ident.write_text(text)

    def _path(self, key: str) -> Path:
        return self.root / "configs" / (key.replace("/", "_") + ".npz")

    def done(self, keys: Iterable[str]) -> set[str]:
        return {k for k in keys if self._path(k).exists()}

    def put(self, key: str, result: TaskResult) -> None:
        path = self._path(key)
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, exit_ts=result.exit_ts, net_usd=result.net_usd)
        os.replace(tmp, path)  # a crash never leaves half a result that counts as done

    def get(self, key: str) -> TaskResult:
        with np.load(self._path(key)) as data:
            return TaskResult(data["exit_ts"], data["net_usd"])
