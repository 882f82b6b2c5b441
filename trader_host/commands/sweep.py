"""`regime-trader sweep`: a grid of strategy and label parameters, walk-forward, with overfitting control.

Every input is checked before the first backtest: the grid (unknown name, impossible value), the regime
source, the folds (too little data). Results are kept per configuration under --out, so an interrupted
sweep run again with the same arguments resumes where it stopped. Locally the configurations run in worker
processes forked one per core on the loop compiled ahead of time (no numba start-up), else in numba batches.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from regime.contracts.evidence import EVIDENCE_DIR
from regime.labels import LabelSpec
from trader_host.commands.market_data import (
    add_market_arguments,
    large_arrays_freed_promptly,
    selection_and_test,
    spec_and_tape,
    utc_argument,
)
from trading_engine.backtest.daily_pnl import day_index
from trading_engine.backtest.fast.fast_engine import FastEngine, ahead_of_time_built
from trading_engine.backtest.regime_choices import CHOICES
from trading_engine.backtest.risk_caps import without_risk_caps
from trading_engine.config import ConfigError, load_config, strategy_hash
from trading_engine.fees import SCHEDULES, fee_schedule
from trading_engine.instruments import UnknownInstrument
from trading_engine.sweep.grid import LABEL_PREFIX, GridError, expand, parse_grid, shown
from trading_engine.sweep.held_out import RANDOM_SEEDS, grid_edges, held_out_test, select_on_all
from trading_engine.sweep.held_out_report import print_held_out, sweep_evidence
from trading_engine.sweep.process_executor import ProcessExecutor, cores, fork_safe, native_threads
from trading_engine.sweep.sweep_executor import LocalExecutor, ResultStore, SweepExecutor
from trading_engine.sweep.sweep_run import BASELINES, SweepSetup, daily_pnl, finite, report, run_all
from trading_engine.sweep.walk_forward import make_folds

log = logging.getLogger(__name__)
_CANDIDATE_REGIMES = tuple(c for c in CHOICES if c != "truth")


def register(p: argparse.ArgumentParser) -> None:
    """The subcommand's arguments."""
    add_market_arguments(p)
    p.add_argument(
        "--grid",
        nargs="+",
        required=True,
        metavar="NAME=V1,V2",
        help="strategy keys (z_thresh, z_target, stop_offset_ticks, ..., min_confidence, max_hold_bars, "
        "entry_windows=09:00-11:30+13:00-14:30,all, atr_pct_low, atr_pct_high) and label.range_z, "
        "label.trend_k",
    )
    p.add_argument(
        "--regime", choices=_CANDIDATE_REGIMES, default="hindsight", help="regime the candidates trade under"
    )
    p.add_argument("--model", type=Path, help="ensemble.onnx for --regime ml")
    p.add_argument("--config", type=Path, help="base config (default: config/strategy.toml)")
    p.add_argument("--fees", choices=SCHEDULES, default="ib-tiered", help="fee schedule (default: ib-tiered)")
    p.add_argument("--no-risk-caps", action="store_true", help="no daily loss or orders-per-minute limit")
    split = p.add_mutually_exclusive_group()
    split.add_argument("--folds", type=int, help="anchored walk-forward folds (default 3)")
    split.add_argument("--split", help="one fold: train before this UTC date/time, test from it")
    held = p.add_mutually_exclusive_group()
    held.add_argument(
        "--test-bars",
        type=Path,
        help="held-out test data: selection, folds, PBO and deflated Sharpe use --bars only; the selected "
        "configuration runs once on this file at the end, reported apart",
    )
    held.add_argument(
        "--test-start",
        type=utc_argument,
        help="held-out test data cut from the same data: bars from this UTC date/time on",
    )
    p.add_argument(
        "--random-seeds", type=int, default=RANDOM_SEEDS, help="random baseline draws on the test data"
    )
    p.add_argument("--evidence", type=Path, help="where to write the evidence record (with a test set)")
    p.add_argument("--min-days", type=int, default=5, help="trading days each training and test window needs")
    p.add_argument(
        "--workers",
        type=int,
        help="cores this machine's sweep uses: worker processes, or numba threads when the loop is not built "
        "ahead of time (default: every core)",
    )
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local: this machine; ray: a Ray cluster (pip install 'regime-trader[ray]')",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="with --executor ray: the cluster (host:port or ray://host:10001; default: RAY_ADDRESS, else a "
        "local Ray started for the sweep)",
    )
    p.add_argument("--out", type=Path, default=Path("state/sweep"), help="results store (resumable)")
    p.add_argument("--json", type=Path, help="also write the report as JSON here")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        setup, folds, first_day, n_days, identity, test = _prepare(args)
        store = ResultStore(args.out, identity)
    except (ConfigError, GridError, UnknownInstrument, ValueError, FileNotFoundError) as exc:
        log.error("sweep: %s", exc)
        return 2
    executor = _executor(args, setup)
    results = run_all(setup, executor, store, lambda n: _progress(0 if args.no_progress else n))
    # The baselines on the same workers; on Ray they run here (a second cluster start costs more than them).
    out = report(setup, results, folds, first_day, n_days, None if args.executor == "ray" else executor)
    out["pbo"], out["deflated_sharpe"] = finite(out["pbo"]), finite(out["deflated_sharpe"])
    out["meta"] = {k: v for k, v in identity.items() if k != "grid"} | {"grid": args.grid}
    chosen = setup.candidates[select_on_all(daily_pnl(setup, results, first_day, n_days)[1])]
    out["grid_edges"] = grid_edges(parse_grid(args.grid), chosen.params)
    _print(out)
    if test is not None:
        log.info("sweep: the selected configuration on the held-out test data (touched once)")
        out["held_out"] = held_out_test(setup, test, chosen, seeds=args.random_seeds)
        out["held_out"]["data"] = identity["test_data"]
        print_held_out(out["held_out"])
        evidence = sweep_evidence(out, setup, test, str(identity["symbol"]), chosen)
        path = args.evidence or EVIDENCE_DIR / f"sweep-{evidence.strategy_config_hash}.json"
        record = evidence.write(path)
        print(f"evidence written to {record}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
        print(f"report written to {args.json}")
    return 0


def _prepare(
    args: argparse.Namespace,
) -> tuple[SweepSetup, list[Any], int, int, dict[str, Any], SweepSetup | None]:
    """Everything checked and built before any backtest runs."""
    config = load_config(args.config)
    if args.no_risk_caps:
        config = without_risk_caps(config)
    grid = parse_grid(args.grid)
    if any(k.startswith(LABEL_PREFIX) for k in grid) and args.regime != "hindsight":
        raise GridError("grid: label thresholds change only the hindsight regime: use --regime hindsight")
    if "min_confidence" in grid and args.regime != "ml":
        raise GridError("grid: min_confidence filters a model's decisions: use --regime ml (a fixed regime, "
                        "labels or chance carry no vote confidence)")  # fmt: skip
    if args.regime == "ml" and args.model is None:
        raise ValueError("--regime ml needs --model PATH")
    candidates = expand(grid, config, LabelSpec())
    if args.min_days < 1:
        raise ValueError(f"--min-days must be >= 1, got {args.min_days}")
    if args.random_seeds < 1:
        raise ValueError(f"--random-seeds must be >= 1, got {args.random_seeds}")
    large_arrays_freed_promptly()
    data, test_data = selection_and_test(args)
    spec, tape = spec_and_tape(args, data, config.sim.spread_ticks)
    fees = fee_schedule(args.fees, spec.symbol)
    if args.regime == "ml":
        from regime.holdout import refuse_training_data  # onnxruntime: imported only for a model
        from regime.inference import RegimeModel

        model = RegimeModel.load(args.model)
        for part in (data, test_data):
            if part is not None:
                refuse_training_data(model, part.series)
    engine = FastEngine(tape, spec, fees)
    minutes = data.series.minute.astype(np.float64) * 60.0
    first_day = int(np.searchsorted(engine.closes, minutes[0], side="right"))
    n_days = int(day_index(engine.closes, minutes[-1:], first_day)[0]) + 1
    split_day = None
    if args.split is not None:
        split_ts = _utc_seconds(args.split)
        split_day = int(day_index(engine.closes, np.array([split_ts]), first_day)[0])
    folds = make_folds(
        n_days, 3 if args.folds is None and split_day is None else args.folds, split_day, args.min_days
    )
    setup = SweepSetup(engine, data.series, candidates, args.regime, args.seed, args.model, args.workers)
    test = None
    if test_data is not None:
        test_spec, test_tape = spec_and_tape(args, test_data, config.sim.spread_ticks)
        test_engine = FastEngine(test_tape, test_spec, fees)
        test = SweepSetup(
            test_engine, test_data.series, candidates, args.regime, args.seed, args.model, args.workers
        )
    identity = {
        "data": data.source,
        "symbol": spec.symbol,
        "bars": len(data.series),
        "grid": sorted(args.grid),
        "regime": args.regime,
        "fees": fees.name,
        "risk_caps": "lifted" if args.no_risk_caps else "on",
        "config": str(args.config or "config/strategy.toml"),
        "seed": args.seed,
        "config_hash": strategy_hash(config),
        "test_data": None if test_data is None else test_data.source,
    }
    log.info(
        "sweep: %d configurations x %d fold(s) over %d trading days", len(candidates), len(folds), n_days
    )
    return setup, folds, first_day, n_days, identity, test


def _executor(args: argparse.Namespace, setup: SweepSetup) -> SweepExecutor:
    """Ray when asked for. Here: worker processes, one per core (`--workers` of them), each running its
    configurations on the ahead-of-time compiled loop, when that loop is built and this process can fork;
    else numba batches across the cores, in this process."""
    if args.executor == "ray":
        from trading_engine.sweep.ray_executor import RayExecutor  # ray: imported only when asked for

        return RayExecutor(args.ray_address)
    if not ahead_of_time_built():
        return LocalExecutor()
    known = native_threads()  # numpy's and the data reader's idle pools
    # The sources first: an ML regime's ONNX Runtime session and its threads come and go with them.
    setup.prepare([c.index for c in setup.candidates])
    if fork_safe(known) or args.workers == 1:
        setup.single_loop = True
        return ProcessExecutor(
            args.workers or cores(),
            prepare=setup.prepare,
            known_threads=known,
            meanwhile=lambda: setup.prepare_sources(BASELINES),  # the baselines' regimes, during the sweep
        )
    return LocalExecutor()


def _utc_seconds(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--split: not a date/time: {text!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _progress(total: int) -> Any:
    if total == 0:
        return _NoProgress()
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: worker processes are forked after the bar starts
    return tqdm(total=total, desc="sweep", unit="config", file=sys.stderr)


class _NoProgress:
    """No bar (--no-progress, or nothing to run): tqdm not even imported."""

    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _print(out: dict[str, Any]) -> None:
    meta = out["meta"]
    print(
        f"{meta['symbol']}: {meta['data']}; {out['configurations']} configurations, "
        f"{out['days']} trading days; regime {meta['regime']}; fees {meta['fees']}; "
        f"risk caps {meta['risk_caps']}"
    )
    print(
        f"{'fold':>4} {'train':>5} {'test':>5} {'net oos':>10} {'trips':>6}  "
        + " ".join(f"{'net ' + b:>14}" for b in ("range", "trend", "random", "hindsight"))
        + "  selected (USD net of fees; train/test in days)"
    )
    for f in out["folds"]:
        base = f["baselines_oos_net_usd"]
        print(
            f"{f['fold']:>4} {f['train_days']:>5} {f['test_days']:>5} "
            f"{f['oos_net_usd']:>10,.2f} {f['oos_trips']:>6}  "
            + " ".join(f"{base[b]:>14,.2f}" for b in ("range", "trend", "random", "hindsight"))
            + "  "
            + ", ".join(f"{k}={shown(v)}" for k, v in f["selected"].items())
        )
    pbo, dsr = out["pbo"], out["deflated_sharpe"]
    print(
        f"walk-forward out of sample (selection data): net {out['oos_net_usd']:,.2f} USD, "
        f"daily Sharpe {out['oos_sharpe_daily']:.3f}; "
        f"PBO {'n/a' if pbo is None else f'{pbo:.2f}'} ({out['pbo_blocks']} blocks); "
        f"deflated Sharpe {'n/a' if dsr is None else f'{dsr:.2f}'}"
    )
    print(out["verdict"])
    if out.get("grid_edges"):
        print(
            "warning: the configuration selected on all selection days sits on the edge of the grid: "
            + ", ".join(out["grid_edges"])
            + " (the best may lie outside it)"
        )
