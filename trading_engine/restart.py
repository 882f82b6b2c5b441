"""Restart: rebuild a Trader from its journal and reconcile it with the broker's account.

The journal gives back the position, its open trip and the realised P&L (so the daily loss limit counts the
day's earlier losses); the broker gives the executions the journal missed (a kill between the broker's
report and the journal's fsync, fills while the host was down) and the orders a previous process left
working, which are cancelled. An open position is then flattened at market or adopted with its trailing
stop re-armed from the current price (`risk.restart_position`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from regime.contracts import Regime, Role, Side
from trading_engine.broker.port import BrokerPort, Execution
from trading_engine.execution.commands import Command
from trading_engine.execution.ledger import FillContext
from trading_engine.execution.money import usd
from trading_engine.instruments import ContractSpec
from trading_engine.journal.lost_fills import LostFills
from trading_engine.journal.trade_journal import JournalEntry
from trading_engine.trader import Trader

log = logging.getLogger(__name__)


class ReconcileError(RuntimeError):
    """The broker's account cannot be explained by the journal and the broker's executions."""


@dataclass(frozen=True, slots=True)
class RestoreSummary:
    fills: int
    position: int
    realised_net_usd: Decimal
    day_net_usd: Decimal  # realised net of the current trading day

    def describe(self) -> str:
        return (
            f"{self.fills} journaled fill(s): position {self.position}, "
            f"realised net {usd(self.realised_net_usd)} USD, today {usd(self.day_net_usd)} USD"
        )


def execution_of(record: dict[str, Any], spec: ContractSpec) -> Execution:
    """The broker execution a journaled Fill record stands for."""
    ts = datetime.fromisoformat(str(record["ts"]).replace("Z", "+00:00")).timestamp()
    return Execution(
        ts,
        str(record["execution_id"]),
        str(record["order_id"]),
        Side(record["side"]),
        int(record["qty"]),
        spec.to_ticks(Decimal(str(record["price"]))),
        Decimal(str(record["commission_usd"])),
    )


def restore(trader: Trader, entries: list[JournalEntry], now: float) -> RestoreSummary:
    """Replay the journal's fills into a fresh trader's ledger, silently (they were shipped already)."""
    spec = trader.spec
    today = spec.session.trading_date(now)
    day_start: Decimal | None = None
    fills = 0
    trip_ids = {e.record_id for e in entries if e.kind == "round_trip"}
    lost = LostFills(entries, spec)
    for entry in entries:
        if entry.kind != "fill" or entry.record["symbol"] != spec.symbol:
            continue
        ex_id = entry.record_id
        for record in (*lost.before.get(ex_id, ()), entry.record, *lost.after.get(ex_id, ())):
            ex = execution_of(record, spec)
            if trader.has_seen(ex.execution_id):
                continue
            if day_start is None and spec.session.trading_date(ex.ts) >= today:
                day_start = trader.realised_net_usd()
            role, regime = Role(record["role"]), Regime(record["regime"])
            closed = trader.replay_fill(ex, FillContext(role, regime, float(record["zscore"]), None))
            fills += 1
            for trip in closed:
                if trip.trip_id not in trip_ids:  # its line was torn by a kill: journal and ship it again
                    log.warning("restore: round trip %s was not journaled; recording it again", trip.trip_id)
                    trader.reemit(trip)
    net = trader.realised_net_usd()
    if day_start is None:
        day_start = net
    trader.restore_day(day_start)
    summary = RestoreSummary(fills, trader.position, net, net - day_start)
    if fills:
        log.info("restored %s", summary.describe())
    return summary


async def reconcile(broker: BrokerPort, trader: Trader, now: float, *, at_start: bool) -> list[Command]:
    """Book the broker's executions the trader has not seen; at start, cancel orphan orders.

    Returns the commands to send (cancels). Raises ReconcileError when the positions still disagree.
    """
    missed = [ex for ex in await broker.executions() if not trader.has_seen(ex.execution_id)]
    for ex in missed:
        log.warning(
            "reconcile: execution %s (%s %s x%d @%d) was not journaled: booking it",
            ex.execution_id,
            ex.order_id,
            ex.side,
            ex.qty,
            ex.price,
        )
        trader.book_missed(ex)
    commands: list[Command] = []
    if at_start:
        for open_order in await broker.open_orders():
            if trader.order(open_order.request.order_id) is not None:
                continue
            log.warning(
                "reconcile: orphan order %s still working at the broker: cancelling", open_order.request
            )
            commands += trader.adopt_orphan(open_order, now)
    commands += trader.on_time(now)  # books the missed executions
    broker_position = (await broker.positions()).get(trader.spec.symbol, 0)
    if broker_position != trader.position:
        raise ReconcileError(
            f"broker position {broker_position} but {trader.position} after the journal and "
            f"{len(missed)} execution(s) from the broker: refusing to trade; check the account, flatten "
            "it at the broker if needed, and restart"
        )
    log.info(
        "reconciled with the broker: position %d, %d missed execution(s), %d orphan order(s)",
        broker_position,
        len(missed),
        len(commands),
    )
    if at_start and trader.position:
        trader.on_restart_position()
    return commands
