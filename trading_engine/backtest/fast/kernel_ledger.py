"""The fast engine's booking of one execution: the executor's fill count, PositionLedger's arithmetic and the
trade the strategy opens (see kernel.py)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from trading_engine.backtest.fast.kernel_layout import (
    E_CAPACITY,
    E_FLIP,
    E_LATE_FILL,
    E_PARTIAL,
    F_EXEC,
    F_ORDER_ROW,
    F_PRICE,
    F_QTY,
    F_TS,
    FILLED,
    I_ACTIVE,
    I_BEST,
    I_ENTRY_QTY,
    I_ENTRY_VALUE,
    I_ERROR,
    I_EXIT_REASON,
    I_EXIT_VALUE,
    I_FEES,
    I_HAS_TARGET,
    I_HELD,
    I_LSIDE,
    I_NFILL,
    I_OPEN_QTY,
    I_POS,
    I_REAL_TICKS,
    I_STOP_OFF,
    I_TARGET,
    I_TO_MARKET,
    I_TREGIME,
    I_TSIDE,
    O_FILLED,
    O_QTY,
    O_REGIME,
    O_SIDE,
    O_STATE,
    P_STOP_ATR,
    P_TARGET_ATR,
    Q_FEE_MICRO,
    Q_STOP,
    R_NONE,
)


@njit(cache=True, inline="always", error_model="numpy")
def atr_ticks(multiple: float, atr: float, fallback: int) -> int:
    """average_true_range.atr_ticks (NaN: no ATR yet)."""
    if multiple <= 0 or np.isnan(atr):
        return fallback
    return max(1, math.floor(multiple * atr + 0.5))


@njit(cache=True, inline="always", error_model="numpy")
def on_execution(
    orders: np.ndarray,
    fills: np.ndarray,
    st: np.ndarray,
    par: np.ndarray,
    ipar: np.ndarray,
    atr: float,
    k: int,
    t: float,
    price: int,
    qty: int,
    exno: int,
) -> None:
    """OrderExecutor.on_execution + PositionLedger.apply + Trader._book_fills, for one delivered execution."""
    if orders[k, O_STATE] >= FILLED:
        st[I_ERROR] = E_LATE_FILL
        return
    orders[k, O_FILLED] += qty
    if orders[k, O_FILLED] < orders[k, O_QTY]:
        st[I_ERROR] = E_PARTIAL
        return
    orders[k, O_STATE] = FILLED
    if st[I_ACTIVE] == k:
        st[I_ACTIVE] = -1
    n = st[I_NFILL]
    if n >= fills.shape[0]:
        st[I_ERROR] = E_CAPACITY
        return
    st[I_NFILL] = n + 1
    fills[n, F_TS] = t
    fills[n, F_ORDER_ROW:] = orders[k, :]
    fills[n, F_PRICE] = price
    fills[n, F_QTY] = qty
    fills[n, F_EXEC] = exno
    side = int(orders[k, O_SIDE])
    before = st[I_POS]
    st[I_FEES] += ipar[Q_FEE_MICRO] * qty
    closed = False
    q = qty
    if st[I_LSIDE] != 0 and side != st[I_LSIDE]:
        closing = min(q, st[I_OPEN_QTY])
        st[I_EXIT_VALUE] += price * closing
        st[I_OPEN_QTY] -= closing
        st[I_POS] += side * closing
        q -= closing
        if st[I_OPEN_QTY] == 0:
            st[I_REAL_TICKS] += st[I_LSIDE] * (st[I_EXIT_VALUE] - st[I_ENTRY_VALUE])
            st[I_LSIDE] = 0
            st[I_ENTRY_VALUE] = 0
            st[I_ENTRY_QTY] = 0
            st[I_EXIT_VALUE] = 0
            closed = True
            if q:
                st[I_ERROR] = E_FLIP
                return
    if q:
        if st[I_LSIDE] == 0:
            st[I_LSIDE] = side
        st[I_OPEN_QTY] += q
        st[I_ENTRY_QTY] += q
        st[I_ENTRY_VALUE] += price * q
        st[I_POS] += side * q
    after = st[I_POS]
    if closed or after == 0:
        st[I_TSIDE] = 0
        st[I_EXIT_REASON] = R_NONE
        st[I_TO_MARKET] = 0
    if after != 0 and (before == 0 or closed):
        st[I_TSIDE] = 1 if after > 0 else -1
        st[I_TREGIME] = int(orders[k, O_REGIME])
        st[I_BEST] = price  # ZScoreStrategy.open_trade: the stop and target in ATR units, if asked
        st[I_HELD] = 0
        st[I_STOP_OFF] = atr_ticks(par[P_STOP_ATR], atr, ipar[Q_STOP])
        st[I_HAS_TARGET] = 1 if par[P_TARGET_ATR] > 0 and not np.isnan(atr) else 0
        if st[I_HAS_TARGET]:
            st[I_TARGET] = price + st[I_TSIDE] * atr_ticks(par[P_TARGET_ATR], atr, 0)
