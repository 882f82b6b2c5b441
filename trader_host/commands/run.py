"""`regime-trader run`: the live host, the one place that assembles it.

Broker adapter (`--broker sim`: the simulated broker on a virtual or real-pace clock, with its own books
on disk so that it outlives the host as a real broker does; `--broker ib`: Interactive Brokers), the
Trader, the journal, and the cloud adapters named by the stack's outputs; then the TradingSession. At
start the journal is replayed (position, the day's P&L) and the broker reconciled. Ctrl-C and SIGTERM
flatten and stop; a failure flattens and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import signal
from pathlib import Path

from regime.contracts import BarSource, Regime
from regime.contracts.evidence import NO_MODEL
from trader_host.broker.ib.clock import BrokerClock
from trader_host.broker.ib.config import IbConfig, add_ib_arguments, config_from_args
from trader_host.cloud.stack_outputs import CloudNames
from trader_host.commands.market_data import MarketData, add_market_arguments, load_market_data
from trader_host.live_gate import GateVerdict, check_evidence
from trader_host.monitor.attach import add_monitor_arguments, attach_monitor, serving
from trader_host.monitor.server import MonitorServer
from trader_host.state_folder import StateFolder, StateFolderInUse
from trading_engine.broker.port import BrokerPort
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.broker.sim.sim_book import SimBook
from trading_engine.broker.sim.sim_broker import SimBroker
from trading_engine.cloud_job import CloudJob
from trading_engine.config import (
    ConfigError,
    FeesConfig,
    HostConfig,
    load_config,
    strategy_hash,
    with_strategy_overrides,
)
from trading_engine.execution.money import usd
from trading_engine.fees import SCHEDULES, fee_schedule, preset_mismatch
from trading_engine.instruments import SYNTHETIC_SESSION, ContractSpec, contract
from trading_engine.journal.trade_journal import TradeJournal
from trading_engine.regime_source import FixedRegime, RegimeSource
from trading_engine.restart import restore
from trading_engine.session import TradingSession
from trading_engine.trader import Trader

log = logging.getLogger(__name__)
SHIP_EARLY_BYTES = 64 * 1024  # ship before the timer when this much journal waits


def register(p: argparse.ArgumentParser) -> None:
    """The subcommand's arguments."""
    p.add_argument("--broker", choices=("sim", "ib"), default="sim", help="broker adapter")
    add_ib_arguments(p)
    add_market_arguments(p)
    p.add_argument("--pace", type=float, help="sim clock: times real time (1 = real time; default: virtual)")
    p.add_argument(
        "--minutes",
        type=float,
        help="stop (flat) after this many minutes of market time: the sim's clock (virtual, or --pace times "
        "real time); with --broker ib, the market's own clock, which is wall time",
    )
    cloud = p.add_mutually_exclusive_group()
    cloud.add_argument(
        "--stack-outputs",
        help="the cloud's names: a JSON file (`python -m devkit.local_cloud status`) or a stack name",
    )
    cloud.add_argument("--no-cloud", action="store_true", help="standalone: a local journal only")
    p.add_argument(
        "--regime",
        choices=[r.value for r in Regime],
        help="trade under this fixed regime instead of the cloud's decisions (required with --no-cloud)",
    )
    p.add_argument("--config", type=Path, help="strategy config (default: config/strategy.toml)")
    p.add_argument(
        "--fees",
        choices=SCHEDULES,
        help="the sim broker's fees: the article's CL presets retail|tiered|none, or IBKR's published fees "
        "for the symbol ib-fixed|ib-tiered (default: from the config; IB's own come from its reports)",
    )
    p.add_argument("--state-dir", type=Path, help="journal, spools, sim books (default: [cloud] state_dir)")
    p.add_argument(
        "--evidence",
        type=Path,
        help="--broker ib: the evidence record (`regime-trader evaluate` or `sweep`) that this strategy "
        "config and model earned out of sample; a live account refuses to start without it",
    )
    p.add_argument(
        "--accept-unproven",
        action="store_true",
        help="--broker ib: trade a live account without such evidence (logged at every start, shown on "
        "the monitor page)",
    )
    add_monitor_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        host = assemble(args)
    except (ConfigError, ValueError, OSError, StateFolderInUse) as exc:
        print(f"regime-trader run: {exc}")
        return 2
    return asyncio.run(_serve(host))


@dataclasses.dataclass
class LiveHost:
    session: TradingSession
    journal: TradeJournal
    banner: str
    folder: StateFolder
    monitor: MonitorServer | None = None  # the live page; serve it with `monitor.attach.serving`

    def close(self) -> None:
        """The journal closed, the state folder free for the next host."""
        self.journal.close()
        self.folder.release()


