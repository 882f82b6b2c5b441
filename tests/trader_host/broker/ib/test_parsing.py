"""Translation between ib_insync objects and the port's events, and the gateway's wire format, no socket."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from devkit.fake_gateway import messages as msg
from devkit.fake_gateway.requests import history_minutes
from devkit.fake_gateway.wire import FrameReader, encode, version_range
from regime.contracts import Side
from trader_host.broker.ib import parsing
from trader_host.broker.ib.ib_api import (
    BarData,
    CommissionReport,
    Contract,
    ContractDetails,
    Decoder,
    Fill,
    IbExecution,
    Order,
    OrderState,
    Ticker,
    Trade,
)
from trading_engine.broker.port import BrokerOrderState, MinuteBar, OrderRequest, OrderType, Tick

from .conftest import SPEC


def details(local: str, last: str) -> ContractDetails:
    return ContractDetails(contract=Contract(secType="FUT", symbol="CL", localSymbol=local,
                                             lastTradeDateOrContractMonth=last))  # fmt: skip


def test_front_month_rolls_the_configured_days_before_the_last_trade_date() -> None:
    listed = [details("CLH6", "20260220"), details("CLG6", "20260120")]
    assert parsing.front_month(listed, date(2026, 1, 14), 5).localSymbol == "CLG6"  # 6 days left
    assert parsing.front_month(listed, date(2026, 1, 15), 5).localSymbol == "CLH6"  # 5 days: rolled
    with pytest.raises(ValueError, match="no month is more than 5 day"):
        parsing.front_month(listed, date(2026, 2, 16), 5)
    with pytest.raises(ValueError, match="no last trade date"):
        parsing.last_trade_date(Contract(localSymbol="CLX", lastTradeDateOrContractMonth="2026"))


def test_orders_go_to_ib_with_our_id_in_order_ref_and_come_back_the_same() -> None:
    limit = OrderRequest("CL-r1-7", "CL", Side.BUY, 2, OrderType.LIMIT, 7012)
    order = parsing.ib_order(limit, SPEC, "DU1")
    assert (order.action, order.totalQuantity, order.orderType, order.lmtPrice) == ("BUY", 2, "LMT", 70.12)
    assert (order.orderRef, order.account, order.tif) == ("CL-r1-7", "DU1", "DAY")
    assert parsing.request_of(Trade(order=order), SPEC) == limit
    market = OrderRequest("CL-r1-8", "CL", Side.SELL, 1, OrderType.MARKET)
    assert parsing.request_of(Trade(order=parsing.ib_order(market, SPEC)), SPEC) == market
    with pytest.raises(ValueError, match="without a limit price"):
        parsing.ib_order(OrderRequest("x", "CL", Side.BUY, 1, OrderType.LIMIT, None), SPEC)


def test_an_execution_carries_ibs_commission_and_a_price_on_the_tick_grid() -> None:
    when = datetime(2026, 1, 5, 12, tzinfo=UTC)
    ex = IbExecution(execId="0001.01", orderId=5, permId=77, side="SLD", shares=1.0, price=70.05,
                     orderRef="o-1", time=when)  # fmt: skip
    fill = Fill(Contract(symbol="CL"), ex, CommissionReport(execId="0001.01", commission=2.3), ex.time)
    got = parsing.execution_of(fill, SPEC)
    assert (got.execution_id, got.order_id, got.side, got.qty, got.price) == (
        "0001.01",
        "o-1",
        Side.SELL,
        1,
        7005,
    )
    assert got.commission_usd == Decimal("2.30") and got.ts == ex.time.timestamp()
    off_grid = Fill(Contract(symbol="CL"), IbExecution(execId="2", side="BOT", shares=1, price=70.055),
                    CommissionReport(), ex.time)  # fmt: skip
    with pytest.raises(ValueError, match=r"not on the 0\.01 tick grid"):
        parsing.execution_of(off_grid, SPEC)
    unknown = Fill(Contract(symbol="CL"), IbExecution(execId="3", side="XX"), CommissionReport(), ex.time)
    with pytest.raises(ValueError, match="unknown side 'XX'"):
        parsing.execution_of(unknown, SPEC)


def test_statuses_bars_and_ticks() -> None:
    assert parsing.order_state("Submitted") is BrokerOrderState.WORKING
    assert parsing.order_state("Filled") is BrokerOrderState.FILLED
    assert parsing.order_state("ApiCancelled") is BrokerOrderState.CANCELLED
    assert parsing.order_state("Inactive") is BrokerOrderState.REJECTED
    assert parsing.order_state("Whatever") is BrokerOrderState.UNKNOWN
    bar = BarData(date=datetime(2026, 1, 5, 0, 1, tzinfo=UTC), open=70.0, high=70.1, low=69.9, close=70.05,
                  volume=12)  # fmt: skip
    assert parsing.minute_bar(bar, SPEC) == MinuteBar(29_459_521, 7000, 7010, 6990, 7005, 12)
    with pytest.raises(ValueError, match="needs a time"):
        parsing.minute_bar(BarData(date=date(2026, 1, 5)), SPEC)
    ticker = Ticker(bid=70.0, ask=70.01, last=70.01, lastSize=3)
    assert parsing.tick_of(ticker, SPEC, 5.0) == Tick(5.0, 7000, 7001, 7001, 3)
    assert parsing.tick_of(Ticker(bid=70.0, ask=float("nan"), last=70.0), SPEC, 5.0) is None
    assert parsing.tick_of(Ticker(bid=-1.0, ask=70.01, last=70.0), SPEC, 5.0) is None


class Recorder:
    """What ib_insync's (unmodified) decoder hands its wrapper, recorded."""

    def __init__(self) -> None:
        self.got: list[object] = []

    def openOrder(self, order_id: int, c: Contract, o: Order, st: OrderState) -> None:  # noqa: N802
        self.got.append((o.orderRef, o.lmtPrice, st.status, c.localSymbol))

    def contractDetails(self, req_id: int, cd: ContractDetails) -> None:  # noqa: N802
        assert cd.contract is not None
        self.got.append((req_id, cd.contract.localSymbol, cd.contract.conId))

    def execDetails(self, req_id: int, c: Contract, e: IbExecution) -> None:  # noqa: N802
        self.got.append((e.execId, e.price, e.orderRef, e.time.timestamp()))


