"""The process executor: forked workers give each configuration exactly what it gives run alone (and what the
numba batches give); a worker's failure or death is an error here, not a hang; Ctrl-C and an abandoned map
stop the workers; threads running here keep the tasks in this process."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.trading_engine.sweep.small_sweep import SMALL_SWEEP
from trader_host.cli import build_parser, main
from trader_host.commands import sweep as sweep_command
from trader_host.commands.sweep import _prepare
from trading_engine.backtest.fast.fast_engine import ahead_of_time_built
from trading_engine.sweep.process_executor import ProcessExecutor, WorkerDied, fork_safe, native_threads
from trading_engine.sweep.sweep_executor import LocalExecutor, TaskResult

GRID = ["--grid", "z_thresh=1.5,2.0", "stop_offset_ticks=3,6"]
pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")


def _pid_result(tasks: list[Any]) -> list[TaskResult]:
    """Each task's result: the worker's process id and the task."""
    return [TaskResult(np.array([float(os.getpid())]), np.array([float(t)])) for t in tasks]


def test_workers_give_each_configuration_what_it_gives_alone() -> None:
    args = build_parser(["sweep"]).parse_args([*SMALL_SWEEP, *GRID])
    setup = _prepare(args)[0]
    tasks: list[Any] = [*range(len(setup.candidates)), (1, "hindsight"), (2, "random"), (3, "trend")]
    batched = dict(LocalExecutor().map(setup.evaluate, tasks))  # numba batches, in this process
    setup.single_loop = True
    forked = dict(ProcessExecutor(2, prepare=setup.prepare).map(setup.evaluate, tasks))
    assert sorted(forked, key=str) == sorted(tasks, key=str)
    for task in tasks:
        config, source = setup.job(task)
        exit_ts, net = setup.engine.trips(setup.engine.run(config, source))
        for got in (forked[task], batched[task]):
            np.testing.assert_array_equal(got.exit_ts, exit_ts)
            np.testing.assert_array_equal(got.net_usd, net)
    assert sum(len(forked[i].net_usd) for i in range(len(setup.candidates))) > 20


def test_the_tasks_are_shared_between_forked_workers() -> None:
    got = dict(ProcessExecutor(2).map(_pid_result, list(range(8))))
    pids = {int(r.exit_ts[0]) for r in got.values()}
    assert sorted(got) == list(range(8)) and all(got[t].net_usd[0] == t for t in got)
    assert os.getpid() not in pids
    if os.cpu_count() and os.cpu_count() >= 2:  # type: ignore[operator]
        assert len(pids) == 2
    assert not multiprocessing.active_children()


def _fails_on_three(tasks: list[Any]) -> list[TaskResult]:
    if 3 in tasks:
        raise ValueError("no configuration three")
    return _pid_result(tasks)


def test_a_workers_exception_is_raised_here_with_its_traceback() -> None:
    with pytest.raises(ValueError, match="no configuration three") as info:
        list(ProcessExecutor(2).map(_fails_on_three, list(range(6))))
    assert any("raised in sweep worker process" in note for note in info.value.__notes__)
    assert not multiprocessing.active_children()


def _dies_on_two(tasks: list[Any]) -> list[TaskResult]:
    if 2 in tasks:
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
    return _pid_result(tasks)


def test_a_worker_that_dies_is_an_error_not_a_hang() -> None:
    with pytest.raises(WorkerDied, match=r"died \(exit code -9.*tasks \[2\]"):
        list(ProcessExecutor(2).map(_dies_on_two, list(range(6))))
    assert not multiprocessing.active_children()


def _slow(tasks: list[Any]) -> list[TaskResult]:
    time.sleep(0.2)
    return _pid_result(tasks)


def test_an_interrupted_map_stops_its_workers() -> None:
    results = ProcessExecutor(2).map(_slow, list(range(20)))
    next(results)
    with pytest.raises(KeyboardInterrupt):
        results.throw(KeyboardInterrupt)  # Ctrl-C while the caller stores a result
    assert not multiprocessing.active_children()


# A sweep of slow tasks in two workers that prints the workers' pids once the first result is in.
SLOW_SWEEP = (
    "import multiprocessing, time\n"
    "import numpy as np\n"
    "from trading_engine.sweep.process_executor import ProcessExecutor\n"
    "from trading_engine.sweep.sweep_executor import TaskResult\n"
    "def slow(tasks):\n"
    "    time.sleep(0.2)\n"
    "    return [TaskResult(np.zeros(1), np.zeros(1)) for _ in tasks]\n"
    "for i, _ in enumerate(ProcessExecutor(2).map(slow, list(range(1000)))):\n"
    "    if i == 0:\n"
    "        print(*[p.pid for p in multiprocessing.active_children()], flush=True)\n"
)


def test_ctrl_c_stops_the_sweep_and_its_workers(tmp_path: Path) -> None:
    script = SLOW_SWEEP
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert proc.stdout is not None
    workers = [int(p) for p in proc.stdout.readline().split()]
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
    try:
        assert proc.wait(timeout=20) != 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert workers
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _gone(pid: int) -> bool:
    """The process has exited (a zombie not yet reaped by its new parent counts as gone)."""
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return True


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_workers_stop_when_the_sweep_is_killed() -> None:
    script = SLOW_SWEEP
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    workers = [int(p) for p in proc.stdout.readline().split()]
    proc.kill()  # SIGKILL: no clean-up runs in the parent
    proc.wait()
    deadline = time.monotonic() + 20
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert workers and all(_gone(pid) for pid in workers)


def test_threads_running_here_keep_the_tasks_in_this_process(caplog: pytest.LogCaptureFixture) -> None:
    known = native_threads()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not fork_safe(known)
        got = dict(ProcessExecutor(2, known_threads=known).map(_pid_result, list(range(4))))
    finally:
        stop.set()
        thread.join()
    assert {int(r.exit_ts[0]) for r in got.values()} == {os.getpid()}
    assert "other threads run in this process" in caplog.text
    assert fork_safe(native_threads())


def test_the_command_reports_the_same_with_workers_as_with_numba_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = {}
    for name, built in (("workers", True), ("batches", False)):
        monkeypatch.setattr(sweep_command, "ahead_of_time_built", lambda built=built: built)
        out = tmp_path / name
        args = [*SMALL_SWEEP, *GRID, "--workers", "2", "--out", str(out / "s"), "--json", str(out / "r.json")]
        assert main(args) == 0
        reports[name] = json.loads((out / "r.json").read_text())
    assert reports["workers"] == reports["batches"]


@pytest.mark.skipif(not ahead_of_time_built(), reason="the ahead-of-time loop is not built (make venv)")
def test_a_sweep_on_the_built_loop_imports_no_numba(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from trader_host.cli import main\n"
        f"assert main({[*SMALL_SWEEP, *GRID, '--out', str(tmp_path / 's')]!r}) == 0\n"
        "print('numba' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "False"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="counts threads in /proc")
def test_an_ml_regimes_session_is_gone_before_the_fork(small_model_path: Path) -> None:
    from regime.inference import RegimeModel
    from regime.synthetic import synthetic_days
    from trading_engine.backtest.regime_choices import regime_source

    known = native_threads()
    series = synthetic_days(1, seed=5).bars
    regime_source("ml", series, model_path=small_model_path)  # a session on every core, released after
    assert fork_safe(known)
    model = RegimeModel.load(small_model_path, threads=2)
    model.decide_batch(series, np.arange(30, len(series), 5))
    assert native_threads() > known and not fork_safe(known)  # a live session's pool: no fork
    del model
