"""The fast engine's trader side: Trader, ZScoreStrategy exits and entries, RiskGate (see kernel.py); the
booking of a fill is kernel_ledger.py."""

from __future__ import annotations

import numpy as np
from numba import njit

from trading_engine.backtest.fast.kernel_broker import cancel, executor_on_time, place
from trading_engine.backtest.fast.kernel_layout import (
    CANCELLED,
    ENTRY,
    EXIT,
    FILLED,
    I_ACTIVE,
    I_BEST,
    I_DAY_START,
    I_ECOUNT,
    I_EHEAD,
    I_ENTRY_QTY,
    I_ENTRY_VALUE,
    I_EXIT_REASON,
    I_FEED_ENDED,
    I_FEES,
    I_HAS_TARGET,
    I_HELD,
    I_LAST_NET,
    I_LAST_TICK,
    I_LOSS_DAYS,
    I_LSIDE,
    I_OPEN_QTY,
    I_POS,
    I_REAL_TICKS,
    I_SHUTTING,
    I_STOP_OFF,
    I_TARGET,
    I_TO_MARKET,
    I_TREGIME,
    I_TSIDE,
    K_ACCEPTED,
    K_EXEC,
    NOTHING,
    O_ACKED,
    O_MARKET,
    O_ROLE,
    O_STALE,
    O_STATE,
    P_FLATTEN_S,
    P_MAX_LOSS,
    P_NO_ENTRY_S,
    P_QUOTE_AGE,
    P_TICK_VALUE,
    P_Z_TARGET,
    P_Z_THRESH,
    P_Z_UP,
    PENDING,
    Q_MAX_HOLD,
    Q_MAX_OPM,
    Q_MAX_POS,
    Q_QTY,
    Q_STOP_EXIT,
    Q_TICK_VALUE_MICRO,
    R_FLATTEN,
    R_MAX_HOLD,
    R_NONE,
    R_STALE,
    R_TARGET,
    R_TRAIL,
    RANGE,
    S_LAST_Z,
    S_LOSS_HIT,
    S_NEXT_CLOSE,
    STOP_MARKET,
    STOP_TOUCH,
    WORKING,
)
from trading_engine.backtest.fast.kernel_ledger import on_execution


@njit(cache=True, inline="always", error_model="numpy")
def roll_if_due(st: np.ndarray, fst: np.ndarray, closes: np.ndarray, now: float) -> None:
    """RiskGate._roll_day: a trading day starts at each session close."""
    if now >= fst[S_NEXT_CLOSE]:
        fst[S_NEXT_CLOSE] = closes[np.searchsorted(closes, now, side="right")]
        st[I_DAY_START] = st[I_LAST_NET]


@njit(cache=True, inline="always", error_model="numpy")
def flatten_reason(
    st: np.ndarray,
    fst: np.ndarray,
    par: np.ndarray,
    ipar: np.ndarray,
    closes: np.ndarray,
    now: float,
    unreal: float,
) -> int:
    """RiskGate.flatten_reason (no kill switch in a backtest)."""
    if st[I_SHUTTING]:
        return R_FLATTEN
    roll_if_due(st, fst, closes, now)
    net = st[I_REAL_TICKS] * ipar[Q_TICK_VALUE_MICRO] - st[I_FEES]
    st[I_LAST_NET] = net
    pnl = float(net - st[I_DAY_START]) / 1e6 + unreal * par[P_TICK_VALUE]
    if fst[S_LOSS_HIT] == fst[S_NEXT_CLOSE]:
        return R_FLATTEN
    if pnl <= -par[P_MAX_LOSS]:
        st[I_LOSS_DAYS] += 1  # RiskGate.loss_limit_days
        fst[S_LOSS_HIT] = fst[S_NEXT_CLOSE]
        return R_FLATTEN
    if fst[S_NEXT_CLOSE] - now <= par[P_FLATTEN_S]:
        return R_FLATTEN
    return R_NONE


