"""The fast backtest engine: the reference engine's fills from a compiled loop (see kernel_layout.py).

`FastEngine` prepares a tape once (z-scores per lookback, regimes per source, closes, entry masks) and then
runs configurations on it; `executions()` gives the broker's executions with the context of their orders,
and `records()` books them through the very PositionLedger the reference uses, so the Fill and RoundTrip
records can be compared one for one with the reference's.
"""

from __future__ import annotations

import dataclasses
import time
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from regime.contracts import ExitReason, Fill, Role, RoundTrip, Side
from regime.vote import REGIMES
from trading_engine.backtest.backtest_results import BacktestResult, TripColumns, summarize_columns
from trading_engine.backtest.fast import kernel_layout as layout
from trading_engine.backtest.fast.entry_filters import (
    bar_atr_percentile,
    local_minutes,
    outside_atr_band,
    outside_windows,
    tick_confidences,
)
from trading_engine.backtest.fast.fast_run import FastEngineUnsupported, FastRun, Inputs, finished, stacked
from trading_engine.backtest.fast.inputs import (
    TapeArrays,
    bar_atr,
    blackout_mask,
    session_closes,
    tick_regimes,
    tick_zscores,
)
from trading_engine.backtest.fast.kernel_aot import built, simulate_function
from trading_engine.broker.port import Execution
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import STOP_EXIT_MODES, WEEKDAYS, HostConfig, entry_window_minutes
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
    ExitReason.MAX_HOLD,
)


def _micro(amount: Decimal, what: str) -> int:
    scaled = amount * _MICRO
    if scaled != scaled.to_integral_value():
        raise FastEngineUnsupported(f"{what} {amount} is not a whole number of micro-dollars")
    return int(scaled)


