"""`assemble`: the live host `regime-trader run` serves, built from its arguments.

The steps, each in its own module: the config and the operator's strategy overrides (SSM), the broker
(`broker_choice`), the Trader restored from its journal, the cloud adapters (`cloud_wiring`), then the
TradingSession and its monitor. The cloud's endpoint, region and credentials travel in an `AwsAccess`
handed to every client: assembling a host leaves the process environment as it found it.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from regime.contracts import BarSource, Regime
from trader_host.assembly.broker_choice import BrokerChoice, IbOverrides, choose_broker
from trader_host.cloud.stack_outputs import CloudNames, cloud_names
from trader_host.monitor.attach import attach_monitor
from trader_host.monitor.server import MonitorServer
from trader_host.state_folder import StateFolder
from trading_engine.config import ConfigError, FeesConfig, HostConfig, load_config
from trading_engine.journal.trade_journal import TradeJournal
from trading_engine.regime_source import FixedRegime, RegimeSource
from trading_engine.restart import restore
from trading_engine.session import TradingSession
from trading_engine.trader import Trader

if TYPE_CHECKING:  # boto3 is imported only by a host with a cloud
    from trader_host.cloud.aws import AwsAccess


@dataclasses.dataclass
class LiveHost:
    """The assembled host: its session (with the Trader and the adapters), journal, start line and folder."""

    session: TradingSession
    journal: TradeJournal
    banner: str
    folder: StateFolder
    monitor: MonitorServer | None = None  # the live page; serve it with `monitor.attach.serving`

    def close(self) -> None:
        """The journal closed, the state folder free for the next host."""
        self.journal.close()
        self.folder.release()


@dataclasses.dataclass(frozen=True, slots=True)
class Cloud:
    """The stack the host talks to: its names and how to reach it."""

    names: CloudNames
    access: AwsAccess


def assemble(args: argparse.Namespace, ib: IbOverrides | None = None) -> LiveHost:
    """Build the live host the arguments describe (the composition root; the tests and the demo use it).

    `ib`: with --broker ib, a simulated gateway's clock, calendar and limits (tests, bench).
    """
    if args.no_cloud and args.regime is None:
        raise ConfigError("--no-cloud has no regime decisions: name one with --regime trend|range|nothing")
    config = load_config(args.config)
    cloud = None if args.no_cloud else connect_cloud(config, args.stack_outputs)
    if cloud is not None:
        from trader_host.assembly.strategy_overrides import strategy_from_ssm

        parameter = cloud.names.strategy_config_parameter
        config = strategy_from_ssm(config, cloud.access.client("ssm"), parameter)
    if args.fees:
        config = dataclasses.replace(config, fees=FeesConfig(schedule=args.fees))
    folder = StateFolder(Path(args.state_dir or config.cloud.state_dir))  # refused if another host has it
    try:
        return _assemble(args, config, cloud, folder, ib or IbOverrides())
    except BaseException:
        folder.release()
        raise


def connect_cloud(config: HostConfig, stack_outputs: str | None) -> Cloud:
    """The stack's names (from `--stack-outputs`, the rest from `[cloud]`) and the access its file names;
    a ConfigError when boto3 would lack a region or credentials."""
    from trader_host.cloud.aws import AwsAccess

    names = cloud_names(config.cloud, stack_outputs)
    access = AwsAccess.of(names.environment)
    if missing := access.missing_setup():
        raise ConfigError(missing)
    return Cloud(names, access)


def _assemble(
    args: argparse.Namespace, config: HostConfig, cloud: Cloud | None, folder: StateFolder, ib: IbOverrides
) -> LiveHost:
    state = folder.path
    names, access = (None, None) if cloud is None else (cloud.names, cloud.access)
    chosen: BrokerChoice = choose_broker(args, config, names, access, state, ib)
    broker, spec = chosen.broker, chosen.spec
    journal = TradeJournal(state / f"{spec.symbol}.journal")
    trader = Trader(spec, config, id_prefix=folder.order_id_prefix(spec.symbol))
    restored = restore(trader, journal.read()[0], broker.now())
    regime: RegimeSource = FixedRegime(Regime(args.regime) if args.regime else Regime.NOTHING)
    wiring = None
    if cloud is not None:
        from trader_host.assembly.cloud_wiring import wire_cloud

        wiring = wire_cloud(
            cloud.names,
            cloud.access,
            config,
            symbol=spec.symbol,
            journal=journal,
            spool=state / "spool",
            started_at=broker.now(),
            read_regime=args.regime is None,
            live_clock=args.pace is not None or args.broker == "ib",
            metric_lines=args.metric_lines,
        )
        regime = wiring.regime or regime
    session = TradingSession(
        broker,
        trader,
        regime,
        kill_switch=None if wiring is None else wiring.kill_switch,
        records=journal,
        bars=None if wiring is None else wiring.bars,
        bar_source=BarSource.IB if args.broker == "ib" else BarSource.SIM,
        jobs=[] if wiring is None else wiring.jobs,
        final_jobs=[] if wiring is None else wiring.final_jobs,
        inline_cloud=args.pace is None and args.broker == "sim",
        live=True,
    )
    if wiring is not None:
        wiring.attach(session)
    if args.minutes is not None:
        session.stop_at = broker.now() + args.minutes * 60.0
    gate = chosen.gate
    banner = (
        f"regime-trader run: {spec.symbol} on {chosen.where}; "
        f"regime: {args.regime or 'from the cloud'}; "
        f"cloud: {names.describe() if names else 'none (--no-cloud)'}; state {state}; {restored.describe()}"
        + (f"; {gate.line}" if gate else "")
    )
    notice = gate.line if gate is not None and not gate.proven else ""
    monitor = attach_monitor(session, args.monitor_host, args.monitor_port, notice=notice)
    return LiveHost(session, journal, banner, folder, monitor)
