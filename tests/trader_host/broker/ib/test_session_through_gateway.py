"""A session through the fake IB Gateway trades exactly as the same session through the sim broker."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from devkit.fake_gateway.messages import ListedMonth
from devkit.fake_gateway.script import GatewayScript
from devkit.fake_gateway.server import FakeGateway
from trader_host.assembly.broker_choice import IbOverrides
from trader_host.assembly.live_host import LiveHost, assemble
from trader_host.broker.ib.config import IbConfig
from trader_host.broker.ib.ib_broker import IbBroker
from trader_host.cli import build_parser, main
from trader_host.commands.market_data import load_market_data
from trading_engine.broker.sim.faults import NO_FAULTS, FaultPlan
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import load_config
from trading_engine.fees import fee_schedule

from .conftest import SPEC, IbLogWatch

REPO = Path(__file__).resolve().parents[4]
MARKET = ["--synthetic-days", "1", "--seed", "11"]
COMMON = ["--no-cloud", "--regime", "range", "--minutes", "300"]


def fills(host: LiveHost) -> list[tuple[str, str, str, int, Decimal, Decimal]]:
    """The fills, their ids by sequence number (each account and state folder has its own id prefix)."""
    return [
        (_seq(f.execution_id), _seq(f.order_id), str(f.side), f.qty, f.price, f.commission_usd)
        for f in host.session.trader.fills()
    ]


def _seq(record_id: str) -> str:
    return record_id.rsplit("-", 1)[-1]


def RESTARTS(t0: float) -> tuple[tuple[float, float], ...]:  # noqa: N802
    """Three gateway restarts of 90 s in the session, the first two while the sim session holds a position."""
    return tuple((t0 + m * 60.0, t0 + m * 60.0 + 90.0) for m in (68, 131, 200))


async def through_gateway(
    tmp_path: Path,
    tape: MarketTape | None = None,
    faults: FaultPlan = NO_FAULTS,
    script: GatewayScript | None = None,
    ib_config: IbConfig | None = None,
    configure: Callable[[LiveHost, asyncio.Event], None] | None = None,
) -> tuple[LiveHost, FakeGateway]:
    """A session through the fake gateway; `configure(host, stop)` before it runs (`stop`: a signal)."""
    if tape is None:
        market = load_market_data(build_parser().parse_args(["run", *MARKET])).market
        assert market is not None
        tape = MarketTape.from_synthetic(market)
    config = load_config(None)
    gw = FakeGateway(tape, SPEC, fee_schedule(config.fees.schedule), config.sim, faults, script)
    port = await gw.start()
    try:
        argv = ["run", "--broker", "ib", "--port", str(port), "--state-dir", str(tmp_path / "ib"), *COMMON]
        host = assemble(build_parser().parse_args(argv), IbOverrides(gw.clock, SPEC, ib_config))
        stop = asyncio.Event()
        if configure is not None:
            configure(host, stop)
        try:
            await host.session.run(stop)
        finally:
            host.close()
    finally:
        await gw.close()
    return host, gw


@pytest.mark.slow
def test_the_same_session_through_the_gateway_and_the_sim_broker_has_the_same_fills(tmp_path: Path) -> None:
    argv = ["run", "--state-dir", str(tmp_path / "sim"), *MARKET, *COMMON]
    sim = assemble(build_parser().parse_args(argv))
    asyncio.run(sim.session.run())
    sim.close()

    ib, gw = asyncio.run(through_gateway(tmp_path))

    assert sim.session.failure is None and ib.session.failure is None
    assert len(fills(sim)) >= 6  # enough trading for the comparison to mean something
    assert fills(ib) == fills(sim)
    assert ib.session.trader.position == sim.session.trader.position == 0
    assert ib.session.trader.realised_net_usd() == sim.session.trader.realised_net_usd()
    assert {month for month, _ in gw.placed} == {"CLG6"}  # the front month of the gateway's listing


@pytest.mark.slow
def test_gateway_restarts_with_a_position_open_lose_no_fill(tmp_path: Path, ib_logs: IbLogWatch) -> None:
    ib_logs.expect(r"Peer closed connection", r"API connection failed", r"Make sure API port")
    args = build_parser().parse_args(["run", *MARKET])
    market = load_market_data(args).market
    assert market is not None
    tape = MarketTape.from_synthetic(market)
    t0 = float(tape.time[0])
    windows = RESTARTS(t0)
    ib, gw = asyncio.run(through_gateway(tmp_path, tape, FaultPlan(disconnects=windows)))

    assert ib.session.failure is None  # every reconcile after a reconnect found the books in step
    at_broker = asyncio.run(gw.sim.executions())
    assert [f.execution_id for f in ib.session.trader.fills()] == [e.execution_id for e in at_broker]
    held = [sum(e.side.sign * e.qty for e in at_broker if e.ts < start) for start, _ in windows]
    assert held[:2] != [0, 0], f"no restart with a position open: {held}"
    assert isinstance(ib.session.broker, IbBroker) and ib.session.broker.reconnects == len(windows)
    assert ib.session.trader.position == 0


@pytest.mark.slow
@pytest.mark.parametrize("symbol", ["CL", "MCL"])
def test_the_command_line_trades_through_a_gateway_in_another_process(tmp_path: Path, symbol: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "layers" / "regime"), str(REPO)])}
    gw = subprocess.Popen(
        [sys.executable, "-m", "devkit.fake_gateway", "--pace", "60", "--seed", "11",
         "--symbol", symbol],
        stdout=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    try:
        assert gw.stdout is not None
        port = gw.stdout.readline().split("127.0.0.1:")[1].split()[0]
        host = subprocess.run(
            [sys.executable, "-m", "trader_host.cli", "run", "--broker", "ib", "--port", port,
             "--client-id", "7", "--symbol", symbol, "--no-cloud", "--regime", "range", "--minutes", "0.1",
             "--monitor-port", "0",
             "--state-dir", str(tmp_path)],
            capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
        )  # fmt: skip
    finally:
        gw.terminate()
        gw.wait(timeout=30)
    out = host.stdout + host.stderr
    assert host.returncode == 0, out[-3000:]
    assert f"on IB 127.0.0.1:{port} (client 7, paper)" in out
    assert "connected to IB" in out and "reconciled with the broker: position 0" in out
    assert (
        re.search(rf"trading {symbol}[FGHJKMNQUVXZ]\d", out) and f"regime-trader run: {symbol} on IB" in out
    )
    assert "session over (--minutes): position 0" in out
    assert not re.findall(r"(?:WARNING|ERROR) ib_insync\.\w+ .*", out)  # the format: time level name text


def test_a_live_port_without_the_live_flag_stops_before_connecting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["run", "--broker", "ib", "--port", "4001", "--no-cloud", "--regime", "range"]
    assert main(argv) == 2
    assert "port 4001 is a live-trading port: pass --live" in capsys.readouterr().out


def test_a_gateway_that_never_answers_the_reconcile_fails_the_session_naming_the_request(
    tmp_path: Path,
) -> None:
    deaf = GatewayScript(unanswered=frozenset({16}))  # reqAllOpenOrders, asked at the start's reconcile
    impatient = IbConfig(open_orders_timeout_s=0.2, request_attempts=2)
    host, gw = asyncio.run(asyncio.wait_for(through_gateway(tmp_path, script=deaf, ib_config=impatient), 60))
    assert host.session.failure is not None
    assert "open orders request (reqAllOpenOrders) within 0.2 s, 2 attempt(s)" in host.session.failure
    assert gw.requests.count(16) == 2 and host.session.trader.position == 0


def test_a_stop_during_the_reconcile_ends_the_session_without_sending_anything(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deaf = GatewayScript(unanswered=frozenset({16}))

    def signal_in_a_second(host: LiveHost, stop: asyncio.Event) -> None:
        host.session.stop_grace_s = 0.5
        asyncio.get_running_loop().call_later(1.0, stop.set)

    host, gw = asyncio.run(
        asyncio.wait_for(through_gateway(tmp_path, script=deaf, configure=signal_in_a_second), 30)
    )
    assert gw.requests.count(16) == 1  # still waiting for its answer (10 s) when the stop came
    assert "stopped before the reconcile finished" in caplog.text
    assert host.session.failure is None and not gw.placed


def test_a_stop_while_trading_flattens_the_open_position(tmp_path: Path) -> None:
    def signal_once_a_position_is_open(host: LiveHost, stop: asyncio.Event) -> None:
        class Watch:
            def observe(self, event: object, now: float) -> None:
                if host.session.trader.position != 0:
                    stop.set()

        host.session.observer = Watch()

    host, gw = asyncio.run(
        asyncio.wait_for(through_gateway(tmp_path, configure=signal_once_a_position_is_open), 120)
    )
    assert host.session.failure is None
    at_broker = asyncio.run(gw.sim.executions())
    assert len(at_broker) >= 2  # the entry, then the flattening on the stop
    assert sum(e.side.sign * e.qty for e in at_broker) == 0 == host.session.trader.position
    assert host.session.stop_at is not None and host.session.broker.now() < host.session.stop_at  # stopped


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        (GatewayScript(busy_client_ids=frozenset({1, 2, 3})), r"client ids 1\.\.3 are all in use \(326\)"),
        (GatewayScript(months=()), r"IB lists no CL future on NYMEX \(USD\): check the symbol and exchange"),
        (
            GatewayScript(months=(ListedMonth(9, "CL", "CLF6", "20251219"),)),
            r"no month of CL is more than 5 day\(s\) from expiry on 2026-01-0\d; listed: CLF6 \(2025-12-19\)",
        ),
    ],
    ids=["client-ids-refused", "unknown-contract", "expired-contract"],
)
def test_what_no_retry_can_heal_fails_the_start_at_once_saying_what_to_fix(
    tmp_path: Path, ib_logs: IbLogWatch, script: GatewayScript, reason: str
) -> None:
    ib_logs.expect(r"Error 326", r"Error 200", r"Peer closed connection", r"API connection failed")
    host, gw = asyncio.run(asyncio.wait_for(through_gateway(tmp_path, script=script), 30))
    assert host.session.failure is not None and re.search(reason, host.session.failure), host.session.failure
    assert not gw.placed
