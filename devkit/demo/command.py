"""`regime-trader demo` (what `make demo` runs): a whole trading day through the real path, on this machine.

1. train the ensemble on synthetic sessions (reused while the training arguments and code are unchanged);
2. start a moto server, deploy template.yaml on it (functions in-process, the regime schedule only) and
   publish the model as production does (models bucket + SSM pointer);
3. run the host `regime-trader run` assembles (sim broker, virtual clock unless --pace) with the cloud
   stepped in its time: bars -> Kinesis -> ingest_bars -> DynamoDB -> regime -> DynamoDB -> the host's
   strategy -> fills -> Firehose -> S3;
4. run the Athena queries over the local S3 lake, print the statistics and the P&L by regime, write the
   HTML report;
5. stop the server and restore the environment, also on Ctrl-C and on failure.
"""

from __future__ import annotations

import argparse
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trader_host.commands.market_data import load_market_data, utc_argument
from trader_host.commands.user_error import UserError
from trader_host.monitor.attach import add_monitor_arguments, monitor_arguments
from trading_engine.execution.money import usd

log = logging.getLogger(__name__)


def register(p: argparse.ArgumentParser) -> None:
    """The subcommand's arguments."""
    p.add_argument("--days", type=int, default=1, help="sessions to trade (synthetic, or days of --bars)")
    p.add_argument("--seed", type=int, default=8, help="seed of the traded synthetic market")
    p.add_argument("--bars", type=Path, help="trade this bars file instead of a synthetic market")
    p.add_argument(
        "--start", type=utc_argument, help="with --bars: the first day to trade (UTC, e.g. 2026-02-10)"
    )
    p.add_argument("--pace", type=float, help="times real time (1 = real time; default: virtual clock)")
    p.add_argument("--minutes", type=float, help="stop after this many minutes of market time")
    p.add_argument("--train-days", type=int, default=20, help="synthetic sessions to train on")
    p.add_argument("--train-seed", type=int, default=7, help="seed of the training market")
    p.add_argument("--model", type=Path, help="use this ensemble.onnx instead of training")
    p.add_argument("--out", type=Path, default=Path("artifacts/demo"), help="output folder")
    add_monitor_arguments(p)
    p.set_defaults(func=run)


class Steps:
    """Numbered progress lines with the wall time of each step."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.number = 0
        self.started = time.perf_counter()

    def begin(self, what: str) -> None:
        self.number += 1
        self.started = time.perf_counter()
        print(f"[{self.number}/{self.total}] {what} ...", flush=True)

    def done(self, what: str) -> None:
        print(f"      {what} ({time.perf_counter() - self.started:.1f} s)", flush=True)


def run(args: argparse.Namespace) -> int:
    from devkit.demo.cloud import DemoCloud
    from devkit.demo.day import Market

    if args.bars is not None and args.start is None:
        print("regime-trader demo: --bars needs --start (the first day to trade)")
        return 2
    if args.start is not None and args.bars is None:
        raise UserError("--start picks the first day of a --bars file; synthetic sessions have no dates")
    market = Market(args.days, args.seed, args.bars, args.start)
    if market.bars is not None:  # a wrong file or day fails now, not after training and the cloud's start
        load_market_data(_market_arguments(market))
    steps = Steps(4)
    run_dir = args.out / "runs" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    model = _model(args, steps)
    steps.begin("start the local cloud (moto server) and deploy template.yaml")
    try:
        with DemoCloud.start(run_dir / "cloud", market.symbol) as cloud:
            steps.done(f"{cloud.server.url}: {len(cloud.cloud.stack.physical)} resources")
            return _trade_and_report(args, cloud, market, model, run_dir, steps)
    except KeyboardInterrupt:
        print("interrupted: the position was flattened, the local cloud stopped")
        return 130
    finally:
        print("local cloud stopped", flush=True)


def _model(args: argparse.Namespace, steps: Steps) -> Path:
    from devkit.demo.model import cached_model

    steps.begin(f"train the ensemble on {args.train_days} synthetic sessions (seed {args.train_seed})")
    if args.model is not None:
        steps.done(f"given: {args.model}")
        return Path(args.model)
    path, reused = cached_model(args.out, args.train_days, args.train_seed)
    steps.done(f"{'reused' if reused else 'trained'}: {path}")
    return path


def _trade_and_report(
    args: argparse.Namespace, cloud: Any, market: Any, model: Path, run_dir: Path, steps: Steps
) -> int:
    from devkit.demo.analytics import query_lake, write_report
    from devkit.demo.day import build_host, run_day
    from regime.inference import RegimeModel

    host, clock = build_host(
        cloud, run_dir / "state", market, pace=args.pace, minutes=args.minutes, extra=monitor_arguments(args)
    )
    symbol = host.session.trader.spec.symbol
    version = cloud.publish_model(symbol, model)
    what = "synthetic" if market.bars is None else str(market.bars)
    steps.begin(
        f"trade {market.days} session(s) of {symbol} ({what}) through the local cloud, model {version}"
    )
    day = run_day(host, clock)
    if day.interrupted:
        print("interrupted: the position was flattened; the report covers the session so far", flush=True)
    snap = host.session.trader.snapshot()
    regimes = sorted(
        {str(f.result["decisions"][symbol]["regime"]) for f in clock.fired if isinstance(f.result, dict)}
    )
    s = clock.seconds
    steps.done(
        f"{len(clock.fired)} regime decisions ({', '.join(regimes)}), {snap.fills} fills, "
        f"{snap.round_trips} round trips, net {usd(snap.realised_net_usd)} USD; "
        f"wall {day.wall_s:.1f} s: host {day.host_s:.1f}, publish {s['publish']:.1f}, "
        f"ingest {s['ingest']:.1f}, regime {s['regime']:.1f}"
    )
    if host.session.failure is not None:
        print(f"FAILED: {host.session.failure}")
        return 1
    steps.begin("run the Athena queries over the local S3 lake")
    lake = query_lake(cloud.bucket)
    steps.done(f"records: {lake.counts()}")
    print(f"\n{lake.tables()}\n")
    report = write_report(
        lake,
        run_dir / "report.html",
        source=f"demo: {what}, {market.days} session(s) through the local cloud; model {version}",
        symbol=symbol,
        model_scores=dict(RegimeModel.load(model).metadata.oos_scores),
    )
    print(f"report: {report.resolve()}")
    return 130 if day.interrupted else 0


def _market_arguments(market: Any) -> argparse.Namespace:
    """The arguments `run` gets for the demo's market (what `load_market_data` reads)."""
    from trader_host.cli import build_parser

    return build_parser(["run"]).parse_args(["run", *market.run_arguments()])
