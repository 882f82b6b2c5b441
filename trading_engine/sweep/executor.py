"""Where a sweep's backtests run, and where their results are kept so that a sweep resumes.

`SweepExecutor` is the seam: `map(tasks)` runs `evaluate_task` on each task and yields (task, result) as
they finish. `LocalExecutor` uses every core of this machine (processes; the prepared market is inherited by
fork, not sent). A distributed backend implements the same method on an existing engine: Ray
(`ray.remote(evaluate_task)` over the tasks, the tape in the object store), or AWS Batch / a Step Functions
distributed map whose workers call `evaluate_task` on a slice of tasks and write `ResultStore` files to S3.
No scheduler of our own: the backend schedules, retries and scales.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
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


class SweepExecutor(Protocol):
    def map(
        self, evaluate: Callable[[Any], TaskResult], tasks: list[Any]
    ) -> Iterator[tuple[Any, TaskResult]]:
        """Run `evaluate` on every task; yield each task with its result as it completes."""
        ...


_EVALUATE: Callable[[Any], TaskResult] | None = None  # set before the pool forks


def _run(task: Any) -> tuple[Any, TaskResult]:
    assert _EVALUATE is not None
    return task, _EVALUATE(task)


class LocalExecutor:
    """Every core of this machine; `workers=1` runs in this process (tests, debugging)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1

    def map(
        self, evaluate: Callable[[Any], TaskResult], tasks: list[Any]
    ) -> Iterator[tuple[Any, TaskResult]]:
        global _EVALUATE
        if self.workers == 1 or len(tasks) <= 1:
            for task in tasks:
                yield task, evaluate(task)
            return
        _EVALUATE = evaluate
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            futures = [pool.submit(_run, task) for task in tasks]
            for future in as_completed(futures):
                yield future.result()


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
