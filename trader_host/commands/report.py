"""`regime-trader report`: one self-contained HTML page of trade analytics.

From the lake (a folder, or the bucket of the local or real cloud), from Athena result sets downloaded as
CSV (`--csv-dir`, one `<query>.csv` each), or from a backtest run here (`--backtest`, on synthetic sessions
or a bars file; its records go through the same lake layout and queries).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from trader_host.commands.market_data import add_market_arguments
from trader_host.commands.stats import open_lake

log = logging.getLogger(__name__)


def register(p: argparse.ArgumentParser) -> None:
    """The subcommand's arguments."""
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--lake", type=Path, help="a folder laid out like the data lake bucket")
    where.add_argument("--bucket", help="the data lake bucket (the stack's DataLakeBucket)")
    where.add_argument("--csv-dir", type=Path, help="Athena result sets downloaded as <query>.csv")
    where.add_argument("--backtest", action="store_true", help="run a backtest here and report it")
    p.add_argument("--out", type=Path, default=Path("report.html"), help="the HTML file to write")
    p.add_argument("--model", type=Path, help="ensemble.onnx: its out-of-sample scores (and the 'ml' regime)")
    p.add_argument(
        "--evaluation",
        type=Path,
        help="`regime-trader evaluate --json` output: the model section shows its held-out scores instead",
    )
    p.add_argument(
        "--regime", default="truth", help="backtest regime source: truth|hindsight|ml|range|trend|random"
    )
    p.add_argument("--hours", type=float, default=6.0, help="hours of price in the price chart")
    add_market_arguments(p)  # --synthetic-days/--bars/--symbol/--seed for --backtest; --symbol for the chart
    p.set_defaults(func=run, synthetic_days=2)  # a report's backtest: two sessions unless told


def run(args: argparse.Namespace) -> int:
    try:
        from trader_host.analytics.local_athena import LocalAthena, query_names
        from trader_host.analytics.price_panel import price_panel
        from trader_host.analytics.progress import Progress
        from trader_host.analytics.report_page import render_report
        from trader_host.analytics.schema import TABLES
        from trader_host.analytics.tables import read_csv_folder
    except ImportError as exc:
        log.error("report needs the analytics extra (duckdb, sqlglot): %s", exc)
        return 2
    try:
        scores = _model_scores(args.model) if args.model is not None else None
        if args.evaluation is not None:
            scores = held_out_scores(args.evaluation)
        if args.csv_dir is not None:
            if not args.csv_dir.is_dir():
                raise FileNotFoundError(f"--csv-dir {args.csv_dir}: no such folder")
            results = read_csv_folder(args.csv_dir)
            if not results:
                raise FileNotFoundError(f"--csv-dir {args.csv_dir}: no <query>.csv in it")
            html = render_report(
                results, source=f"Athena result sets from {args.csv_dir}", model_scores=scores
            )
        else:
            with tempfile.TemporaryDirectory(prefix="report-lake-") as tmp:
                if args.backtest:
                    source = _run_backtest(args, Path(tmp))
                    args.lake, args.bucket = Path(tmp), None
                else:
                    source = f"lake {args.lake}" if args.lake is not None else f"bucket s3://{args.bucket}"
                lake = open_lake(args)
                names = query_names()
                progress = Progress(len(TABLES) + len(names) + 1)
                athena = LocalAthena(lake, on_table=lambda table: progress.step(f"read {table}"))
                results = {}
                for name in names:
                    results[name] = athena.run(name)
                    progress.step(name)
                counts = ", ".join(f"{t} {athena.count(t):,}" for t in TABLES)
                skipped = {t: n for t, n in athena.malformed.items() if n}
                notes = [f"records: {counts}" + (f"; malformed lines skipped: {skipped}" if skipped else "")]
                if athena.empty:
                    notes.append("the lake is empty: no section below has data")
                panel = price_panel(athena, symbol=args.symbol, hours=args.hours)
                progress.step("price chart")
                html = render_report(results, source=source, panel=panel, model_scores=scores, notes=notes)
    except (FileNotFoundError, ValueError) as exc:
        log.error("report: %s", exc)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(html, encoding="utf-8")
    print(f"report written to {args.out} ({len(html) / 1024:.0f} KiB)")
    return 0


def _model_scores(path: Path) -> dict[str, Any]:
    from regime.inference import RegimeModel

    if not path.is_file():
        raise FileNotFoundError(f"--model {path}: no such file")
    return dict(RegimeModel.load(path).metadata.oos_scores)


def held_out_scores(path: Path) -> dict[str, Any]:
    """An `evaluate --json` report's scores in the shape of a model's `oos_scores` (the report's model
    section): per model and hemisphere accuracy beside the base rate, and the vote."""
    try:
        scores = json.loads(path.read_text())["scores"]
        vote = scores["vote"]
        return {
            "models": scores["models"],
            "hemispheres": scores["hemispheres"],
            "vote_accuracy": vote["accuracy"],
            "vote_baseline": vote["baseline"],
        }
    except FileNotFoundError:
        raise FileNotFoundError(f"--evaluation {path}: no such file") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"--evaluation {path}: not an `evaluate --json` report ({exc})") from None


def _run_backtest(args: argparse.Namespace, root: Path) -> str:
    """Run one backtest and write its records into the lake folder `root`; returns a description."""
    from trader_host.analytics.backtest_lake import write_backtest_lake
    from trader_host.commands.market_data import load_market_data
    from trading_engine.backtest.regime_choices import CHOICES, regime_source
    from trading_engine.backtest.runner import run_backtest
    from trading_engine.broker.sim.market_tape import MarketTape
    from trading_engine.config import load_config
    from trading_engine.fees import fee_schedule
    from trading_engine.instruments import SYNTHETIC_SESSION, contract

    if args.regime not in CHOICES:
        raise ValueError(f"--regime: unknown {args.regime}; choose from {', '.join(CHOICES)}")
    for name in (
        "trading_engine.trader",
        "trading_engine.execution",
        "trading_engine.broker",
        "trading_engine.session",
    ):
        logging.getLogger(name).setLevel(logging.WARNING)  # per-order logs are for live sessions
    logging.getLogger("trading_engine.risk").setLevel(logging.ERROR)
    config = load_config(None)
    data = load_market_data(args)
    if data.market is None:
        spec = contract(args.symbol or data.series.symbol)
        tape = MarketTape.from_bars(data.series, spec, config.sim.spread_ticks)
    else:
        spec = contract(args.symbol or data.market.spec.symbol).with_session(SYNTHETIC_SESSION)
        tape = MarketTape.from_synthetic(data.market)
    source = regime_source(
        args.regime,
        data.series,
        model_path=args.model,
        truth=data.truth,
        seed=args.seed,
        tick_size=float(spec.tick_size),
    )
    fees = fee_schedule(config.fees.schedule, spec.symbol)
    _, trader = run_backtest(args.regime, tape, spec, config, fees, source)
    write_backtest_lake(
        root,
        trader.fills(),
        trader.round_trips(),
        data.series,
        source,
        f"backtest-{args.regime}",
        trader.take_records(),
    )
    return f"backtest: {data.source}, regime source {args.regime}, fees {fees.name}"