def _same(a: Any, b: Any) -> bool:
    """The same object, or tuples of the same objects."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))
    return a is b


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
        self._masks: dict[tuple[Any, ...], Any] = {}  # entry masks and their parts, by what they depend on
        self._fee_micro = _micro(fees.per_side_usd, "fee")
        self._tick_micro = _micro(spec.tick_value_usd, "tick value")
        self._capacity = max(1024, self.n_ticks // 64)  # fill rows a run starts with

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickled on another process (a Ray worker): arrays read from an object store are read-only, and
        the compiled loop is specialised for writable ones (another specialisation would compile for a
        minute), so the worker keeps its own copies."""
        self.__dict__.update(state)
        self.arrays = TapeArrays(
            *(np.array(getattr(self.arrays, f.name)) for f in dataclasses.fields(TapeArrays))
        )
        self.closes = np.array(self.closes)
        self._z, self._regimes, self._atr, self._masks = {}, {}, {}, {}

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

    def _cached(self, key: tuple[Any, ...], make: Any, keep: Any = None) -> Any:
        """The value of `make()` under `key`, kept with `keep` (an object whose id is in the key, or arrays
        whose ids are: held alive with the value, so a new object never inherits a dead one's entry)."""
        held = self._masks.get(key)
        if held is None or not _same(held[0], keep):
            held = self._masks[key] = (keep, make())
        return held[1]

    def no_entry(self, config: HostConfig, regime: RegimeSource) -> npt.NDArray[np.bool_]:
        """Ticks at which no entry may be made: the risk blackouts, and the strategy's entry filters
        (ZScoreStrategy.entry_allowed); one array per distinct combination, so a batch stacks each once."""
        s, a, risk = config.strategy, self.arrays, config.risk
        parts = [
            self._cached(("blackout", risk.blackout), lambda: blackout_mask(risk.blackout, a.time, WEEKDAYS))
        ]
        if s.entry_windows:
            tz = self.spec.session.tz
            minutes = self._cached(("minutes", tz), lambda: local_minutes(a.time, tz))
            windows = entry_window_minutes(s.entry_windows)
            parts.append(self._cached(("windows", tz, windows), lambda: outside_windows(minutes, windows)))
        if s.atr_band_on:
            of = (s.atr_bars, s.reset_gap_minutes, s.atr_pct_bars)
            pct = self._cached(("atr_pct", *of), lambda: bar_atr_percentile(a, *of))
            band = (s.atr_pct_low, s.atr_pct_high)
            parts.append(self._cached(("atr_band", *of, *band), lambda: outside_atr_band(a, pct, *band)))
        if s.min_confidence > 0:
            conf = self._cached(("confidence", id(regime)), lambda: tick_confidences(regime, a.time), regime)
            if conf is not None:  # a regime without confidences: the rule does not apply
                below = self._cached(
                    ("below", id(regime), s.min_confidence), lambda: conf < s.min_confidence, regime
                )
                parts.append(below)
        if len(parts) == 1:
            return parts[0]  # type: ignore[no-any-return]
        return self._cached(  # type: ignore[no-any-return]
            ("combined", *(id(p) for p in parts)), lambda: np.logical_or.reduce(parts), tuple(parts)
        )

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
        p[layout.P_MAX_LOSS] = r.daily_loss_limit_usd(self.spec.tick_value_usd)
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
        q[layout.Q_MAX_HOLD] = s.max_hold_bars
        return p, q

    def inputs(self, config: HostConfig, regime: RegimeSource) -> Inputs:
        """What the loop reads for one configuration besides the tape (each array prepared once, cached)."""
        s = config.strategy
        return Inputs(
            self.zscores(s.lookback_bars, s.reset_gap_minutes),
            self.regimes(regime),
            self.no_entry(config, regime),
            self.atr(s.atr_bars, s.reset_gap_minutes),
            self.atr(config.sim.slippage_atr_bars, None),
            *self.params(config),
        )

    def kernel_arguments(
        self, config: HostConfig, regime: RegimeSource, capacity: int | None = None
    ) -> tuple[npt.NDArray[Any], ...]:
        """What the loop is called with for one configuration: the tape, its inputs, empty order and fill
        rows (`capacity` of them, by default the engine's first guess)."""
        a, x = self.arrays, self.inputs(config, regime)
        orders = np.zeros((layout.ORDER_SLOTS, layout.N_O))
        fills = np.zeros((capacity or self._capacity, layout.N_F))
        return (
            a.time,
            a.bid,
            a.ask,
            a.last,
            x.z,
            x.regimes,
            x.no_entry,
            a.bar_end,
            x.atr_strategy,
            x.atr_broker,
            self.closes,
            x.p,
            x.q,
            orders,
            fills,
        )

    def run(self, config: HostConfig, regime: RegimeSource) -> FastRun:
        """Replay the tape under `config` and `regime`; FastEngineUnsupported if it leaves the model."""
        simulate = simulate_function()
        cap = self._capacity
        while True:
            args = self.kernel_arguments(config, regime, cap)
            start = time.perf_counter()
            state, fstate = simulate(*args)
            seconds = time.perf_counter() - start
            if int(state[layout.I_ERROR]) != layout.E_CAPACITY:
                return finished(args[-1], state, fstate, seconds)
            cap *= 4

    def run_many(
        self, jobs: list[tuple[HostConfig, RegimeSource]], *, batch: int | None = None
    ) -> list[FastRun]:
        """`run` of every (config, regime), in compiled calls of `batch` configurations spread over numba's
        threads (default: four per thread); each gives exactly what `run` gives alone. A configuration that
        outgrows its fill rows is run again alone, with room."""
        from numba import get_num_threads

        from trading_engine.backtest.fast.kernel_batch import simulate_batch

        size = batch or 4 * get_num_threads()
        out: list[FastRun] = []
        for lo in range(0, len(jobs), size):
            chunk = [self.inputs(config, regime) for config, regime in jobs[lo : lo + size]]
            stacks = [stacked([getattr(x, name) for x in chunk]) for name in Inputs.STACKED]
            fills = np.zeros((len(chunk), self._capacity, layout.N_F))
            a = self.arrays
            start = time.perf_counter()
            states, fstates = simulate_batch(
                a.time,
                a.bid,
                a.ask,
                a.last,
                *stacks[0],
                *stacks[1],
                *stacks[2],
                a.bar_end,
                *stacks[3],
                *stacks[4],
                self.closes,
                np.stack([x.p for x in chunk]),
                np.stack([x.q for x in chunk]),
                fills,
            )
            seconds = (time.perf_counter() - start) / len(chunk)
            for c, (config, regime) in enumerate(jobs[lo : lo + size]):
                if int(states[c, layout.I_ERROR]) == layout.E_CAPACITY:
                    out.append(self.run(config, regime))
                else:
                    out.append(finished(fills[c], states[c], fstates[c], seconds))
        return out

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

    def columns(self, run: FastRun) -> TripColumns:
        """The closed round trips' figures straight from the fill rows, without booking records: the very
        P&L, fees and exit reasons PositionLedger books (each execution's commission is fees.for_fill)."""
        entry, exit_, _ = self._pairs(run)
        side = entry[:, layout.F_ORDER_ROW + layout.O_SIDE].astype(np.int64)
        entry_qty = entry[:, layout.F_QTY].astype(np.int64)
        exit_qty = exit_[:, layout.F_QTY].astype(np.int64)
        # Prices are whole ticks held exactly in float64; the products are exact in int64.
        pnl = side * (
            exit_[:, layout.F_PRICE].astype(np.int64) * exit_qty
            - entry[:, layout.F_PRICE].astype(np.int64) * entry_qty
        )
        fill_fee = self.fees.for_fill
        reasons = exit_[:, layout.F_ORDER_ROW + layout.O_REASON].astype(np.int64)
        return TripColumns(
            pnl.tolist(),
            entry_qty.tolist(),
            [self.spec.usd(p) for p in pnl.tolist()],
            [fill_fee(a) + fill_fee(b) for a, b in zip(entry_qty.tolist(), exit_qty.tolist(), strict=True)],
            [(_REASONS[r] if r >= 0 else ExitReason.FLATTEN).value for r in reasons.tolist()],
        )

    def records(self, run: FastRun) -> tuple[list[Fill], list[RoundTrip]]:
        """Fill and round-trip records, booked by the reference's PositionLedger."""
        ledger = PositionLedger(self.spec)
        for ex, ctx in self.executions(run):
            ledger.apply(ex, ctx)
        return ledger.fills, ledger.round_trips


def ahead_of_time_built() -> bool:
    """Whether `FastEngine.run` has the loop compiled ahead of time for today's sources (`make venv` builds
    it), so that it runs without importing numba."""
    return built("simulate") is not None


def run_fast_backtest(
    name: str, engine: FastEngine, config: HostConfig, regime: RegimeSource
) -> BacktestResult:
    """One column of `regime-trader backtest` on the fast engine: the figures, from the fill rows (the
    records, when wanted, come from `engine.records(run)`: the same trips, booked one by one)."""
    return run_fast_column(name, engine, config, regime)[0]


def run_fast_column(
    name: str, engine: FastEngine, config: HostConfig, regime: RegimeSource
) -> tuple[BacktestResult, FastRun]:
    """`run_fast_backtest` and the run it summarised (its trips as arrays: `engine.trips(run)`)."""
    start = time.perf_counter()
    run = engine.run(config, regime)
    result = summarize_columns(
        name,
        engine.columns(run),
        hours=engine.n_bars / 60.0,
        ticks=engine.n_ticks,
        bars=engine.n_bars,
        seconds=time.perf_counter() - start,
        loss_limit_days=run.loss_limit_days,
        engine="fast",
    )
    return result, run
