"""The fast backtest engine: the reference engine's fills from a compiled loop (see layout.py).

`FastEngine` prepares a tape once (z-scores per lookback, regimes per source, closes, blackouts) and then
runs configurations on it; `executions()` gives the broker's executions with the context of their orders,
and `records()` books them through the very PositionLedger the reference uses, so the Fill and RoundTrip
records can be compared one for one with the reference's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from regime.contracts import ExitReason, Fill, Role, RoundTrip, Side
from regime.vote import REGIMES
from trading_engine.backtest.fast import kernel
from trading_engine.backtest.fast import kernel_layout as layout
from trading_engine.backtest.fast.inputs import (
    TapeArrays,
    bar_atr,
    blackout_mask,
    session_closes,
    tick_regimes,
    tick_zscores,
)
from trading_engine.backtest.report import BacktestResult, summarize
from trading_engine.broker.port import Execution
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import STOP_EXIT_MODES, WEEKDAYS, Blackout, HostConfig
from trading_engine.execution.ledger import FillContext, PositionLedger
from trading_engine.fees import FeeSchedule
from trading_engine.instruments import ContractSpec
from trading_engine.regime_source import RegimeSource

_MICRO = Decimal(1_000_000)
_REASONS = (
    ExitReason.TARGET,
    ExitReason.TRAIL,
    ExitReason.STALE_TO_MARKET,
    ExitReason.FLATTEN,
    ExitReason.KILL,
)
_ERRORS = {
    layout.E_STATUS: "an order needed a status request (lost messages are not modelled)",
    layout.E_FLIP: "an execution flipped the position",
    layout.E_LATE_FILL: "an execution arrived for a cancelled order",
    layout.E_HEAP: "too many broker messages in flight",
    layout.E_TWO_ORDERS: "two orders alive at once",
    layout.E_PARTIAL: "a partial fill",
}


class FastEngineUnsupported(RuntimeError):
    """A situation the fast loop does not model: use the reference engine (`--engine reference`)."""


@dataclass(frozen=True)
class FastRun:
    """What one configuration did: its executions (kernel fill rows, each with its order's row)."""

    fills: npt.NDArray[np.float64]
    n_orders: int
    seconds: float
    end_time: float
    loss_limit_days: int

    @property
    def n_fills(self) -> int:
        return int(self.fills.shape[0])


def _micro(amount: Decimal, what: str) -> int:
    scaled = amount * _MICRO
    if scaled != scaled.to_integral_value():
        raise FastEngineUnsupported(f"{what} {amount} is not a whole number of micro-dollars")
    return int(scaled)


class FastEngine:
    """One tape, prepared once; `run(config, regime)` replays it for one configuration."""

    def __init__(self, tape: MarketTape, spec: ContractSpec, fees: FeeSchedule) -> None:
        self.spec = spec
        self.fees = fees
        self.symbol = tape.symbol
        self.arrays = TapeArrays.from_tape(tape)
        self.n_ticks, self.n_bars = tape.n_ticks, tape.n_bars
        t = self.arrays.time
        first = float(t[0]) if t.size else 0.0
        last = max(float(t[-1]) if t.size else 0.0, float(self.arrays.bar_end[-1]) if tape.n_bars else 0.0)
        self.closes = session_closes(spec.session, first, last)
        self._z: dict[tuple[int, int], npt.NDArray[np.float64]] = {}
        self._regimes: dict[int, tuple[RegimeSource, npt.NDArray[np.int8]]] = {}
        self._atr: dict[tuple[int, int | None], npt.NDArray[np.float64]] = {}
        self._blackouts: dict[tuple[Blackout, ...], npt.NDArray[np.bool_]] = {}
        self._fee_micro = _micro(fees.per_side_usd, "fee")
        self._tick_micro = _micro(spec.tick_value_usd, "tick value")

    def zscores(self, lookback: int, reset_gap: int) -> npt.NDArray[np.float64]:
        key = (lookback, reset_gap)
        if key not in self._z:
            self._z[key] = tick_zscores(self.arrays, lookback, reset_gap)
        return self._z[key]

    def regimes(self, source: RegimeSource) -> npt.NDArray[np.int8]:
        """The regime code at every tick under `source`, cached per source object (kept alive with its
        codes, so that a new source never inherits a dead one's id)."""
        cached = self._regimes.get(id(source))
        if cached is None or cached[0] is not source:
            cached = self._regimes[id(source)] = (source, tick_regimes(source, self.arrays.time))
        return cached[1]

    def atr(self, window: int, reset_gap: int | None) -> npt.NDArray[np.float64]:
        key = (window, reset_gap)
        if key not in self._atr:
            self._atr[key] = bar_atr(self.arrays, window, reset_gap)
        return self._atr[key]

    def blackouts(self, config: HostConfig) -> npt.NDArray[np.bool_]:
        key = config.risk.blackout
        if key not in self._blackouts:
            self._blackouts[key] = blackout_mask(key, self.arrays.time, WEEKDAYS)
        return self._blackouts[key]

    def params(self, config: HostConfig) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """The configuration as the loop's parameter vectors, computed as the reference computes them."""
        config.check()
        s, e, r = config.strategy, config.execution, config.risk
        p = np.zeros(layout.N_P)
        p[layout.P_ONE_WAY] = config.sim.ack_latency_s / 2
        p[layout.P_FILL_TIMEOUT] = e.fill_timeout_s
        p[layout.P_CANCEL_TIMEOUT] = e.cancel_timeout_s
        p[layout.P_Z_THRESH] = s.z_thresh
        p[layout.P_Z_UP] = s.z_thresh_up
        p[layout.P_Z_TARGET] = s.z_target
        p[layout.P_MAX_LOSS] = r.max_daily_loss_usd
        p[layout.P_NO_ENTRY_S] = r.no_entry_before_break_minutes * 60
        p[layout.P_FLATTEN_S] = r.flatten_before_break_minutes * 60
        p[layout.P_QUOTE_AGE] = r.max_quote_age_s
        p[layout.P_SHUTDOWN_S] = r.shutdown_timeout_s
        p[layout.P_TICK_VALUE] = float(self.spec.tick_value_usd)
        p[layout.P_STOP_ATR] = s.stop_atr
        p[layout.P_TARGET_ATR] = s.target_atr
        p[layout.P_SLIP_ATR] = config.sim.slippage_atr
        q = np.zeros(layout.N_Q, dtype=np.int64)
        q[layout.Q_STOP] = s.stop_offset_ticks
        q[layout.Q_QTY] = e.order_qty
        q[layout.Q_STOP_EXIT] = STOP_EXIT_MODES.index(e.stop_exit)
        q[layout.Q_MAX_POS] = r.max_position
        q[layout.Q_MAX_OPM] = r.max_orders_per_minute
        q[layout.Q_FEE_MICRO] = self._fee_micro
        q[layout.Q_TICK_VALUE_MICRO] = self._tick_micro
        q[layout.Q_SLIP] = config.sim.slippage_ticks
        return p, q

    def run(self, config: HostConfig, regime: RegimeSource) -> FastRun:
        """Replay the tape under `config` and `regime`; FastEngineUnsupported if it leaves the model."""
        a = self.arrays
        z = self.zscores(config.strategy.lookback_bars, config.strategy.reset_gap_minutes)
        reg = self.regimes(regime)
        black = self.blackouts(config)
        atr_strategy = self.atr(config.strategy.atr_bars, config.strategy.reset_gap_minutes)
        atr_broker = self.atr(config.sim.slippage_atr_bars, None)
        p, q = self.params(config)
        cap = max(1024, self.n_ticks // 64)
        while True:
            orders = np.zeros((layout.ORDER_SLOTS, layout.N_O))
            fills = np.zeros((cap, layout.N_F))
            start = time.perf_counter()
            state, fstate = kernel.simulate(
                a.time,
                a.bid,
                a.ask,
                a.last,
                z,
                reg,
                black,
                a.bar_end,
                atr_strategy,
                atr_broker,
                self.closes,
                p,
                q,
                orders,
                fills,
            )
            seconds = time.perf_counter() - start
            error = int(state[layout.I_ERROR])
            if error != layout.E_CAPACITY:
                break
            cap *= 4
        if error != layout.E_NONE:
            raise FastEngineUnsupported(f"fast engine: {_ERRORS.get(error, f'error {error}')}")
        return FastRun(
            fills[: int(state[layout.I_NFILL])],
            int(state[layout.I_NORD]),
            seconds,
            float(fstate[layout.S_NOW]),
            int(state[layout.I_LOSS_DAYS]),
        )

    def executions(self, run: FastRun) -> list[tuple[Execution, FillContext]]:
        """The broker's executions, as delivered to the trader, with the context of their orders."""
        out = []
        for row in run.fills.tolist():
            ts, price, qty = row[layout.F_TS], int(row[layout.F_PRICE]), int(row[layout.F_QTY])
            o = row[layout.F_ORDER_ROW :]
            side = Side.BUY if o[layout.O_SIDE] > 0 else Side.SELL
            reason = int(o[layout.O_REASON])
            ack = float(o[layout.O_ACKED])
            ctx = FillContext(
                Role.ENTRY if o[layout.O_ROLE] == layout.ENTRY else Role.EXIT,
                REGIMES[int(o[layout.O_REGIME])],
                float(o[layout.O_Z]),
                None if reason < 0 else _REASONS[reason],
                float(o[layout.O_SUBMITTED]),
                None if np.isnan(ack) else ack,
                int(o[layout.O_SIGNAL_PRICE]),
                "market" if o[layout.O_MARKET] else "limit",
            )
            ex = Execution(
                ts,
                f"sim-{int(row[layout.F_EXEC])}",
                f"o{int(o[layout.O_ID]) + 1}",
                side,
                qty,
                price,
                self.fees.for_fill(qty),
            )
            out.append((ex, ctx))
        return out

    def _pairs(
        self, run: FastRun
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Closed round trips' entry rows, exit rows and net USD (fills alternate entry, exit: one order at
        a time, no partial fills, which is what the loop models)."""
        f = run.fills
        role = f[:, layout.F_ORDER_ROW + layout.O_ROLE]
        n = f.shape[0] - (f.shape[0] % 2 if f.shape[0] and role[-1] == layout.ENTRY else 0)
        entry, exit_ = f[0:n:2], f[1:n:2]
        if not (np.all(role[0:n:2] == layout.ENTRY) and np.all(role[1:n:2] == layout.EXIT)):
            raise FastEngineUnsupported("fast engine: fills do not alternate entry and exit")
        side = entry[:, layout.F_ORDER_ROW + layout.O_SIDE]
        ticks = side * (exit_[:, layout.F_PRICE] - entry[:, layout.F_PRICE]) * entry[:, layout.F_QTY]
        fees = float(self.fees.per_side_usd) * (entry[:, layout.F_QTY] + exit_[:, layout.F_QTY])
        return entry, exit_, ticks * float(self.spec.tick_value_usd) - fees

    def trips(self, run: FastRun) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Closed round trips as arrays (sweeps): exit time and net USD, without building records."""
        _, exit_, net = self._pairs(run)
        return exit_[:, layout.F_TS].copy(), net

    def trip_entries(self, run: FastRun) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Closed round trips' entry fill times and net USD (meta-labels)."""
        entry, _, net = self._pairs(run)
        return entry[:, layout.F_TS].copy(), net

    def trip_ticks(self, run: FastRun) -> npt.NDArray[np.float64]:
        """Net ticks per contract of each closed round trip (fees converted to ticks)."""
        entry, _, net = self._pairs(run)
        return net / float(self.spec.tick_value_usd) / entry[:, layout.F_QTY]

    def records(self, run: FastRun) -> tuple[list[Fill], list[RoundTrip]]:
        """Fill and round-trip records, booked by the reference's PositionLedger."""
        ledger = PositionLedger(self.spec)
        for ex, ctx in self.executions(run):
            ledger.apply(ex, ctx)
        return ledger.fills, ledger.round_trips


def run_fast_backtest(
    name: str, engine: FastEngine, config: HostConfig, regime: RegimeSource
) -> tuple[BacktestResult, list[Fill], list[RoundTrip]]:
    """One column of `regime-trader backtest` on the fast engine: the figures and the records."""
    start = time.perf_counter()
    run = engine.run(config, regime)
    fills, trips = engine.records(run)
    result = summarize(
        name,
        trips,
        hours=engine.n_bars / 60.0,
        ticks=engine.n_ticks,
        bars=engine.n_bars,
        seconds=time.perf_counter() - start,
        loss_limit_days=run.loss_limit_days,
        engine="fast",
    )
    return result, fills, trips