@njit(cache=True, inline="always", error_model="numpy")
def work_exit(
    orders: np.ndarray,
    heap: np.ndarray,
    st: np.ndarray,
    fst: np.ndarray,
    par: np.ndarray,
    ipar: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    last: np.ndarray,
    reason: int,
    now: float,
    market: bool,
) -> None:
    """Trader._work_exit: cancel what blocks the exit, then send one exit order when nothing lives."""
    k = st[I_ACTIVE]
    if k >= 0 and (orders[k, O_ROLE] == ENTRY or (market and orders[k, O_MARKET] == 0.0)):
        cancel(orders, heap, st, par, k, now)
    pos = st[I_POS]
    lt = st[I_LAST_TICK]
    if st[I_ACTIVE] >= 0 or pos == 0 or lt < 0:
        return
    side = -1 if pos > 0 else 1
    is_market = market
    limit = 0
    if market:
        if reason in (R_TARGET, R_TRAIL):
            reason = R_STALE
    elif reason == R_TRAIL and ipar[Q_STOP_EXIT] == STOP_MARKET:
        is_market = True
    else:  # exit_policy.exit_order
        near = reason == R_TRAIL and ipar[Q_STOP_EXIT] == STOP_TOUCH
        selling_near_or_buying_far = (side < 0) == near
        limit = bid[lt] if selling_near_or_buying_far else ask[lt]
    regime = st[I_TREGIME] if st[I_TSIDE] != 0 else NOTHING
    z = fst[S_LAST_Z]
    place(
        orders,
        heap,
        st,
        fst,
        par,
        side,
        abs(pos),
        is_market,
        limit,
        EXIT,
        now,
        regime,
        0.0 if np.isnan(z) else z,
        reason,
        last[lt],
    )


@njit(cache=True, inline="always", error_model="numpy")
def manage(
    orders: np.ndarray,
    heap: np.ndarray,
    st: np.ndarray,
    fst: np.ndarray,
    par: np.ndarray,
    ipar: np.ndarray,
    closes: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    last: np.ndarray,
    now: float,
) -> None:
    """Trader._manage: a flatten demanded by risk, or the strategy's exit."""
    unreal = 0.0
    lt = st[I_LAST_TICK]
    if lt >= 0 and st[I_OPEN_QTY] != 0:  # PositionLedger.unrealised_ticks
        avg = st[I_ENTRY_VALUE] / st[I_ENTRY_QTY]
        sign = st[I_LSIDE]
        unreal = sign * (last[lt] - avg) * st[I_OPEN_QTY]
    forced = flatten_reason(st, fst, par, ipar, closes, now, unreal)
    k = st[I_ACTIVE]
    if k >= 0 and orders[k, O_ROLE] == EXIT and orders[k, O_STALE] != 0.0:
        st[I_TO_MARKET] = 1
    if forced != R_NONE:
        work_exit(orders, heap, st, fst, par, ipar, bid, ask, last, forced, now, True)
    elif st[I_EXIT_REASON] != R_NONE and st[I_POS] != 0:
        work_exit(
            orders, heap, st, fst, par, ipar, bid, ask, last, st[I_EXIT_REASON], now, st[I_TO_MARKET] != 0
        )


@njit(cache=True, inline="always", error_model="numpy")
def on_time(
    orders: np.ndarray,
    heap: np.ndarray,
    st: np.ndarray,
    fst: np.ndarray,
    par: np.ndarray,
    ipar: np.ndarray,
    closes: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    last: np.ndarray,
    now: float,
) -> None:
    """Trader.on_time: timeouts, then position management."""
    if st[I_ACTIVE] >= 0:
        executor_on_time(orders, heap, st, par, now)
    manage(orders, heap, st, fst, par, ipar, closes, bid, ask, last, now)


