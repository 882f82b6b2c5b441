"""A paced trading session with its monitor, for the monitor's tests and benchmark.

The host is the real one (synthetic CL on the sim broker at `pace` times real time, the Trader, the
TradingSession); its regime comes from ScriptedDecisions: the records the DynamoDB reader would hold, one
per 5-minute window, range before `switch_at` and trend from then on, with per-model probabilities.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from regime.contracts import Regime, RegimeItem
from regime.synthetic import synthetic_days
from trader_host.cloud.regime_reader import CADENCE_S, usable_regime
from trader_host.monitor.access import MonitorAccess
from trader_host.monitor.server import MonitorServer
from trader_host.monitor.tap import MonitorTap
from trader_host.monitor.view import MonitorView
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.broker.sim.sim_broker import SimBroker
from trading_engine.config import HostConfig, RiskConfig
from trading_engine.fees import TIERED
from trading_engine.instruments import SYNTHETIC_SESSION, contract, utc
from trading_engine.session import TradingSession
from trading_engine.trader import Trader

CONFIG = HostConfig(risk=RiskConfig(max_daily_loss_usd=1e6))
SEED = 3  # seed 3's first range trade opens about 23 minutes in and closes a minute later


class ScriptedDecisions:
    """A RegimeSource holding the current decision record, as DynamoRegimeReader does."""

    def __init__(self, switch_at: float, symbol: str = "CL") -> None:
        self.switch_at = switch_at
        self.symbol = symbol
        self.item: RegimeItem | None = None
        self._window = (0.0, 0.0, Regime.NOTHING)  # start, end, regime: as cheap per tick as the real reader

    def regime_at(self, now: float) -> Regime:
        start, end, regime = self._window
        if start <= now < end:
            return regime
        window_end = (now // CADENCE_S) * CADENCE_S
        if self.item is None or self.item.window_end.timestamp() != window_end:
            trend = now >= self.switch_at
            self.item = RegimeItem(
                symbol=self.symbol,
                regime=Regime.TREND if trend else Regime.RANGE,
                window_end=utc(window_end),
                computed_at=utc(window_end + 3),
                valid_until=utc(window_end + CADENCE_S),
                model_version="test-v1",
                trend_vote=trend,
                trend_confidence=0.81 if trend else 0.22,
                range_vote=not trend,
                range_confidence=0.12 if trend else 0.77,
                probabilities={"trend_mlp": 0.81 if trend else 0.2, "range_gbt": 0.1 if trend else 0.74},
            )
            self._window = (window_end, window_end + CADENCE_S, usable_regime(self.item, now))
        return usable_regime(self.item, now)

    def decision_at(self, now: float) -> datetime | None:
        self.regime_at(now)  # brings the scripted item up to `now`
        return self.item.window_end if self.item is not None else None

    def confidence_at(self, now: float) -> float | None:
        return None  # the scripted decisions are traded whatever their confidence


@dataclass
class MonitoredHost:
    session: TradingSession
    tap: MonitorTap
    server: MonitorServer
    decisions: ScriptedDecisions

    @property
    def started_at(self) -> float:
        return self.session.broker.now()


def monitored_host(
    *,
    pace: float | None,
    minutes: float,
    switch_after_min: float = 30.0,
    host: str = "127.0.0.1",
    env: Mapping[str, str] | None = None,
    seed: int = SEED,
) -> MonitoredHost:
    """The session (not started) with its tap attached and its server (not listening yet)."""
    spec = contract("CL").with_session(SYNTHETIC_SESSION)
    broker = SimBroker(MarketTape.from_synthetic(synthetic_days(1, seed=seed)), TIERED, CONFIG.sim, pace=pace)
    start = broker.now()
    decisions = ScriptedDecisions(start + switch_after_min * 60.0)
    session = TradingSession(broker, Trader(spec, CONFIG), decisions)
    session.stop_at = start + minutes * 60.0
    tap = MonitorTap(session.trader, decisions)
    session.observer = tap
    server = MonitorServer(MonitorView(session, tap), tap, MonitorAccess.for_host(host, env or {}), host, 0)
    return MonitoredHost(session, tap, server, decisions)


async def fetch(
    port: int, path: str, headers: Mapping[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request on asyncio streams (the server runs on this loop): status, headers, body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    given = dict(headers or {})
    given.setdefault("Host", f"127.0.0.1:{port}")
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in given.items())]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split(" ")[1]), parsed, body
