"""The whole `regime-trader backtest` and `sweep` commands against backtrader, side by side, one sitting.

Each measurement is a whole process (start, imports, reading the file, the run, the report), timed by its
wall clock, with its peak resident memory (the child's own, from wait4). The three commands alternate, three
rounds, medians reported, with the machine's load average before each round (the machine may be shared):

- ours:   regime-trader backtest --bars MES_1m_2023.csv --regimes range --fees ib-tiered
- sweep:  regime-trader sweep --bars MES_1m_2023.csv --regime range --fees ib-tiered --folds 3
          --grid z_thresh=1.5,1.75,2.0,2.25,2.5 z_target=0,0.2,0.4,0.6 stop_offset_ticks=2,4,6,8,12
          (100 configurations, each over the whole year, a fresh results store every time)
- backtrader 1.9.78: the same z-score strategy under a fixed range regime on the same file, load + run
  (bench/_backtrader_peer.py)

backtrader is not a project dependency: create a throwaway environment for it once,

    uv venv -p python3.12 /tmp/bt-venv
    uv pip install --python /tmp/bt-venv/bin/python backtrader==1.9.78.123

and point BACKTRADER_PYTHON at its python (default /tmp/bt-venv/bin/python). BENCH_BARS names another bars
file (default ../shared/data/MES_1m_2023.csv), BENCH_ROUNDS the rounds (default 3), BENCH_EARLIER the tree of
an earlier commit to measure in the same rounds (`git archive main | tar -x -C /tmp/earlier`, then
`python -m compileall -q /tmp/earlier`: its commands run on this environment).

The backtest's loop is the module `make venv` compiles ahead of time (trading_engine/backtest/fast/
kernel_aot.py); the figures say whether it was there. Run: `.venv/bin/python -m bench
backtest_vs_backtrader` (about 3 minutes on a quiet 2-core machine, most of it backtrader); figures in
bench/results/backtest_vs_backtrader.json.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.results import write_results

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("BENCH_BARS", REPO.parent / "shared" / "data" / "MES_1m_2023.csv"))
BACKTRADER_PYTHON = Path(os.environ.get("BACKTRADER_PYTHON", "/tmp/bt-venv/bin/python"))
PEER = Path(__file__).with_name("_backtrader_peer.py")
GRID = ["z_thresh=1.5,1.75,2.0,2.25,2.5", "z_target=0,0.2,0.4,0.6", "stop_offset_ticks=2,4,6,8,12"]
CREATE = (
    "uv venv -p python3.12 /tmp/bt-venv && "
    "uv pip install --python /tmp/bt-venv/bin/python backtrader==1.9.78.123"
)


def measure(argv: list[str], env: dict[str, str] | None = None, cwd: Path = REPO) -> dict[str, Any]:
    """Run one whole process; its wall time, its own peak RSS and its last output line."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd, text=True, env=env
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n{out[-2000:]}")
    return {"seconds": seconds, "peak_rss_mb": usage.ru_maxrss / 1024, "output": out.strip().splitlines()}


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(float(statistics.median(r[key] for r in runs)), 2)


