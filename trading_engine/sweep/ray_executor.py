"""The sweep on a Ray cluster: the `SweepExecutor` seam on Ray's scheduler (no scheduler of our own).

The prepared evaluation (the fast engine: tape, z-scores, regimes) goes once into Ray's object store; each
batch of tasks is a Ray task on a worker, which evaluates it across its cores (one compiled call of the fast
engine); results come back as batches finish, in whatever order, and the caller's ResultStore keeps each one
as it arrives (an interrupted sweep resumes the same way as on one machine). Ray retries a batch whose worker
dies. `address` is an existing cluster (host:port inside it, ray://head:10001 from outside, or RAY_ADDRESS);
without one, Ray's own search: the cluster started on this machine by `ray start`, else a local Ray
started for the sweep and stopped after.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

from trading_engine.sweep.sweep_executor import Evaluate, TaskResult, batches


def _evaluate(evaluate: Evaluate, chunk: list[Any]) -> list[TaskResult]:
    return evaluate(chunk)


class RayExecutor:
    """Batches of `batch` tasks (default: enough for two batches per CPU of the cluster) as Ray tasks."""

    def __init__(self, address: str | None = None, batch: int | None = None) -> None:
        self.address = address or os.environ.get("RAY_ADDRESS")
        self.batch = batch

    def map(self, evaluate: Evaluate, tasks: list[Any]) -> Iterator[tuple[Any, TaskResult]]:
        import ray

        started = not ray.is_initialized()
        if started:
            ray.init(
                address=self.address,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
        try:
            prepared = ray.put(evaluate)  # once, in the object store: every batch reads it there
            cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))  # type: ignore[no-untyped-call]
            size = self.batch or max(1, -(-len(tasks) // (2 * cpus)))
            remote = ray.remote(max_retries=2)(_evaluate)
            pending = {remote.remote(prepared, chunk): chunk for chunk in batches(tasks, size)}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    yield from zip(pending.pop(ref), ray.get(ref), strict=True)
        finally:
            if started:
                ray.shutdown()
