"""The broker the host trades through: the simulated broker (`--broker sim`) or Interactive Brokers (`ib`).

The sim broker keeps its own books on disk (under the state folder) so that it outlives the host as a real
broker does. An IB start passes the evidence gate first: the strategy config and the model it trades must
have earned their place out of sample (or `--accept-unproven` says why not).
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from regime.contracts.evidence import NO_MODEL
from trader_host.broker.ib.clock import BrokerClock
from trader_host.broker.ib.config import IbConfig, config_from_args
from trader_host.cloud.stack_outputs import CloudNames
from trader_host.commands.market_data import MarketData, load_market_data
from trader_host.live_gate import GateVerdict, check_evidence
from trading_engine.broker.port import BrokerPort
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.broker.sim.sim_book import SimBook
from trading_engine.broker.sim.sim_broker import SimBroker
from trading_engine.config import ConfigError, HostConfig, strategy_hash
from trading_engine.fees import fee_schedule, preset_mismatch
from trading_engine.instruments import SYNTHETIC_SESSION, ContractSpec, contract

if TYPE_CHECKING:  # boto3 is imported only by a host with a cloud
    from trader_host.cloud.aws import AwsAccess

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BrokerChoice:
    """The adapter, the contract it trades, where it is (for the start line) and an IB start's verdict."""

    broker: BrokerPort
    spec: ContractSpec
    where: str
    gate: GateVerdict | None = None


@dataclass(frozen=True, slots=True)
class IbOverrides:
    """With --broker ib: a simulated gateway's virtual clock and calendar, and the adapter's limits under
    the command line's connection (tests, bench)."""

    clock: BrokerClock | None = None
    spec: ContractSpec | None = None
    config: IbConfig | None = None


def choose_broker(
    args: argparse.Namespace,
    config: HostConfig,
    names: CloudNames | None,
    access: AwsAccess | None,
    state: Path,
    ib: IbOverrides = IbOverrides(),
) -> BrokerChoice:
    """The broker `args` name; refused (ConfigError) before any state is touched when the stack does not
    serve the symbol, or when an IB start fails its evidence gate."""
    if args.broker == "ib":
        from trader_host.broker.ib.ib_broker import IbBroker  # ib_insync only when it is used

        spec = ib.spec or contract(args.symbol or "CL")
        refuse_unserved(names, spec.symbol)
        gate = live_gate(args, config, names, access, spec.symbol)
        broker = IbBroker(config_from_args(args, spec.symbol, ib.config), spec, ib.clock)
        where = f"IB {args.host}:{args.port} (client {args.client_id}, {'LIVE' if args.live else 'paper'})"
        return BrokerChoice(broker, spec, where, gate)
    data = load_market_data(args)
    spec, tape = _market(args, data, config)
    refuse_unserved(names, spec.symbol)
    book = SimBook(state / "sim-broker" / f"{spec.symbol}.book", f"{data.source} ({spec.symbol})")
    fees = fee_schedule(config.fees.schedule, spec.symbol)
    mismatch = preset_mismatch(fees, spec.symbol)
    if mismatch:
        log.warning("run: %s", mismatch)
    sim = SimBroker(tape, fees, config.sim, pace=args.pace, book=book)
    clock = "virtual clock" if args.pace is None else f"real-pace clock x{args.pace:g}"
    return BrokerChoice(sim, spec, f"the sim broker ({data.source}; {clock})")


def refuse_unserved(names: CloudNames | None, symbol: str) -> None:
    """Stop the start (before any state is touched) when the stack does not serve `symbol`."""
    refusal = None if names is None else names.refusal(symbol)
    if refusal:
        raise ConfigError(refusal)


def live_gate(
    args: argparse.Namespace,
    config: HostConfig,
    names: CloudNames | None,
    access: AwsAccess | None,
    symbol: str,
) -> GateVerdict:
    """The evidence check of an IB start: the strategy config it trades, and the model the cloud's pointer
    names (or the fixed --regime)."""
    if args.regime:
        model_version, regime = NO_MODEL, args.regime
    else:
        model_version, regime = pointer_version(names, access, symbol), "ml"
    return check_evidence(
        args.evidence,
        accept_unproven=args.accept_unproven,
        live=args.live,
        strategy_config_hash=strategy_hash(config),
        model_version=model_version,
        regime=regime,
    )


def pointer_version(names: CloudNames | None, access: AwsAccess | None, symbol: str) -> str:
    """The version of the model the cloud decides with for `symbol`, as its pointer says (NO_MODEL if
    none, or without a cloud)."""
    if names is None or access is None:
        return NO_MODEL
    from botocore.exceptions import BotoCoreError, ClientError

    from regime.contracts.model_pointer import ModelPointer, PointerError

    parameter = names.model_pointer_parameter
    try:
        value = access.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
        entry = ModelPointer.from_json(value).entry(symbol)
    except (BotoCoreError, ClientError, PointerError) as exc:
        log.warning("model pointer %s unreadable: %s", parameter, exc)
        return NO_MODEL
    return entry.version if entry else NO_MODEL


def _market(
    args: argparse.Namespace, data: MarketData, config: HostConfig
) -> tuple[ContractSpec, MarketTape]:
    if data.market is None:
        spec = contract(args.symbol or data.series.symbol)
        return spec, MarketTape.from_bars(data.series, spec, config.sim.spread_ticks)
    spec = contract(args.symbol or data.market.spec.symbol).with_session(SYNTHETIC_SESSION)
    return spec, MarketTape.from_synthetic(data.market)
