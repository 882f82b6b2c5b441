"""The live monitor in a real headless chromium (Debian's), driven over the DevTools protocol.

A paced session (synthetic CL at 300x real time, the regime records switching from range to trend at
minute 30) trades while the page watches: it loads without a console error, updates as ticks arrive,
draws and lists the trade, shows the regime change with its confidence and model probabilities, and ends
in agreement with the host. Bound to 0.0.0.0, everything without the token is refused with 401.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
from pathlib import Path
from typing import Any

import pytest

from bench._chromium import Chromium
from bench._monitored import fetch, monitored_host
from trader_host.monitor.access import COOKIE, TOKEN_ENV

PACE = 300.0  # a minute of market in 0.2 s
MINUTES = 36.0
TOKEN = "test-token-0123456789abcdef"


def price(ticks: int) -> float:
    return round(ticks * 0.01, 2)


async def _watch_a_session() -> dict[str, Any]:
    host = monitored_host(pace=PACE, minutes=MINUTES)
    await host.server.start()
    try:
        async with Chromium() as browser:
            await browser.navigate(host.server.url)
            await browser.wait_for("document.getElementById('stream-status').textContent === 'live'")
            assert await browser.evaluate("monitor.ticks") == 0  # loaded before the market opens
            trading = asyncio.create_task(host.session.run())
            # Updates as ticks arrive: the count grows, and the chart's last point is a price the host sent.
            first = await browser.wait_for("monitor.ticks > 20 && monitor.renders > 0 && monitor.ticks")
            later = await browser.wait_for(f"monitor.ticks > {first} + 100 && monitor.ticks")
            assert later > first
            drawn = await browser.evaluate("document.getElementById('chart').data[1].y.length")
            assert drawn > 100
            # A trade: its entry and exit are drawn as markers and listed; the position panel followed it.
            await browser.wait_for(
                "monitor.fills.some(f => f.role === 'exit') && "
                "document.querySelectorAll('#chart .scatterlayer path.point').length >= 2",
                within=60,
            )
            # The regime change range -> trend, with the record's confidence and the models' probabilities.
            await browser.wait_for(
                "document.getElementById('regime-pill').textContent.startsWith('regime trend')", within=60
            )
            await trading
            assert host.session.failure is None
            trader = host.session.trader
            # The page ends where the host ended: every tick, every fill, the last price, flat.
            await browser.wait_for(f"monitor.seq.tick === {host.tap.tick_seq}")
            await browser.wait_for(f"monitor.fills.length === {len(trader.fills())}")
            await browser.wait_for(f"monitor.state.position.fills === {len(trader.fills())}")
            assert trader.last_tick is not None
            page = await browser.evaluate(
                """({
                last: document.getElementById('chart').data[1].y.at(-1),
                regimes: monitor.regimes.map(r => r.regime),
                pill: document.getElementById('regime-pill').className,
                probabilities: document.getElementById('probabilities').innerText,
                regime: document.getElementById('regime').innerText,
                position: document.getElementById('position').innerText,
                fills: document.querySelectorAll('#fills tr').length,
                orders: document.getElementById('orders').innerText,
                shapes: document.getElementById('chart').layout.shapes.filter(s => s.yref === 'paper').length,
                bands: document.getElementById('chart').data[3].y.filter(v => v !== null).length,
                latencies: monitor.latencies.length,
            })"""
            )
            png = await browser.screenshot()
            errors = list(browser.errors)
        return {
            "png": png,
            "page": page,
            "errors": errors,
            "last": price(trader.last_tick.last),
            "fills": len(trader.fills()),
            "net": str(trader.realised_net_usd()),
        }
    finally:
        await host.server.close()


@pytest.mark.slow
def test_the_page_follows_a_live_session(tmp_path: Path) -> None:
    seen = asyncio.run(_watch_a_session())
    assert seen["errors"] == []
    page = seen["page"]
    assert isinstance(page, dict)
    assert page["last"] == seen["last"]
    assert page["regimes"] == ["range", "trend"]
    assert page["pill"] == "pill trend" and page["shapes"] == 2  # the two regimes shaded behind the price
    assert "trend_mlp\t0.81" in page["probabilities"] and "range_gbt\t0.1" in page["probabilities"]
    assert "test-v1" in page["regime"] and "0.81" in page["regime"]
    assert "flat" in page["position"] and f"{seen['net']} USD" in page["position"]
    assert page["fills"] == min(int(str(seen["fills"])), 15) + 1  # the header row and the latest fills
    assert "filled" in page["orders"]
    assert page["bands"] > 10  # the z-score bands are drawn once the window is full
    assert page["latencies"] > 10
    png = seen["png"]
    (tmp_path / "monitor.png").write_bytes(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24])[0] == 1400
    if os.environ.get("MONITOR_SCREENSHOT"):  # for a person to look at
        Path(os.environ["MONITOR_SCREENSHOT"]).write_bytes(png)


async def _off_loopback() -> dict[str, Any]:
    host = monitored_host(pace=None, minutes=40, host="0.0.0.0", env={TOKEN_ENV: TOKEN})
    await host.session.run()  # a finished session: the page has something to show
    await host.server.start()
    port = host.server.port
    try:
        paths = ("/", "/events", "/plotly.min.js", "/snapshot")
        refused = {path: (await fetch(port, path))[0] for path in paths}
        _, headers, _ = await fetch(port, "/")
        wrong = (await fetch(port, "/snapshot?token=not-the-token-at-all"))[0]
        by_query = await fetch(port, f"/?token={TOKEN}")
        by_bearer = (await fetch(port, "/snapshot", {"Authorization": f"Bearer {TOKEN}"}))[0]
        by_cookie = await fetch(port, "/snapshot", {"Cookie": f"{COOKIE}={TOKEN}"})
        async with Chromium() as browser:
            await browser.navigate(f"http://127.0.0.1:{port}/")
            without = await browser.wait_for("document.body && document.body.innerText")
            browser.errors.clear()  # the refused page itself may be logged as a failed load
            await browser.navigate(host.server.url)
            await browser.wait_for("document.getElementById('stream-status').textContent === 'live'")
            await browser.wait_for("monitor.renders > 0")
            statuses = await browser.evaluate(
                "Promise.all([fetch('/snapshot', {credentials: 'omit'}).then(r => r.status),"
                " fetch('/snapshot').then(r => r.status)])"
            )
            errors = [e for e in browser.errors if "401" not in e]  # the refused fetch is expected
        return {
            "refused": refused,
            "www": headers.get("www-authenticate", ""),
            "wrong": wrong,
            "by_query": (by_query[0], by_query[1].get("set-cookie", "")),
            "by_bearer": by_bearer,
            "by_cookie": (by_cookie[0], json.loads(by_cookie[2])["symbol"]),
            "without": without,
            "statuses": statuses,
            "errors": errors,
            "url": host.server.url,
        }
    finally:
        await host.server.close()


@pytest.mark.slow
def test_off_loopback_every_request_without_the_token_gets_401() -> None:
    seen = asyncio.run(_off_loopback())
    assert seen["refused"] == {"/": 401, "/events": 401, "/plotly.min.js": 401, "/snapshot": 401}
    assert seen["www"].startswith("Bearer") and seen["wrong"] == 401
    assert seen["by_query"][0] == 200 and seen["by_query"][1].startswith(f"{COOKIE}={TOKEN}; HttpOnly")
    assert seen["by_bearer"] == 200 and seen["by_cookie"] == (200, "CL")
    assert "token required" in str(seen["without"])  # what the browser got without it
    assert seen["statuses"] == [401, 200]  # in the page: refused without the cookie, served with it
    assert seen["errors"] == []
    assert str(seen["url"]).endswith(f"/?token={TOKEN}")
