"""The fast backtest engine against the reference tick-level engine on a year of MES 1-minute bars.

File: ../shared/data/MES_1m_2023.csv (351,645 bars; replayed as about 2.8 million ticks by the bars-only
intra-bar walk). Figures: the reference engine's speed (SimBroker + TradingSession + Trader, always-range,
default config) and whether the fast engine gives exactly its fills over the whole year; the fast engine's
time for one configuration (best of 3, compiled and cached beforehand) in bars/s and ticks/s; and 100
configurations (z threshold x z target x stop) on one core and on every core (processes).

Run: `.venv/bin/python -m bench fast_backtest` (about a minute, most of it the reference engine; set
FAST_BENCH_NO_REFERENCE=1 to skip it); figures in bench/results/fast_backtest.json.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.results import write_results
from regime.bar_file import load_bar_file
from regime.contracts import Regime
from trading_engine.backtest.fast.fast_engine import FastEngine
from trading_engine.backtest.runner import run_backtest
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import HostConfig, load_config
from trading_engine.fees import TIERED
from trading_engine.instruments import contract
from trading_engine.regime_source import FixedRegime

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "MES_1m_2023.csv"
REGIME = FixedRegime(Regime.RANGE)
_ENGINE: FastEngine | None = None  # set before the worker processes fork


def grid(base: HostConfig) -> list[HostConfig]:
    """100 configurations: 5 z thresholds x 4 z targets x 5 stops."""
    out = []
    for zt, target, stop in itertools.product(
        (1.5, 1.75, 2.0, 2.25, 2.5), (0.0, 0.2, 0.4, 0.6), (2, 4, 6, 8, 12)
    ):
        strategy = dataclasses.replace(base.strategy, z_thresh=zt, z_target=target, stop_offset_ticks=stop)
        out.append(dataclasses.replace(base, strategy=strategy))
    return out


def _fills(config: HostConfig) -> int:
    assert _ENGINE is not None
    return _ENGINE.run(config, REGIME).n_fills


def main() -> None:
    global _ENGINE
    logging.disable(logging.WARNING)
    if not DATA.exists():
        print(f"{DATA} is not present: nothing to measure")
        return
    spec, config = contract("MES"), load_config()
    t = time.perf_counter()
    series = load_bar_file(DATA, symbol="MES").series
    tape = MarketTape.from_bars(series, spec, config.sim.spread_ticks)
    load_s = time.perf_counter() - t
    print(f"{DATA.name}: {tape.n_bars:,} bars, {tape.n_ticks:,} ticks ({load_s:.1f}s to read and walk)")
    t = time.perf_counter()
    engine = _ENGINE = FastEngine(tape, spec, TIERED)
    engine.run(config, REGIME)  # compiles on a first run ever (cached on disk afterwards)
    first_s = time.perf_counter() - t
    times, kernel = [], []
    for _ in range(3):
        t = time.perf_counter()
        run = engine.run(config, REGIME)
        times.append(time.perf_counter() - t)
        kernel.append(run.seconds)
    one = min(times)
    figures: dict[str, Any] = {
        "file": DATA.name,
        "bars": tape.n_bars,
        "ticks": tape.n_ticks,
        "fast_first_run_seconds": round(first_s, 2),
        "fast_one_config_seconds": round(one, 3),
        "fast_one_config_loop_seconds": round(min(kernel), 3),
        "fast_bars_per_second": round(tape.n_bars / one),
        "fast_ticks_per_second": round(tape.n_ticks / one),
        "fills": run.n_fills,
    }
    print(
        f"fast, one config: {one:.3f}s ({min(kernel):.3f}s in the loop) -> "
        f"{figures['fast_bars_per_second']:,} bars/s, {figures['fast_ticks_per_second']:,} ticks/s; "
        f"{run.n_fills:,} fills"
    )
    configs = grid(config)
    t = time.perf_counter()
    serial = [_fills(c) for c in configs]
    figures["fast_100_configs_one_core_seconds"] = round(time.perf_counter() - t, 2)
    workers = os.cpu_count() or 1
    t = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        parallel = list(pool.map(_fills, configs, chunksize=10))
    figures["fast_100_configs_all_cores_seconds"] = round(time.perf_counter() - t, 2)
    figures["cores"] = workers
    assert parallel == serial
    print(
        f"fast, 100 configs: {figures['fast_100_configs_one_core_seconds']}s on one core, "
        f"{figures['fast_100_configs_all_cores_seconds']}s on {workers} cores"
    )
    if not os.environ.get("FAST_BENCH_NO_REFERENCE"):
        figures.update(_reference(engine, tape, spec, config))
    write_results("fast_backtest", figures)


def _reference(engine: FastEngine, tape: MarketTape, spec: Any, config: HostConfig) -> dict[str, Any]:
    result, trader = run_backtest("range", tape, spec, config, TIERED, REGIME)
    fills, trips = engine.records(engine.run(config, REGIME))
    same = fills == trader.fills() and trips == trader.round_trips()
    out = {
        "reference_seconds": round(result.seconds, 1),
        "reference_bars_per_second": round(tape.n_bars / result.seconds),
        "reference_ticks_per_second": round(tape.n_ticks / result.seconds),
        "reference_fills": len(trader.fills()),
        "fast_equals_reference_whole_file": same,
    }
    print(
        f"reference: {result.seconds:.1f}s -> {out['reference_bars_per_second']:,} bars/s; "
        f"{len(trader.fills()):,} fills; fast engine identical on every fill and round trip: {same}"
    )
    return out


if __name__ == "__main__":
    main()
