"""IB's notices against the fake gateway: each code named in the logs, counted, and acted on."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from devkit.fake_gateway.script import GatewayScript
from devkit.fake_gateway.server import FakeGateway
from trader_host.broker.ib.notices import Effect, classify, historical_error_kind, new_port
from trader_host.broker.ib.setup_errors import PortMoved
from trading_engine.broker.port import BrokerEvent, ConnectionChanged, MinuteBar

from .conftest import IbLogWatch, gateway
from .test_ib_broker import FAST, T0, TAPE, connected, events_until, run


def flips(events: list[BrokerEvent]) -> list[tuple[float, bool]]:
    return [(e.ts, e.connected) for e in events if isinstance(e, ConnectionChanged)]


def test_each_code_is_named_counted_and_takes_trading_down_until_it_is_over(
    ib_logs: IbLogWatch, caplog: pytest.LogCaptureFixture
) -> None:
    ib_logs.expect(r"Error (2110|1102|10197|354|420|2103|2104)")
    notices = (
        (T0 + 100, 2110), (T0 + 130, 1102),  # IB's servers unreachable, then back
        (T0 + 200, 10197), (T0 + 300, 354), (T0 + 400, 420),  # each stops the ticks for a while
        (T0 + 500, 2103, "Market data farm connection is broken:usfuture"),
        (T0 + 510, 2104, "Market data farm connection is OK:usfarm"),  # another farm: still down
        (T0 + 520, 2104, "Market data farm connection is OK:usfuture"),
    )  # fmt: skip
    silent = ((T0 + 200, T0 + 260), (T0 + 300, T0 + 360), (T0 + 400, T0 + 460))

    async def body(gw: FakeGateway) -> None:
        b = await connected(gw, replace(FAST, silent_after_s=120))  # the silence watch stays out of it
        got = flips(await events_until(b, T0 + 600))
        assert [c for _, c in got] == [True] + [False, True] * 5
        downs = [t for t, c in got if not c]
        assert downs == [T0 + 100, T0 + 200, T0 + 300, T0 + 400, T0 + 500]  # at the notice, not later
        ups = [t for t, c in got if c][1:]
        assert ups[0] == T0 + 130 and ups[-1] == T0 + 520
        for (_, end), up in zip(silent, ups[1:4], strict=True):
            assert end <= up < end + 5  # the first tick after the silence
        assert b.notices == {
            "2110 server connectivity broken": 1, "1102 restored": 1, "10197 competing live session": 1,
            "354 market data not subscribed": 1, "420 real-time query pacing": 1,
            "2103 market data farm broken": 1, "2104 market data farm OK": 2 + 1,  # one at the connect
            "2106 HMDS farm OK": 1,
        }  # fmt: skip
        await b.close()

    run(gateway(TAPE, GatewayScript(notices=notices, silent=silent)), body)
    for name in ("2110 server connectivity broken", "10197 competing live session", "354 market data not"):
        assert f"IB {name}" in caplog.text


def test_a_socket_port_reset_stops_the_adapter_naming_the_new_port(ib_logs: IbLogWatch) -> None:
    ib_logs.expect(r"Error 1300")

    async def body(gw: FakeGateway) -> None:
        b = await connected(gw)
        with pytest.raises(PortMoved, match="restart the host with --port 4003"):
            await events_until(b, T0 + 200)
        await b.close()

    run(gateway(TAPE, GatewayScript(notices=((T0 + 100, 1300),))), body)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("API historical data query cancelled: pacing violation", "162 pacing violation"),
        ("No market data permissions for NYMEX FUT", "162 no market data permissions"),
        ("API historical data query cancelled: 7", "162 query cancelled"),
    ],
)
def test_a_162_on_the_bar_stream_takes_bars_down_and_asks_again(
    ib_logs: IbLogWatch, text: str, name: str
) -> None:
    ib_logs.expect(r"Error 162")

    async def body(gw: FakeGateway) -> None:
        b = await connected(gw)
        events = await events_until(b, T0 + 400)
        assert [c for _, c in flips(events)] == [True, False, True]
        assert flips(events)[1][0] == T0 + 200
        assert gw.requests.count(20) == 2  # asked again at once, and answered
        bars = [e.minute for e in events if isinstance(e, MinuteBar)]
        assert bars == sorted(set(bars)) and bars[-1] * 60 > T0 + 240  # none twice, and they flow again
        assert b.notices[name] == 1
        await b.close()

    run(gateway(TAPE, GatewayScript(notices=((T0 + 200, 162, text),))), body)


def test_an_empty_history_is_down_and_asked_again_with_a_growing_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)

    async def body(gw: FakeGateway) -> None:
        b = await connected(gw, replace(FAST, backoff_initial_s=10, backoff_max_s=40))
        start = b.now()
        assert await b.recent_bars(10) == []
        got = flips(await events_until(b, T0 + 300))
        assert gw.requests.count(20) == 4  # at once, then 10 s and 20 s later
        assert [c for _, c in got] == [True] and start + 30 <= got[0][0] < start + 31  # up once bars came
        assert len(await b.recent_bars(10)) == 5  # every completed minute of the market so far
        await b.close()

    run(gateway(TAPE, GatewayScript(empty_histories=3)), body)
    assert "bars down (the bar history came back empty)" in caplog.text and "bars flow again" in caplog.text


def test_a_bar_stream_that_dies_silently_is_down_then_resubscribed_with_the_missed_bars() -> None:
    async def body(gw: FakeGateway) -> None:
        b = await connected(gw, replace(FAST, bar_silent_after_s=150))
        events = await events_until(b, T0 + 600)
        got = flips(events)
        assert [c for _, c in got] == [True, False, True]
        assert T0 + 150 + 100 - 60 <= got[1][0] <= T0 + 100 + 150
        bars = [e.minute for e in events if isinstance(e, MinuteBar)]
        assert bars == list(range(bars[0], bars[-1] + 1))  # every minute once: the missed ones caught up
        assert bars[-1] * 60 > T0 + 500
        await b.close()

    run(gateway(TAPE, GatewayScript(notices=((T0 + 100, 0),))), body)


def test_notices_are_told_apart_by_code_and_text() -> None:
    broken = classify(2103, "Market data farm connection is broken:usfuture")
    ok = classify(2104, "Market data farm connection is OK:usfarm")
    assert broken is not None and ok is not None
    assert (broken.effect, broken.farm, ok.effect, ok.farm) == (
        Effect.FARM_DOWN,
        "usfuture",
        Effect.FARM_UP,
        "usfarm",
    )
    assert historical_error_kind("HMDS query returned no data: CLG6@NYMEX Trades") == "no data"
    assert new_port("Please reconnect on the new port - 7500") == 7500 and new_port("?") is None
    assert classify(201, "Order rejected") is None  # an order's error, not a notice