def test_the_gateways_messages_decode_in_ib_insync_without_a_complaint(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    month = msg.ListedMonth(11, "CL", "CLG6", "20260120")
    order = msg.OrderView(5, 905, 1, month, "BUY", 1, "LMT", Decimal("70.12"), "o-1", "DU1")
    decoder = Decoder(recorder, msg.SERVER_VERSION)  # type: ignore[arg-type]
    reader = FrameReader()
    reader.handshake_done = True
    data = msg.open_order(order, "Submitted") + msg.contract_details(3, month)
    data += msg.exec_details(-1, order, "e1", 1_767_600_000.0, "BOT", 1, Decimal("70.12"), 1)
    with caplog.at_level(logging.WARNING, logger="ib_insync"):
        for fields in reader.feed(data):
            decoder.interpret(fields)  # type: ignore[no-untyped-call]
    assert not caplog.records
    assert recorder.got == [
        ("o-1", 70.12, "Submitted", "CLG6"),
        (3, "CLG6", 11),
        ("e1", 70.12, "o-1", 1_767_600_000.0),
    ]


def test_the_wire_frames_and_refuses_what_is_not_the_tws_api() -> None:
    reader = FrameReader()
    frame = encode(["v157..176"])
    assert reader.feed(b"API\x00" + frame[:3]) == []  # a frame split across reads waits for the rest
    assert reader.feed(frame[3:] + encode([71, 2, 1, ""])) == [["v157..176"], ["71", "2", "1", ""]]
    assert version_range(["v157..176 +PACEAPI"]) == (157, 176)
    with pytest.raises(ValueError, match="not the TWS API"):
        FrameReader().feed(b"GET / HTTP/1.1\r\n")
    with pytest.raises(ValueError, match="bad API version range"):
        version_range(["157-176"])


def test_history_durations() -> None:
    assert (
        history_minutes("3600 S") == 60
        and history_minutes("1 D") == 1440
        and history_minutes("2 W") == 20_160
    )
    with pytest.raises(ValueError, match="unsupported history duration unit in '1 Y'"):
        history_minutes("1 Y")
    with pytest.raises(ValueError, match="bad history duration 'one day'"):
        history_minutes("one day")
