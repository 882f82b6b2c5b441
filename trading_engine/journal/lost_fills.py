"""Lost fill lines: a fill whose journal line was quarantined (corrupt) while its round trip's line is intact.

Replaying the journal without that fill would put the ledger out of step (an entry with no exit: a position
the broker does not hold), and the broker's report of the execution, booked at the reconcile after every
other fill, would close a phantom round trip (exit before entry) beside the intact one. The trip's line
holds what the lost fill was: when exactly one fill of a trip is lost and no execution of the trip is
shared with another (a flip), its quantity, price, commission and time follow exactly from the trip and
the trip's other fills, and the replay books it in its place.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from regime.contracts import Role, Side
from trading_engine.instruments import ContractSpec
from trading_engine.journal.trade_journal import JournalEntry

log = logging.getLogger(__name__)
Record = dict[str, Any]


class LostFills:
    """The fills to book before or after a journaled fill (by execution id), rebuilt from intact trips."""

    def __init__(self, entries: list[JournalEntry], spec: ContractSpec) -> None:
        self.before: dict[str, list[Record]] = {}
        self.after: dict[str, list[Record]] = {}
        self.rebuilt: list[str] = []
        fills = {e.record_id: e.record for e in entries if e.kind == "fill"}
        trips = [e.record for e in entries if e.kind == "round_trip" and e.record["symbol"] == spec.symbol]
        seen: dict[str, int] = {}
        for trip in trips:
            for ex_id in (*trip["entry_execution_ids"], *trip["exit_execution_ids"]):
                seen[ex_id] = seen.get(ex_id, 0) + 1
        for trip in trips:
            order = [*trip["entry_execution_ids"], *trip["exit_execution_ids"]]
            lost = [i for i in order if i not in fills]
            if not lost:
                continue
            if len(lost) > 1 or any(seen[i] > 1 for i in order) or len(order) < 2:
                log.error(
                    "journal: fill line(s) %s of round trip %s lost and not rebuildable (more than one, "
                    "or a flip): the broker's report books them at the reconcile",
                    ", ".join(lost),
                    trip["trip_id"],
                )
                continue
            self._rebuild(trip, lost[0], order, fills, spec)

    def _rebuild(
        self, trip: Record, lost: str, order: list[str], fills: dict[str, Record], spec: ContractSpec
    ) -> None:
        entry = lost in trip["entry_execution_ids"]
        same_side = trip["entry_execution_ids"] if entry else trip["exit_execution_ids"]
        others = [fills[i] for i in same_side if i != lost]
        qty = int(trip["qty"]) - sum(int(f["qty"]) for f in others)
        avg = Decimal(str(trip["entry_price" if entry else "exit_price"]))
        value = avg * int(trip["qty"]) - sum(Decimal(str(f["price"])) * int(f["qty"]) for f in others)
        price = (value / qty).quantize(spec.tick_size) if qty > 0 else Decimal(0)
        if qty <= 0 or abs(price * qty - value) > spec.tick_size / 100:
            log.error("journal: fill %s of round trip %s lost, and the trip does not add up", lost, trip)
            return
        fees = Decimal(str(trip["fees_usd"])) - sum(
            Decimal(str(fills[i]["commission_usd"])) for i in order if i != lost
        )
        at = order.index(lost)
        if at == 0:  # the trip's first entry: booked before the trip's next fill, at the trip's start
            anchor, slot, ts = order[1], self.before, trip["entry_ts"]
        else:  # after the fill before it; the last exit at the trip's end
            anchor, slot = order[at - 1], self.after
            ts = trip["exit_ts"] if at == len(order) - 1 else fills[anchor]["ts"]
        side = Side(trip["side"])
        if not entry:
            side = Side.SELL if side is Side.BUY else Side.BUY
        record = {
            "execution_id": lost,
            "order_id": "unknown (journal line lost)",
            "symbol": trip["symbol"],
            "side": side.value,
            "qty": qty,
            "price": str(price),
            "ts": ts,
            "commission_usd": str(fees),
            "regime": trip["regime"],
            "zscore": trip["zscore"],
            "role": (Role.ENTRY if entry else Role.EXIT).value,
        }
        slot.setdefault(anchor, []).append(record)
        self.rebuilt.append(lost)
        log.error(
            "journal: fill %s of round trip %s lost (its line quarantined); rebuilt from the trip for the "
            "replay (%s x%d @%s): the lake has it only if it was shipped before",
            lost,
            trip["trip_id"],
            record["side"],
            qty,
            price,
        )