def assemble(
    args: argparse.Namespace,
    *,
    ib_clock: BrokerClock | None = None,
    ib_spec: ContractSpec | None = None,
    ib_config: IbConfig | None = None,
) -> LiveHost:
    """Build the live host the arguments describe (the composition root; the tests use it too).

    `ib_clock`, `ib_spec`, `ib_config`: with --broker ib, a simulated gateway's virtual clock and calendar,
    and the adapter's limits under the command line's connection (tests, bench).
    """
    if args.no_cloud and args.regime is None:
        raise ConfigError("--no-cloud has no regime decisions: name one with --regime trend|range|nothing")
    config = load_config(args.config)
    names = None
    if not args.no_cloud:
        from trader_host.cloud.stack_outputs import cloud_names

        names = cloud_names(config.cloud, args.stack_outputs)
        names.apply_environment()
        from trader_host.cloud.aws import missing_setup

        if missing := missing_setup():
            raise ConfigError(missing)
        config = _strategy_from_ssm(config, names.strategy_config_parameter)
    if args.fees:
        config = dataclasses.replace(config, fees=FeesConfig(schedule=args.fees))
    folder = StateFolder(Path(args.state_dir or config.cloud.state_dir))  # refused if another host has it
    try:
        return _assemble(args, config, names, folder, ib_clock, ib_spec, ib_config)
    except BaseException:
        folder.release()
        raise


def _assemble(
    args: argparse.Namespace,
    config: HostConfig,
    names: CloudNames | None,
    folder: StateFolder,
    ib_clock: BrokerClock | None,
    ib_spec: ContractSpec | None,
    ib_config: IbConfig | None,
) -> LiveHost:
    state = folder.path
    broker: BrokerPort
    gate: GateVerdict | None = None
    if args.broker == "ib":
        from trader_host.broker.ib.ib_broker import IbBroker  # ib_insync only when it is used

        spec = ib_spec or contract(args.symbol or "CL")
        _refuse_unserved(names, spec.symbol)
        gate = _live_gate(args, config, names, spec.symbol)
        broker = IbBroker(config_from_args(args, spec.symbol, ib_config), spec, ib_clock)
        where = f"IB {args.host}:{args.port} (client {args.client_id}, {'LIVE' if args.live else 'paper'})"
    else:
        data = load_market_data(args)
        spec, tape = _market(args, data, config)
        _refuse_unserved(names, spec.symbol)
        book = SimBook(state / "sim-broker" / f"{spec.symbol}.book", f"{data.source} ({spec.symbol})")
        fees = fee_schedule(config.fees.schedule, spec.symbol)
        mismatch = preset_mismatch(fees, spec.symbol)
        if mismatch:
            log.warning("run: %s", mismatch)
        broker = SimBroker(tape, fees, config.sim, pace=args.pace, book=book)
        clock = "virtual clock" if args.pace is None else f"real-pace clock x{args.pace:g}"
        where = f"the sim broker ({data.source}; {clock})"
    journal = TradeJournal(state / f"{spec.symbol}.journal")
    trader = Trader(spec, config, id_prefix=folder.order_id_prefix(spec.symbol))
    restored = restore(trader, journal.read()[0], broker.now())
    regime: RegimeSource = FixedRegime(Regime(args.regime)) if args.regime else FixedRegime(Regime.NOTHING)
    jobs: list[CloudJob] = []
    final: list[CloudJob] = []
    bars = kill_switch = metrics = None
    if names is not None:
        from trader_host.cloud.aws import client, resource
        from trader_host.cloud.bar_publisher import KinesisBarPublisher
        from trader_host.cloud.journal_shipper import JournalShipper
        from trader_host.cloud.kill_switch import SsmKillSwitch
        from trader_host.cloud.metrics_publisher import host_metrics_job
        from trader_host.cloud.regime_reader import DynamoRegimeReader

        cc = config.cloud
        bars = KinesisBarPublisher(
            client("kinesis"),
            names.bar_stream,
            state / "spool",
            batch_size=cc.publish_batch_size,
            interval_s=cc.publish_interval_s,
        )
        kill_switch = SsmKillSwitch(
            client("ssm"), names.kill_switch_parameter, config.risk.kill_switch_poll_s
        )
        shipper = JournalShipper(journal, client("firehose"), names.journal_streams())
        ship = CloudJob(
            "ship",
            lambda now: shipper.ship(),
            cc.publish_interval_s,
            ready=lambda: shipper.backlog_bytes() >= SHIP_EARLY_BYTES,
        )
        jobs.append(ship)
        final.append(ship)
        if args.regime is None:
            reader = DynamoRegimeReader(
                resource("dynamodb").Table(names.regime_table), spec.symbol, cc.regime_poll_s
            )
            regime = reader
            jobs.append(
                CloudJob("regime", reader.refresh, cc.regime_poll_s, schedule=reader.next_read_at, wall=False)
            )
        live_clock = args.pace is not None or args.broker == "ib"  # a virtual clock has no quiet hours
        metrics = host_metrics_job(
            client("cloudwatch"), spec.symbol, broker.now(), shipper, bars, wakes_loop=live_clock
        )
        jobs.append(metrics)
        final.append(CloudJob("metrics-final", metrics.final, float("inf")))
    session = TradingSession(
        broker,
        trader,
        regime,
        kill_switch=kill_switch,
        records=journal,
        bars=bars,
        bar_source=BarSource.IB if args.broker == "ib" else BarSource.SIM,
        jobs=jobs,
        final_jobs=final,
        inline_cloud=args.pace is None and args.broker == "sim",
        live=True,
    )
    if metrics is not None:
        metrics.sampler.attach(session)
    if args.minutes is not None:
        session.stop_at = broker.now() + args.minutes * 60.0
    banner = (
        f"regime-trader run: {spec.symbol} on {where}; "
        f"regime: {args.regime or 'from the cloud'}; "
        f"cloud: {names.describe() if names else 'none (--no-cloud)'}; state {state}; {restored.describe()}"
        + (f"; {gate.line}" if gate else "")
    )
    monitor = attach_monitor(session, args.monitor_host, args.monitor_port, notice=_notice(gate))
    return LiveHost(session, journal, banner, folder, monitor)


