"""SimBook: the simulated broker's own books on disk, so that the broker outlives the host as a real one does.

A real broker keeps the account's orders, executions and position when the client dies; a restarted host
must find them there and reconcile. The simulated broker gets the same property from this append-only file
of checksummed lines: every order, arrival, execution, cancel and reject (executions fsynced before they are
reported: the exchange knows first), and the virtual clock once a minute. Loading it rebuilds the account
and the point in the market where it stopped; a file of another market is refused by name.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from regime.contracts import Side
from trading_engine.broker.port import BrokerOrderState, Execution, OrderRequest, OrderType
from trading_engine.broker.sim.matching import SimOrder
from trading_engine.journal.journal_line import encode_line
from trading_engine.journal.line_file import read_lines, repair_tail
from trading_engine.journal.quarantine import Quarantine

log = logging.getLogger(__name__)


class SimBookMismatch(ValueError):
    """The book on disk belongs to another market than the one the broker replays."""


@dataclass
class SimAccount:
    """What a loaded book says: orders by id (with their executions) and the last moment of the clock."""

    orders: dict[str, SimOrder] = field(default_factory=dict)
    clock: float | None = None
    wall: float | None = None  # the wall-clock time of that last clock record
    executions: int = 0


class SimBook:
    """The file `path` for the market named `market_id`."""

    def __init__(self, path: Path | str, market_id: str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.market_id = market_id
        self.quarantine = Quarantine(self.path.with_name(self.path.stem + ".quarantine.jsonl"))
        repair_tail(self.path, self.quarantine)
        self.account = self._load()
        self._fh = self.path.open("ab")
        if self.path.stat().st_size == 0:
            self._write({"e": "market", "id": market_id}, sync=True)

    def _load(self) -> SimAccount:
        account = SimAccount()
        for _, text in read_lines(self.path, 0, self.quarantine)[0]:
            doc = json.loads(text)
            kind = doc["e"]
            if kind == "market" and doc["id"] != self.market_id:
                raise SimBookMismatch(
                    f"{self.path} holds the sim account of {doc['id']!r}, not {self.market_id!r}: "
                    "use the same market arguments, or another --state-dir for a new account"
                )
            if kind == "clock":
                account.clock, account.wall = float(doc["t"]), float(doc["wall"])
            elif kind == "order":
                request = OrderRequest(
                    doc["id"],
                    doc["symbol"],
                    Side(doc["side"]),
                    int(doc["qty"]),
                    OrderType(doc["type"]),
                    doc["limit"],
                )
                account.orders[request.order_id] = SimOrder(request)
            elif kind == "arrive":
                account.orders[doc["id"]].live = True
            elif kind == "exec":
                ex = _execution(doc)
                order = account.orders[ex.order_id]
                order.filled += ex.qty
                order.executions.append(ex)
                account.executions += 1
                if order.remaining == 0:
                    order.state = BrokerOrderState.FILLED
            elif kind in ("cancel", "reject"):
                order = account.orders[doc["id"]]
                order.state = BrokerOrderState.CANCELLED if kind == "cancel" else BrokerOrderState.REJECTED
        if account.orders:
            log.info(
                "sim book %s: %d order(s), %d execution(s), clock %s",
                self.path,
                len(account.orders),
                account.executions,
                account.clock,
            )
        return account

    def _write(self, doc: dict[str, Any], *, sync: bool) -> None:
        self._fh.write(encode_line(json.dumps(doc, separators=(",", ":"))))
        self._fh.flush()
        if sync:
            os.fsync(self._fh.fileno())

    def order(self, request: OrderRequest) -> None:
        self._write(
            {
                "e": "order",
                "id": request.order_id,
                "symbol": request.symbol,
                "side": request.side.value,
                "qty": request.qty,
                "type": request.order_type.value,
                "limit": request.limit,
            },
            sync=True,
        )

    def arrived(self, order_id: str) -> None:
        self._write({"e": "arrive", "id": order_id}, sync=False)

    def execution(self, ex: Execution) -> None:
        self._write(
            {
                "e": "exec",
                "t": ex.ts,
                "id": ex.execution_id,
                "order": ex.order_id,
                "side": ex.side.value,
                "qty": ex.qty,
                "price": ex.price,
                "fee": str(ex.commission_usd),
            },
            sync=True,
        )

    def final(self, order_id: str, state: BrokerOrderState) -> None:
        kind = "cancel" if state is BrokerOrderState.CANCELLED else "reject"
        self._write({"e": kind, "id": order_id}, sync=True)

    def clock(self, t: float) -> None:
        self._write({"e": "clock", "t": t, "wall": time.time()}, sync=False)

    def close(self) -> None:
        self._fh.close()


def _execution(doc: dict[str, Any]) -> Execution:
    return Execution(
        float(doc["t"]),
        str(doc["id"]),
        str(doc["order"]),
        Side(doc["side"]),
        int(doc["qty"]),
        int(doc["price"]),
        Decimal(str(doc["fee"])),
    )