@njit(cache=True, inline="always", error_model="numpy")
def on_tick(
    orders: np.ndarray,
    heap: np.ndarray,
    st: np.ndarray,
    fst: np.ndarray,
    par: np.ndarray,
    ipar: np.ndarray,
    entries: np.ndarray,
    closes: np.ndarray,
    times: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    last: np.ndarray,
    zs: np.ndarray,
    regimes: np.ndarray,
    no_entry: np.ndarray,
    i: int,
    now: float,
) -> None:
    """Trader.on_tick: exits (the trailing stop ratchets every tick), management, then a possible entry."""
    st[I_LAST_TICK] = i
    z = zs[i]
    fst[S_LAST_Z] = z
    if st[I_ACTIVE] >= 0:
        executor_on_time(orders, heap, st, par, now)
    if st[I_POS] != 0 and st[I_TSIDE] != 0:  # ZScoreStrategy.exit_signal
        px = last[i]
        reason = R_NONE
        if st[I_TSIDE] > 0:
            if px > st[I_BEST]:
                st[I_BEST] = px
            hit = px <= st[I_BEST] - st[I_STOP_OFF]
        else:
            if px < st[I_BEST]:
                st[I_BEST] = px
            hit = px >= st[I_BEST] + st[I_STOP_OFF]
        if hit:
            reason = R_TRAIL
        elif st[I_HAS_TARGET] and (px - st[I_TARGET]) * st[I_TSIDE] >= 0:
            reason = R_TARGET
        elif st[I_TREGIME] == RANGE and not np.isnan(z):
            target = par[P_Z_TARGET]
            if (st[I_TSIDE] > 0 and z >= -target) or (st[I_TSIDE] < 0 and z <= target):
                reason = R_TARGET
        if reason == R_NONE and 0 < ipar[Q_MAX_HOLD] <= st[I_HELD]:
            reason = R_MAX_HOLD
        if reason != R_NONE and st[I_EXIT_REASON] == R_NONE:
            st[I_EXIT_REASON] = reason
    manage(orders, heap, st, fst, par, ipar, closes, bid, ask, last, now)
    if st[I_POS] != 0 or st[I_ACTIVE] >= 0 or st[I_FEED_ENDED]:
        return
    reg = regimes[i]  # ZScoreStrategy.entry_signal (entry_side)
    if reg == NOTHING or np.isnan(z):
        return
    az = abs(z)
    if not (par[P_Z_THRESH] <= az and az <= par[P_Z_THRESH] + par[P_Z_UP]):
        return
    high = z > 0
    side = (-1 if high else 1) if reg == RANGE else (1 if high else -1)
    # RiskGate.entry_block
    if st[I_SHUTTING]:
        return
    if fst[S_LOSS_HIT] == fst[S_NEXT_CLOSE] and now < fst[S_NEXT_CLOSE]:
        return
    if abs(st[I_POS]) + ipar[Q_QTY] > ipar[Q_MAX_POS]:
        return
    if now - times[i] > par[P_QUOTE_AGE]:
        return
    roll_if_due(st, fst, closes, now)
    if fst[S_NEXT_CLOSE] - now <= par[P_NO_ENTRY_S]:
        return
    ring = entries.shape[0]
    while st[I_ECOUNT] > 0 and entries[st[I_EHEAD]] <= now - 60.0:
        st[I_EHEAD] = (st[I_EHEAD] + 1) % ring
        st[I_ECOUNT] -= 1
    if st[I_ECOUNT] >= ipar[Q_MAX_OPM]:
        return
    if no_entry[i]:  # RiskGate._blackout and ZScoreStrategy.entry_allowed per tick (FastEngine.no_entry)
        return
    entries[(st[I_EHEAD] + st[I_ECOUNT]) % ring] = now  # RiskGate.record_entry
    st[I_ECOUNT] += 1
    limit = bid[i] if side > 0 else ask[i]
    place(orders, heap, st, fst, par, side, ipar[Q_QTY], False, limit, ENTRY, now, reg, z, R_NONE, last[i])


@njit(cache=True, inline="always", error_model="numpy")
def deliver(
    orders: np.ndarray,
    fills: np.ndarray,
    st: np.ndarray,
    par: np.ndarray,
    ipar: np.ndarray,
    atr: float,
    kind: int,
    k: int,
    price: int,
    qty: int,
    exno: int,
    now: float,
) -> None:
    """Trader.on_event for what the broker reports (acceptance, execution, cancel confirmation); the caller
    then runs Trader.on_time, as on_event does."""
    if kind == K_ACCEPTED:
        if orders[k, O_STATE] == PENDING:
            orders[k, O_STATE] = WORKING
        if np.isnan(orders[k, O_ACKED]):
            orders[k, O_ACKED] = now
    elif kind == K_EXEC:
        on_execution(orders, fills, st, par, ipar, atr, k, now, price, qty, exno)
    elif orders[k, O_STATE] < FILLED:  # K_CANCELLED: final unless already final
        orders[k, O_STATE] = CANCELLED
        if st[I_ACTIVE] == k:
            st[I_ACTIVE] = -1