def main() -> None:
    if not DATA.exists():
        print(f"{DATA} is not present: nothing to measure")
        return
    if not BACKTRADER_PYTHON.exists():
        print(f"backtrader's python not found at {BACKTRADER_PYTHON}: create it with\n  {CREATE}")
        print("or set BACKTRADER_PYTHON to a python that has backtrader 1.9.78 installed")
        return
    from trading_engine.backtest.fast import kernel_aot

    compiled = kernel_aot.module_path(kernel_aot.BUILD_DIR, kernel_aot.source_key()).exists()
    if not compiled:
        print("the loop is not compiled ahead of time: the backtest pays numba's start-up; build it with")
        print("  .venv/bin/python -m trading_engine.backtest.fast.kernel_aot")
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    trader = str(Path(sys.executable).with_name("regime-trader"))
    common = ["--bars", str(DATA), "--fees", "ib-tiered"]
    ours_argv = [trader, "backtest", *common, "--regimes", "range"]
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "sweep": [], "backtrader": []}
    # An earlier commit's tree (BENCH_EARLIER, e.g. `git archive main | tar -x -C DIR`, bytecode compiled)
    # runs the same commands on this environment, in the same rounds: before and after in one sitting.
    earlier = Path(os.environ["BENCH_EARLIER"]) if os.environ.get("BENCH_EARLIER") else None
    earlier_env = None
    if earlier is not None:
        earlier_env = {**os.environ, "PYTHONPATH": f"{earlier}{os.pathsep}{earlier / 'layers' / 'regime'}"}
        runs.update({"earlier": [], "earlier_sweep": []})
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(rounds):
            loads.append(os.getloadavg()[0])
            sweep_argv = [trader, "sweep", *common, "--regime", "range", "--folds", "3", "--grid", *GRID]
            sweep_argv += ["--out", str(Path(tmp) / f"sweep{k}")]  # fresh: a resumed sweep would not run
            cli = [sys.executable, "-m", "trader_host.cli"]
            commands: list[tuple[str, list[str], dict[str, str] | None]] = [
                ("ours", ours_argv, None),
                ("sweep", sweep_argv, None),
                ("backtrader", [str(BACKTRADER_PYTHON), "-W", "ignore", str(PEER), str(DATA)], None),
            ]
            if earlier is not None:
                earlier_sweep = [*cli, *sweep_argv[1:-1], str(Path(tmp) / f"earlier{k}")]
                commands[1:1] = [("earlier", [*cli, *ours_argv[1:]], earlier_env)]
                commands[3:3] = [("earlier_sweep", earlier_sweep, earlier_env)]
            for name, argv, env in commands:
                # `python -m` puts its working directory first on the path: the earlier tree's own.
                runs[name].append(measure(argv, env, cwd=earlier if env and earlier else REPO))
                r = runs[name][-1]
                print(f"round {k + 1} {name:>10}: {r['seconds']:6.2f} s, peak {r['peak_rss_mb']:6.0f} MB")
    peer = json.loads(runs["backtrader"][-1]["output"][-1])
    ours_s, sweep_s, bt_s = (_median(runs[n], "seconds") for n in ("ours", "sweep", "backtrader"))
    figures: dict[str, Any] = {
        "file": DATA.name,
        "rounds": rounds,
        "load_average_1m_before_each_round": [round(x, 2) for x in loads],
        "backtest_command": ours_argv[1:],
        "loop_compiled_ahead_of_time": compiled,
        "backtest_seconds_median": ours_s,
        "backtest_peak_rss_mb_median": _median(runs["ours"], "peak_rss_mb"),
        "sweep_100_configurations_seconds_median": sweep_s,
        "sweep_peak_rss_mb_median": _median(runs["sweep"], "peak_rss_mb"),
        "backtrader_seconds_median": bt_s,
        "backtrader_peak_rss_mb_median": _median(runs["backtrader"], "peak_rss_mb"),
        "backtrader_bars": peer["bars"],
        "backtrader_round_trips": peer["round_trips"],
        "backtest_speedup_vs_backtrader": round(bt_s / ours_s, 1),
        "sweep_100_speedup_vs_one_backtrader_run": round(bt_s / sweep_s, 1),
        "earlier_tree": str(earlier) if earlier else None,
        **(
            {
                "earlier_backtest_seconds_median": _median(runs["earlier"], "seconds"),
                "earlier_backtest_peak_rss_mb_median": _median(runs["earlier"], "peak_rss_mb"),
                "earlier_sweep_seconds_median": _median(runs["earlier_sweep"], "seconds"),
                "earlier_sweep_peak_rss_mb_median": _median(runs["earlier_sweep"], "peak_rss_mb"),
            }
            if earlier
            else {}
        ),
        "seconds": {n: [round(r["seconds"], 2) for r in rs] for n, rs in runs.items()},
        "peak_rss_mb": {n: [round(r["peak_rss_mb"]) for r in rs] for n, rs in runs.items()},
    }
    print(
        f"backtest {ours_s} s ({figures['backtest_peak_rss_mb_median']} MB) vs backtrader {bt_s} s "
        f"({figures['backtrader_peak_rss_mb_median']} MB): {figures['backtest_speedup_vs_backtrader']}x; "
        f"sweep of 100 {sweep_s} s: {figures['sweep_100_speedup_vs_one_backtrader_run']}x one backtrader run"
    )
    write_results("backtest_vs_backtrader", figures)


if __name__ == "__main__":
    main()
