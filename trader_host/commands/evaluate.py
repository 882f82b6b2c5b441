"""`regime-trader evaluate`: a trained model scored on data after its training, and the strategy
backtested on the same data, one column per regime source; writes an evidence record.

Refuses (exit 2, naming the overlap) data inside the model's training span. On the synthetic market the
data are the sessions that follow the model's training sessions on the calendar (`sessions_after`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from regime.bar_series import datetime_of
from regime.contracts.evidence import EVIDENCE_DIR, NO_MODEL, Evidence
from regime.contracts.timestamps import format_utc
from regime.holdout import score_held_out
from regime.inference import ModelError, RegimeModel
from regime.scorecard import scorecard_text
from regime.synthetic import sessions_after
from trader_host.commands.backtest import columns_to_run, progress_steps, quiet_order_logs, run_config
from trader_host.commands.market_data import (
    MarketData,
    add_market_arguments,
    load_market_data,
    spec_and_tape,
)
from trading_engine.backtest.backtest_results import table
from trading_engine.backtest.columns import RANDOM_SEEDS, Market, pnl_lines, random_band, run_columns
from trading_engine.config import ConfigError, strategy_hash
from trading_engine.fees import SCHEDULES, fee_schedule
from trading_engine.instruments import UnknownInstrument

log = logging.getLogger(__name__)
DEFAULT_SYNTHETIC_SESSIONS = 10


def register(p: argparse.ArgumentParser) -> None:
    """The subcommand's arguments."""
    add_market_arguments(p)
    p.set_defaults(synthetic_days=DEFAULT_SYNTHETIC_SESSIONS)
    p.add_argument("--model", type=Path, required=True, help="the ensemble.onnx to score")
    p.add_argument(
        "--regimes",
        help="backtest columns (default: ml, truth on synthetic data, hindsight, range, trend, random)",
    )
    p.add_argument("--config", type=Path, help="strategy config (default: config/strategy.toml)")
    p.add_argument("--fees", choices=SCHEDULES, help="fee schedule (default: from the config)")
    p.add_argument("--no-risk-caps", action="store_true", help="no daily loss or orders-per-minute limit")
    p.add_argument("--json", type=Path, help="also write the whole report as JSON here")
    p.add_argument(
        "--evidence",
        type=Path,
        help=f"where to write the evidence record (default: {EVIDENCE_DIR}/evaluate-<model version>.json)",
    )
    p.add_argument("--random-seeds", type=int, default=RANDOM_SEEDS, help="random regime draws for its band")
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    step = progress_steps(9, "evaluate", args.no_progress)
    try:
        config = run_config(args)
        model = RegimeModel.load(args.model, threads=0)
        step("data")
        data = _market(args, model)
        step(f"scores of model {model.version}")
        scores = score_held_out(model, data.series, data.truth, args.seed)
        spec, tape = spec_and_tape(args, data, config.sim.spread_ticks)
        fees = fee_schedule(config.fees.schedule, spec.symbol)
        from trading_engine.backtest.fast.fast_engine import FastEngine  # numba: imported only when used

        quiet_order_logs(args)
        market = Market(data.series, data.truth, tape, spec, config, fees, FastEngine(tape, spec, fees))
        choices = columns_to_run(args.regimes, has_truth=data.truth is not None, has_model=True)
        choices = choices if "ml" in choices else ["ml", *choices]  # the column the evidence is about
        ran = run_columns(market, choices, model_path=args.model, seed=args.seed, step=step)
        band = random_band(market, args.random_seeds, step) if "random" in choices else None
        results = [r for r, _ in ran]
        columns = [{**r.to_dict(), "pnl": p} for r, p in ran]
    except (ConfigError, UnknownInstrument, ModelError, ValueError, FileNotFoundError) as exc:
        print(f"regime-trader evaluate: {exc}", file=sys.stderr)
        return 2
    first, end = datetime_of(int(data.series.minute[0])), datetime_of(int(data.series.minute[-1]) + 1)
    ml = next(c for c in columns if c["name"] == "ml")
    evidence = Evidence(
        kind="evaluate",
        created_at=format_utc(datetime.now(UTC)),
        command=shlex.join(["regime-trader", *sys.argv[1:]]),
        symbol=spec.symbol,
        strategy_config_hash=strategy_hash(config),
        regime="ml",
        model_version=model.version or NO_MODEL,
        selection_span=None,
        test_span=[first.isoformat(), end.isoformat()],
        oos_net_usd=float(ml["net_usd"]),
        oos_trips=int(ml["trades"]),
        deflated_sharpe=ml["pnl"]["deflated_sharpe"],
        pbo=None,
        strategy=dataclasses.asdict(config.strategy),
    )
    evidence_path = evidence.write(args.evidence or EVIDENCE_DIR / f"evaluate-{model.version}.json")
    print(f"{spec.symbol}: {data.source}; model {model.version}; fees {fees.name}")
    print(scorecard_text(scores, title=_title(scores)))
    print()
    print(table(results))
    print(pnl_lines(ran, band))
    print(f"evidence written to {evidence_path}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report: dict[str, Any] = {"model": model.version, "data": data.source, "scores": scores}
        report.update(columns=columns, random_seeds=band)
        args.json.write_text(json.dumps({**report, "evidence": json.loads(evidence.to_json())}, indent=2))
        print(f"report written to {args.json}")
    return 0


def _market(args: argparse.Namespace, model: RegimeModel) -> MarketData:
    """The bars file's span as given, or the synthetic sessions after the model's training."""
    if args.bars is not None:
        return load_market_data(args)
    if args.start or args.end:
        raise ValueError(
            "--start/--end select part of a --bars file; for synthetic data use --synthetic-days"
        )
    span = model.metadata.training_span()
    after = span[1] if span else datetime(1970, 1, 1, tzinfo=UTC)
    market = sessions_after(after, args.synthetic_days, args.seed)
    first = datetime_of(int(market.bars.minute[0]))
    return MarketData(
        market.bars,
        f"synthetic: {args.synthetic_days} sessions after the model's training (seed {args.seed}), "
        f"from {first:%Y-%m-%d %H:%M} UTC",
        f"{len(market.bars):,} bars, {len(market.ticks):,} ticks",
        market=market,
    )


def _title(scores: dict[str, Any]) -> str:
    span = scores["span"]
    return (
        f"Held-out evaluation: {scores['samples']} decisions, windows ending "
        f"{span['first_window_end'][:16]}..{span['last_window_end'][:16]} UTC (none inside the training span)"
    )