def _market(
    args: argparse.Namespace, data: MarketData, config: HostConfig
) -> tuple[ContractSpec, MarketTape]:
    if data.market is None:
        spec = contract(args.symbol or data.series.symbol)
        return spec, MarketTape.from_bars(data.series, spec, config.sim.spread_ticks)
    spec = contract(args.symbol or data.market.spec.symbol).with_session(SYNTHETIC_SESSION)
    return spec, MarketTape.from_synthetic(data.market)


def _live_gate(
    args: argparse.Namespace, config: HostConfig, names: CloudNames | None, symbol: str
) -> GateVerdict:
    """The evidence check of an IB start: the strategy config it trades, and the model the cloud's pointer
    names (or the fixed --regime)."""
    if args.regime:
        model_version, regime = NO_MODEL, args.regime
    else:
        model_version, regime = _pointer_version(names, symbol), "ml"
    return check_evidence(
        args.evidence,
        accept_unproven=args.accept_unproven,
        live=args.live,
        strategy_config_hash=strategy_hash(config),
        model_version=model_version,
        regime=regime,
    )


def _pointer_version(names: CloudNames | None, symbol: str) -> str:
    """The version of the model the cloud decides with for `symbol`, as its pointer says ("" if none)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from regime.contracts.model_pointer import ModelPointer, PointerError
    from trader_host.cloud.aws import client

    if names is None:
        return NO_MODEL
    try:
        value = client("ssm").get_parameter(Name=names.model_pointer_parameter)["Parameter"]["Value"]
        entry = ModelPointer.from_json(value).entry(symbol)
    except (BotoCoreError, ClientError, PointerError) as exc:
        log.warning("model pointer %s unreadable: %s", names.model_pointer_parameter, exc)
        return NO_MODEL
    return entry.version if entry else NO_MODEL


def _notice(gate: GateVerdict | None) -> str:
    return gate.line if gate is not None and not gate.proven else ""


def _refuse_unserved(names: CloudNames | None, symbol: str) -> None:
    """Stop the start (before any state is touched) when the stack does not serve `symbol`."""
    refusal = None if names is None else names.refusal(symbol)
    if refusal:
        raise ConfigError(refusal)


def _strategy_from_ssm(config: HostConfig, parameter: str) -> HostConfig:
    """The strategy overrides an operator keeps in SSM (JSON); the config file holds every default."""
    from botocore.exceptions import BotoCoreError, ClientError

    from trader_host.cloud.aws import client

    try:
        value = client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return config
        raise ConfigError(f"strategy config {parameter}: unreadable ({exc})") from None
    except BotoCoreError as exc:
        raise ConfigError(f"strategy config {parameter}: unreadable ({exc})") from None
    try:
        overrides = json.loads(value)
    except ValueError as exc:
        raise ConfigError(f"strategy config {parameter}: not JSON ({exc})") from None
    if overrides:
        log.info("strategy overrides from %s: %s", parameter, overrides)
    return with_strategy_overrides(config, overrides, parameter)


async def _serve(host: LiveHost) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(host.banner, flush=True)
    session = host.session
    try:
        async with serving(host.monitor, session):
            await session.run(stop)
    finally:
        host.close()
    trader = session.trader
    ledger = trader.ledger
    if session.failure is not None:
        why = "failure"
    elif stop.is_set():
        why = "a signal"
    elif trader.risk.kill_reason is not None:
        why = f"kill switch: {trader.risk.kill_reason}"
    elif session.stop_at is not None and session.broker.now() >= session.stop_at:
        why = "--minutes"
    else:
        why = "the end of the data"
    print(
        f"session over ({why}): position {trader.position}, {len(ledger.fills)} fill(s), "
        f"{len(ledger.round_trips)} round trip(s), realised net {usd(ledger.realised_net_usd)} USD",
        flush=True,
    )
    if session.failure is not None:
        print(f"FAILED: {session.failure}", flush=True)
        return 1
    return 0
