"""The adapter against the fake gateway, through the unmodified ib_insync client: what IB users hit most."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import time
from typing import Any

import pytest

from devkit.fake_gateway.messages import ListedMonth
from devkit.fake_gateway.script import GatewayScript
from devkit.fake_gateway.server import FakeGateway
from regime.contracts import Side
from trader_host.broker.ib.config import IbConfig
from trader_host.broker.ib.ib_broker import ClientIdsInUse, IbBroker, LiveAccountRefused
from trader_host.broker.ib.instrument_provider import trading_month
from trading_engine.broker.port import (
    BrokerEvent,
    BrokerOrderState,
    ConnectionChanged,
    Execution,
    MinuteBar,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    OrderRequest,
    OrderStatus,
    OrderType,
    Tick,
)
from trading_engine.broker.sim.faults import FaultPlan
from trading_engine.instruments import SessionHours

from .conftest import SPEC, IbLogWatch, gateway, market_tape

FAST = IbConfig(backoff_initial_s=0.02, backoff_max_s=0.1, connect_timeout_s=5.0, history_backoff_s=0.01)
TAPE = market_tape()
T0 = float(TAPE.time[0])


def run(gw: FakeGateway, body: Callable[[FakeGateway], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        await gw.start()
        try:
            return await asyncio.wait_for(body(gw), 30)
        finally:
            await gw.close()

    return asyncio.run(main())


async def connected(gw: FakeGateway, config: IbConfig = FAST) -> IbBroker:
    broker = IbBroker(replace(config, port=gw.port), SPEC, gw.clock)
    await broker.connect()
    return broker


async def events_until(broker: IbBroker, t: float) -> list[BrokerEvent]:
    """Every event up to broker time `t` (the clock then stands at `t`)."""
    out = []
    while (ev := await broker.next_event(t)) is not None:
        out.append(ev)
    return out


def changes(events: list[BrokerEvent]) -> list[bool]:
    return [e.connected for e in events if isinstance(e, ConnectionChanged)]


def test_ticks_bars_and_a_market_order_with_ibs_commission() -> None:
    async def body(gw: FakeGateway) -> None:
        b = await connected(gw)
        assert b.contract is not None and b.contract.localSymbol == "CLG6"
        events = await events_until(b, T0 + 600)
        ticks = [e for e in events if isinstance(e, Tick)]
        bars = [e for e in events if isinstance(e, MinuteBar)]
        assert changes(events) == [True] and len(ticks) > 100 and len(bars) >= 9
        assert [b.minute for b in bars] == sorted({b.minute for b in bars})  # each minute once, in order
        await b.place_order(OrderRequest("m-1", "CL", Side.BUY, 1, OrderType.MARKET))
        after = await events_until(b, T0 + 601)
        fills = [e for e in after if isinstance(e, Execution)]
        assert [type(e).__name__ for e in after if not isinstance(e, Tick | MinuteBar)] == [
            "OrderAccepted", "Execution"]  # fmt: skip
        assert fills[0].order_id == "m-1" and fills[0].commission_usd > 0
        assert fills[0].price == ticks[-1].ask  # bought at the ask of the quote it met
        assert await b.positions() == {"CL": 1}
        assert [e.execution_id for e in await b.executions()] == [fills[0].execution_id]
        assert (await b.executions())[0].commission_usd == fills[0].commission_usd
        assert await b.recent_bars(3) == bars[-3:]
        await b.close()

    run(gateway(TAPE), body)


def test_client_id_in_use_moves_to_the_next_id_or_stops_with_a_clear_error(ib_logs: IbLogWatch) -> None:
    ib_logs.expect(r"Error 326", r"Peer closed connection", r"API connection failed")

    async def body(gw: FakeGateway) -> None:
        b = await connected(gw)
        assert b.client_id == 2
        with pytest.raises(ClientIdsInUse, match=r"client ids 1\.\.2 are all in use \(326\).*--client-id"):
            await connected(gw, replace(FAST, client_id_tries=2))  # 1 is busy, 2 is us
        await b.close()

    run(gateway(TAPE, GatewayScript(busy_client_ids=frozenset({1}))), body)


def test_a_pacing_violation_on_the_bar_request_is_retried(ib_logs: IbLogWatch) -> None:
    ib_logs.expect(r"Error 162")

    async def body(gw: FakeGateway) -> None:
        b = await connected(gw)
        assert gw.requests.count(20) == 3  # two paced, the third served
        events = await events_until(b, T0 + 300)
        assert any(isinstance(e, MinuteBar) for e in events)
        await b.close()

    run(gateway(TAPE, GatewayScript(pacing_violations=2)), body)


def test_connectivity_lost_then_restored_and_the_data_farm_codes(ib_logs: IbLogWatch) -> None:
    ib_logs.expect(r"Error 1100", r"Error 1102")
    notices = ((T0 + 100, 1100), (T0 + 160, 1102), (T0 + 300, 2103), (T0 + 320, 2105), (T0 + 350, 2106),
               (T0 + 400, 2104))  # fmt: skip

    async def body(gw: FakeGateway) -> None:
        b = await connected(gw)
        events = await events_until(b, T0 + 500)
        flips = [(e.ts, e.connected) for e in events if isinstance(e, ConnectionChanged)]
        assert [c for _, c in flips] == [True, False, True, False, True]
        assert [t for t, _ in flips[1:]] == [T0 + 100, T0 + 160, T0 + 300, T0 + 400]  # HMDS back: not enough
        await b.close()

    run(gateway(TAPE, GatewayScript(notices=notices)), body)


def test_a_silent_stream_is_resubscribed_and_reported_down_until_ticks_return() -> None:
    async def body(gw: FakeGateway) -> None:
        b = await connected(gw, replace(FAST, silent_after_s=20))
        events = await events_until(b, T0 + 400)
        down = next(e for e in events if isinstance(e, ConnectionChanged) and not e.connected)
        up = next(e for e in events if isinstance(e, ConnectionChanged) and e.connected and e.ts > down.ts)
        assert T0 + 120 <= down.ts <= T0 + 145  # the last tick before the silence, plus 20 s
        assert not [e for e in events if isinstance(e, Tick) and down.ts < e.ts < T0 + 240]
        assert T0 + 240 <= up.ts < T0 + 250  # the first tick after it
        assert gw.requests.count(1) >= 1 + 5  # subscribed, then again every 20 s of silence
        await b.close()

    run(gateway(TAPE, GatewayScript(silent=((T0 + 120, T0 + 240),))), body)


def test_a_rejected_order_is_rejected_not_cancelled(ib_logs: IbLogWatch) -> None:
    ib_logs.expect(r"Error 201", r"Canceled order")

    async def body(gw: FakeGateway) -> None:
        b = await connected(gw)
        await events_until(b, T0 + 60)
        await b.place_order(OrderRequest("r-1", "CL", Side.BUY, 1, OrderType.LIMIT, 6000))
        events = [e for e in await events_until(b, T0 + 70) if not isinstance(e, Tick | MinuteBar)]
        assert [type(e) for e in events] == [OrderRejected]
        assert isinstance(events[0], OrderRejected) and "201" in events[0].reason
        await b.close()

    run(gateway(TAPE, faults=FaultPlan(reject_prob=1.0)), body)


def test_an_order_reported_cancelled_that_filled_still_delivers_its_fill() -> None:
    async def body(gw: FakeGateway) -> None:
        b = await connected(gw)
        await events_until(b, T0 + 60)
        await b.place_order(OrderRequest("c-1", "CL", Side.SELL, 1, OrderType.MARKET))
        await b.cancel_order("c-1")
        events = [e for e in await events_until(b, T0 + 70) if not isinstance(e, Tick | MinuteBar)]
        assert [type(e) for e in events] == [OrderCancelled, Execution]
        assert await b.positions() == {"CL": -1}
        await b.request_status("c-1")
        status = await b.next_event()
        assert isinstance(status, OrderStatus) and status.state is BrokerOrderState.FILLED
        assert status.executions == (events[1],)
        await b.close()

    run(gateway(TAPE, GatewayScript(cancel_race=True)), body)


def test_a_fill_while_the_gateway_restarts_is_found_after_the_reconnect(ib_logs: IbLogWatch) -> None:
    ib_logs.expect(r"Peer closed connection", r"API connection failed", r"Make sure API port")
    down, up = T0 + 120, T0 + 180

    async def body(gw: FakeGateway) -> None:
        b = await connected(gw)
        await events_until(b, down - 0.01)
        await b.place_order(OrderRequest("d-1", "CL", Side.BUY, 1, OrderType.MARKET))  # reaches it once down
        events = await events_until(b, up + 30)
        assert changes(events) == [False, True]
        assert not [e for e in events if isinstance(e, Execution | OrderAccepted)]  # said while we were away
        assert b.reconnects == 1
        assert await b.positions() == {"CL": 1}  # the position is still open after the restart
        missed = await b.executions()
        assert [(e.order_id, e.qty) for e in missed] == [("d-1", 1)] and missed[0].commission_usd > 0
        assert gw.sim.now() >= up
        await b.close()

    run(gateway(TAPE, faults=FaultPlan(disconnects=((down, up),))), body)


ROLL_MONTHS = (
    ListedMonth(1, "CL", "CLG6", "20260108"),  # three days after the market's first day: inside the roll
    ListedMonth(2, "CL", "CLH6", "20260210"),
)


def test_on_a_roll_day_the_next_month_is_traded_but_an_open_position_stays_in_its_month() -> None:
    async def body(gw: FakeGateway) -> None:
        b = await connected(gw)
        assert b.contract is not None and b.contract.localSymbol == "CLH6"
        await events_until(b, T0 + 60)
        await b.place_order(OrderRequest("roll-1", "CL", Side.BUY, 1, OrderType.MARKET))
        await events_until(b, T0 + 61)
        assert gw.placed[-1][0] == "CLH6"
        old = (await b.ib.reqContractDetailsAsync(b.contract))[0].contract
        assert old is not None
        old.conId, old.localSymbol = 1, "CLG6"
        kept = await trading_month(b.ib, b.config, b.now(), old, position=1)
        assert kept.localSymbol == "CLG6"  # no position is carried across the roll
        moved = await trading_month(b.ib, replace(b.config, carry_across_roll=True), b.now(), old, position=1)
        assert moved.localSymbol == "CLH6"
        await b.close()

    run(gateway(TAPE, GatewayScript(months=ROLL_MONTHS)), body)


def test_a_live_account_needs_the_live_flag_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    async def body(gw: FakeGateway) -> None:
        with pytest.raises(LiveAccountRefused, match="'U7654321' is a live account: pass --live"):
            await connected(gw)
        b = await connected(gw, replace(FAST, live=True))
        assert "LIVE TRADING on account U7654321" in caplog.text
        await b.close()

    run(gateway(TAPE, GatewayScript(account="U7654321")), body)
    with pytest.raises(ValueError, match="port 7496 is a live-trading port: pass --live"):
        IbConfig(port=7496).check()


def test_restored_with_data_lost_subscribes_again(ib_logs: IbLogWatch) -> None:
    ib_logs.expect(r"Error 1100", r"Error 1101")
    notices = ((T0 + 100, 1100), (T0 + 160, 1101))

    async def body(gw: FakeGateway) -> None:
        b = await connected(gw)
        events = await events_until(b, T0 + 400)
        assert changes(events) == [True, False, True]
        assert gw.requests.count(1) == 2 and gw.requests.count(20) == 2  # ticks and bars asked for again
        ticks = [e.ts for e in events if isinstance(e, Tick)]
        assert [t for t in ticks if t > T0 + 170] and len(ticks) == len(set(ticks))
        bars = [e.minute for e in events if isinstance(e, MinuteBar)]
        assert bars[-1] * 60 > T0 + 240 and len(bars) == len(set(bars))  # bars flow again too
        await b.close()

    run(gateway(TAPE, GatewayScript(notices=notices)), body)


def test_silence_while_the_market_is_closed_is_not_a_failure() -> None:
    # The market opens at 22:05 UTC on this Sunday: the first silence is before, the second after.
    late_open = SPEC.with_session(SessionHours(tz="UTC", close=time(21, 0), reopen=time(22, 5)))
    silent = ((T0 + 60, T0 + 240), (T0 + 420, T0 + 600))

    async def body(gw: FakeGateway) -> None:
        b = IbBroker(replace(FAST, port=gw.port, silent_after_s=20), late_open, gw.clock)
        await b.connect()
        events = await events_until(b, T0 + 700)
        flips = [(e.ts, e.connected) for e in events if isinstance(e, ConnectionChanged)]
        assert [c for _, c in flips] == [True, False, True]
        assert T0 + 420 < flips[1][0] <= T0 + 445  # only the silence in trading hours
        await b.close()

    run(gateway(TAPE, GatewayScript(silent=silent), spec=late_open), body)


def test_the_gateway_drops_a_client_that_does_not_speak_the_api(caplog: pytest.LogCaptureFixture) -> None:
    async def body(gw: FakeGateway) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
        writer.write(b"GET / HTTP/1.1\r\n\r\n")
        assert await reader.read() == b""  # closed on us
        writer.close()
        b = await connected(gw)  # and it still serves the next one
        assert b.client_id == 1
        await b.close()

    run(gateway(TAPE), body)
    assert "not the TWS API: the connection opened with b'GET '" in caplog.text


def test_real_time_bars_are_the_tapes_trades_in_five_second_buckets() -> None:
    async def body(gw: FakeGateway) -> None:
        b = await connected(gw)
        assert b.contract is not None
        bars = b.ib.reqRealTimeBars(b.contract, 5, "TRADES", False)
        await events_until(b, T0 + 120)
        assert len(bars) >= 10
        times = TAPE.time.tolist()
        for bar in bars:
            start = bar.time.timestamp()
            assert start % 5 == 0
            inside = [k for k, t in enumerate(times) if start <= t < start + 5]
            lasts = [int(TAPE.last[k]) for k in inside]
            assert SPEC.to_ticks(bar.open_) == lasts[0] and SPEC.to_ticks(bar.close) == lasts[-1]
            assert (SPEC.to_ticks(bar.high), SPEC.to_ticks(bar.low)) == (max(lasts), min(lasts))
            assert bar.volume == sum(int(TAPE.size[k]) for k in inside) and bar.count == len(inside)
        b.ib.cancelRealTimeBars(bars)
        await b.close()

    run(gateway(TAPE), body)
