"""The official IB API client (ibapi 10.x, the strictest decoder there is) against the fake gateway.

Every message the adapter relies on is asked for, and every answer must decode with no exception, no field
left unread and no error callback beyond the farm notices IB itself sends at a connect. A field the fake
gateway gets wrong would otherwise only show as a subtly wrong value in ib_insync (which forgives a lot).
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from ibapi.client import EClient
from ibapi.const import UNSET_DOUBLE
from ibapi.contract import Contract
from ibapi.decoder import Decoder
from ibapi.execution import ExecutionFilter
from ibapi.order import Order
from ibapi.order_cancel import OrderCancel
from ibapi.wrapper import EWrapper

from devkit.fake_gateway.server import FakeGateway

from .conftest import gateway

CALLBACKS = [
    "nextValidId",
    "managedAccounts",
    "position",
    "positionEnd",
    "openOrder",
    "openOrderEnd",
    "orderStatus",
    "completedOrder",
    "completedOrdersEnd",
    "updateAccountValue",
    "updateAccountTime",
    "updatePortfolio",
    "accountDownloadEnd",
    "execDetails",
    "execDetailsEnd",
    "commissionAndFeesReport",
    "contractDetails",
    "contractDetailsEnd",
    "tickPrice",
    "tickSize",
    "historicalData",
    "historicalDataEnd",
    "historicalDataUpdate",
    "currentTime",
    "accountSummaryEnd",
    "accountUpdateMultiEnd",
]
FARM_NOTICES = {2104, 2106, 2158}  # "farm connection is OK": IB sends them on every connect


class Strict(Decoder):  # type: ignore[misc]  # ibapi has no type information
    """ibapi's decoder, failing loudly: a handler's exception or a field it did not read is a problem."""

    problems: list[str]

    def interpret(self, fields: tuple[bytes, ...], msgId: int) -> None:  # noqa: N803  # ibapi's name
        info = self.msgId2handleInfo.get(msgId)
        if info is not None and info.wrapperMeth is not None:  # decoded by the callback's signature
            if len(fields) != len(info.wrapperParams):  # the version field, then one per parameter
                self.problems.append(f"message {msgId}: {fields!r} does not match {info.wrapperParams}")
                return
            self.interpretWithSignature(fields, info)
            return
        if info is None or info.processMeth is None:
            self.problems.append(f"message {msgId}: no decoder for it")
            return
        read = Reading(fields)
        try:
            info.processMeth(self, read)
        except Exception as exc:  # the point: anything a handler raises is a wire error
            self.problems.append(f"message {msgId}: {type(exc).__name__}: {exc} in {fields!r}")
            return
        if read.at != len(fields):
            self.problems.append(f"message {msgId}: fields {fields[read.at :]!r} not read in {fields!r}")


class Reading(Iterator[bytes]):
    def __init__(self, fields: tuple[bytes, ...]) -> None:
        self.fields, self.at = fields, 0

    def __next__(self) -> bytes:
        if self.at >= len(self.fields):
            raise StopIteration
        self.at += 1
        return self.fields[self.at - 1]


class Recorder(EWrapper, EClient):  # type: ignore[misc]
    def __init__(self) -> None:
        EWrapper.__init__(self)
        EClient.__init__(self, self)
        self.calls: Counter[str] = Counter()
        self.args: dict[str, list[tuple[Any, ...]]] = {}
        self.errors: list[tuple[int, int, str]] = []
        self.changed = threading.Condition()

    def error(self, reqId: int, errorTime: int, errorCode: int, errorString: str, *rest: Any) -> None:  # noqa: N803
        with self.changed:
            self.errors.append((reqId, errorCode, errorString))
            self.changed.notify_all()

    def wait(self, name: str, count: int = 1, timeout: float = 30) -> list[tuple[Any, ...]]:
        with self.changed:
            assert self.changed.wait_for(lambda: self.calls[name] >= count, timeout), (
                f"no {name} in {timeout}s; calls {dict(self.calls)}, errors {self.errors}"
            )
            return self.args[name]


def _recording(name: str) -> Callable[..., None]:
    def record(self: Recorder, *args: Any) -> None:
        with self.changed:
            self.calls[name] += 1
            self.args.setdefault(name, []).append(args)
            self.changed.notify_all()

    return record


for _name in CALLBACKS:
    setattr(Recorder, _name, _recording(_name))


@contextmanager
def served(gw: FakeGateway) -> Iterator[int]:
    """The gateway on its own event loop in a thread (ibapi is a threaded client)."""
    loop = asyncio.new_event_loop()
    port = loop.run_until_complete(gw.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        asyncio.run_coroutine_threadsafe(gw.close(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


def cl_future(**fields: Any) -> Contract:
    c = Contract()
    c.symbol, c.secType, c.exchange, c.currency = "CL", "FUT", "NYMEX", "USD"
    for k, v in fields.items():
        setattr(c, k, v)
    return c


def test_the_official_client_reads_every_message_the_adapter_uses() -> None:
    gw = gateway()
    gw.pace = 120.0  # the market on the wall clock, two minutes a second: ibapi has its own threads
    with served(gw) as port:
        app = Recorder()
        app.connect("127.0.0.1", port, clientId=3)
        app.decoder.__class__ = Strict
        problems: list[str] = []
        app.decoder.problems = problems
        reader = threading.Thread(target=app.run, daemon=True)
        reader.start()
        try:
            next_id = app.wait("nextValidId")[0][0]
            (account,) = app.wait("managedAccounts")[0]
            app.reqCurrentTime()
            app.reqPositions()
            app.reqOpenOrders()
            app.reqAllOpenOrders()
            app.reqCompletedOrders(False)
            app.reqAccountUpdates(True, account)
            app.reqAccountUpdatesMulti(11, account, "", False)
            app.reqContractDetails(12, cl_future())
            for name in ("currentTime", "positionEnd", "completedOrdersEnd", "accountDownloadEnd",
                         "accountUpdateMultiEnd", "contractDetailsEnd"):  # fmt: skip
                app.wait(name)
            app.wait("openOrderEnd", 2)
            months = [d[1].contract for d in app.args["contractDetails"]]
            assert [m.localSymbol for m in months] == ["CLG6", "CLH6", "CLJ6"]
            front = months[0]
            app.reqMktData(13, front, "", False, False, [])
            app.reqHistoricalData(14, front, "", "3600 S", "1 min", "TRADES", 0, 2, True, [])
            app.wait("historicalDataEnd")
            app.wait("tickPrice", 3)
            app.wait("historicalDataUpdate", 2)

            order = Order()
            order.action, order.orderType, order.totalQuantity = "BUY", "MKT", Decimal(1)
            order.orderRef, order.tif, order.account = "conformance-1", "DAY", account
            app.placeOrder(next_id, front, order)
            app.wait("commissionAndFeesReport")
            statuses = app.wait("orderStatus", 2)
            _, status, filled, _, avg_price, _, _, last_price, *_ = statuses[-1]
            (_, _, fill), *_ = app.args["execDetails"]
            assert (status, filled, avg_price, last_price) == ("Filled", Decimal(1), fill.price, fill.price)
            (report,) = app.args["commissionAndFeesReport"][0]
            assert report.commissionAndFees > 0 and report.realizedPNL == UNSET_DOUBLE  # an opening fill
            limit = Order()
            limit.action, limit.orderType, limit.totalQuantity, limit.lmtPrice = (
                "SELL",
                "LMT",
                Decimal(1),
                999.0,
            )
            limit.orderRef, limit.tif = "conformance-2", "DAY"
            app.placeOrder(next_id + 1, front, limit)
            app.placeOrder(next_id + 2, front, limit)  # the same orderRef again: IB takes it
            app.wait("openOrder", 2)
            for k in (1, 2):
                app.cancelOrder(next_id + k, OrderCancel())
            app.wait("orderStatus", 2 + 2 + 2)  # Submitted then Cancelled, each
            cancelled = [s[0] for s in app.args["orderStatus"] if s[1] == "Cancelled"]
            assert cancelled == [next_id + 1, next_id + 2]
            filters = {15: ExecutionFilter(), 16: ExecutionFilter(), 17: ExecutionFilter()}
            filters[16].side, filters[17].clientId = "SELL", 99
            for req_id, f in filters.items():
                app.reqExecutions(req_id, f)
            app.wait("execDetailsEnd", 3)
            by_request = Counter(a[0] for a in app.args["execDetails"])
            assert (by_request[15], by_request[16], by_request[17]) == (1, 0, 0)  # the filter is honoured
            (_, contract, execution), *_ = [a for a in app.args["execDetails"] if a[0] == 15]
            assert (contract.localSymbol, execution.orderRef, execution.shares) == (
                "CLG6",
                "conformance-1",
                1,
            )
            queries = {21: cl_future(conId=front.conId), 22: cl_future(localSymbol="CLH6"),
                       23: cl_future(lastTradeDateOrContractMonth="202604")}  # fmt: skip
            for req_id, query in queries.items():
                app.reqContractDetails(req_id, query)
            app.wait("contractDetailsEnd", 4)
            found = {a[0]: a[1].contract.localSymbol for a in app.args["contractDetails"] if a[0] in queries}
            assert found == {21: "CLG6", 22: "CLH6", 23: "CLJ6"}  # CLJ6: April's delivery, expiring in March
            app.reqPositions()
            app.wait("positionEnd", 2)
            assert [(p[1].localSymbol, p[2]) for p in app.args["position"]] == [("CLG6", Decimal(1))]
        finally:
            app.disconnect()
            reader.join(10)
    assert problems == []
    assert [e for e in app.errors if e[1] not in FARM_NOTICES] == []
