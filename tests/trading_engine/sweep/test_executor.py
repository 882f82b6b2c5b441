"""The local executor: batches in this process, results in task order within a batch, and `--workers`
beyond this machine's cores is not an error (numba's threads are capped at the cores)."""

from __future__ import annotations

import numpy as np

from tests.trading_engine.sweep.small_sweep import SMALL_SWEEP
from trader_host.cli import build_parser
from trader_host.commands.sweep import _prepare
from trading_engine.sweep.sweep_executor import LocalExecutor, batches


def test_batches_cover_the_tasks_in_order() -> None:
    assert list(batches(list(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batches([], 3)) == []


def test_more_workers_than_cores_runs_on_every_core() -> None:
    args = build_parser(["sweep"]).parse_args([*SMALL_SWEEP, "--grid", "z_thresh=1.5,2.0", "--workers", "64"])
    setup = _prepare(args)[0]
    assert setup.threads == 64
    got = dict(LocalExecutor(batch=1).map(setup.evaluate, [0, 1]))
    alone = setup.engine.trips(
        setup.engine.run(setup.candidates[1].config, setup.source("range", setup.candidates[1].labels))
    )
    np.testing.assert_array_equal(got[1].net_usd, alone[1])
