"""Backtest throughput and per-tick decision latency of the trading host.

Six months of synthetic CL (130 weekday sessions, about 179,000 one-minute bars and 5.7 million ticks)
replayed through SimBroker + TradingSession + Trader on the virtual clock, with the regime from a small
ONNX ensemble (batch inference, as `regime-trader backtest --model`). Reports ticks/s and bars/s (with and
without the batch inference) and the latency of Trader.on_tick (median, p99) measured inside the same run.

Run: `.venv/bin/python -m bench backtest` (a few minutes on 2 cores); figures in bench/results/backtest.json.
"""

from __future__ import annotations

import asyncio
import logging
import time
from array import array
from datetime import datetime
from typing import Any

from bench.results import percentiles_us, write_results
from regime.contracts import Regime
from regime.inference import RegimeModel
from regime.models import TrainConfig
from regime.synthetic import synthetic_days
from regime.training import train_ensemble
from trading_engine.backtest.regime_choices import ml_timeline
from trading_engine.backtest.runner import run_backtest
from trading_engine.broker.port import Tick
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.broker.sim.sim_broker import SimBroker
from trading_engine.config import load_config
from trading_engine.execution.commands import Command
from trading_engine.fees import TIERED
from trading_engine.instruments import SYNTHETIC_SESSION, contract
from trading_engine.regime_source import RegimeSource
from trading_engine.session import TradingSession
from trading_engine.trader import Trader

SIX_MONTHS_SESSIONS = 130


class TimedTrader(Trader):
    """A Trader that times every on_tick call (the per-tick decision: z-score, exits, risk, entry)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timings = array("d")

    def on_tick(
        self,
        tick: Tick,
        now: float,
        regime: Regime,
        decision: datetime | None = None,
        confidence: float | None = None,
    ) -> list[Command]:
        start = time.perf_counter()
        out = super().on_tick(tick, now, regime, decision, confidence)
        self.timings.append(time.perf_counter() - start)
        return out


def main() -> None:
    logging.disable(logging.WARNING)  # tens of thousands of orders: logging is not what we measure
    t = time.perf_counter()
    market = synthetic_days(SIX_MONTHS_SESSIONS, seed=21)
    tape = MarketTape.from_synthetic(market)
    generate_s = time.perf_counter() - t
    print(f"market: {tape.n_bars:,} bars, {tape.n_ticks:,} ticks ({generate_s:.1f}s to generate)")

    train_market = synthetic_days(10, seed=5)
    t = time.perf_counter()
    ensemble = train_ensemble(train_market.bars, TrainConfig(folds=2), evaluate=False)
    print(f"model trained on 10 other sessions in {time.perf_counter() - t:.1f}s")
    model = RegimeModel.load(ensemble.onnx_bytes)

    t = time.perf_counter()
    timeline, shares = ml_timeline(market.bars, model)
    inference_s = time.perf_counter() - t
    print(f"batch inference at every 5-minute boundary: {inference_s:.2f}s; shares {shares}")

    config = load_config()
    spec = contract("CL").with_session(SYNTHETIC_SESSION)
    result, _ = run_backtest("ml", tape, spec, config, TIERED, timeline)
    replay_s = result.seconds
    total_s = replay_s + inference_s
    figures: dict[str, Any] = {
        "bars": tape.n_bars,
        "ticks": tape.n_ticks,
        "replay_seconds": round(replay_s, 2),
        "inference_seconds": round(inference_s, 2),
        "ticks_per_second": round(tape.n_ticks / replay_s),
        "bars_per_second": round(tape.n_bars / replay_s),
        "ticks_per_second_with_inference": round(tape.n_ticks / total_s),
        "bars_per_second_with_inference": round(tape.n_bars / total_s),
        "round_trips": result.trades,
        "net_usd": float(result.net_usd),
        "regime_shares": shares,
    }
    print(
        f"replay: {replay_s:.1f}s -> {figures['ticks_per_second']:,} ticks/s, "
        f"{figures['bars_per_second']:,} bars/s ({figures['ticks_per_second_with_inference']:,} ticks/s and "
        f"{figures['bars_per_second_with_inference']:,} bars/s with the inference); {result.trades} trips"
    )

    figures["on_tick_latency"] = _latency(tape, spec, config, timeline)
    lat = figures["on_tick_latency"]
    print(f"Trader.on_tick: median {lat['median_us']} us, p99 {lat['p99_us']} us over {lat['n']:,} ticks")
    write_results("backtest", figures)


def _latency(tape: MarketTape, spec: Any, config: Any, regime: RegimeSource) -> dict[str, float]:
    trader = TimedTrader(spec, config)
    session = TradingSession(SimBroker(tape, TIERED, config.sim), trader, regime)
    asyncio.run(session.run())
    return percentiles_us(trader.timings)


if __name__ == "__main__":
    main()
