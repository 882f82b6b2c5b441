"""The fast engine's broker side: messages in flight (a tiny heap ordered as SimBroker's), the order
table, OrderExecutor's timeouts and MatchingEngine's arrivals and cancels (see kernel.py)."""

from __future__ import annotations

import numpy as np
from numba import njit

from trading_engine.backtest.fast.kernel_layout import (
    E_HEAP,
    E_STATUS,
    E_TWO_ORDERS,
    FILLED,
    H_EXEC,
    H_KIND,
    H_ORDER,
    H_PRICE,
    H_QTY,
    H_SEQ,
    H_T,
    HEAP_CAP,
    I_ACTIVE,
    I_ERROR,
    I_HN,
    I_HSEQ,
    I_MKT_ASK,
    I_MKT_BID,
    I_NEXEC,
    I_NORD,
    I_RESTING,
    K_ACCEPTED,
    K_ARRIVE,
    K_CANCEL,
    K_CANCELLED,
    K_EXEC,
    O_ACKED,
    O_CANCEL_REQ,
    O_FILLED,
    O_ID,
    O_LIMIT,
    O_MARKET,
    O_QTY,
    O_REASON,
    O_REGIME,
    O_ROLE,
    O_SIDE,
    O_SIGNAL_PRICE,
    O_STALE,
    O_STATE,
    O_SUBMITTED,
    O_Z,
    ORDER_SLOTS,
    P_CANCEL_TIMEOUT,
    P_FILL_TIMEOUT,
    P_ONE_WAY,
    PENDING,
)


@njit(cache=True, inline="always", error_model="numpy")
def push(
    heap: np.ndarray, st: np.ndarray, t: float, kind: int, order: int, price: int, qty: int, ex: int
) -> None:
    n = st[I_HN]
    if n >= HEAP_CAP:
        st[I_ERROR] = E_HEAP
        return
    st[I_HSEQ] += 1
    heap[n, H_T] = t
    heap[n, H_SEQ] = st[I_HSEQ]
    heap[n, H_KIND] = kind
    heap[n, H_ORDER] = order
    heap[n, H_PRICE] = price
    heap[n, H_QTY] = qty
    heap[n, H_EXEC] = ex
    st[I_HN] = n + 1


@njit(cache=True, inline="always", error_model="numpy")
def heap_min(heap: np.ndarray, st: np.ndarray) -> int:
    best = -1
    for k in range(st[I_HN]):
        if (
            best < 0
            or heap[k, H_T] < heap[best, H_T]
            or (heap[k, H_T] == heap[best, H_T] and heap[k, H_SEQ] < heap[best, H_SEQ])
        ):
            best = k
    return best


@njit(cache=True, inline="always", error_model="numpy")
def heap_remove(heap: np.ndarray, st: np.ndarray, k: int) -> None:
    n = st[I_HN] - 1
    heap[k, :] = heap[n, :]
    st[I_HN] = n


@njit(cache=True, inline="always", error_model="numpy")
def pop(heap: np.ndarray, st: np.ndarray, h: int) -> tuple[float, int, int, int, int, int]:
    row = (
        heap[h, H_T],
        int(heap[h, H_KIND]),
        int(heap[h, H_ORDER]),
        int(heap[h, H_PRICE]),
        int(heap[h, H_QTY]),
        int(heap[h, H_EXEC]),
    )
    heap_remove(heap, st, h)
    return row


@njit(cache=True, inline="always", error_model="numpy")
def place(
    orders: np.ndarray,
    heap: np.ndarray,
    st: np.ndarray,
    fst: np.ndarray,
    par: np.ndarray,
    side: int,
    qty: int,
    market: bool,
    limit: int,
    role: int,
    now: float,
    regime: int,
    z: float,
    reason: int,
    signal_price: int,
) -> None:
    """OrderExecutor.place + SimBroker.place_order (the request reaches the book one way later)."""
    if st[I_ACTIVE] >= 0:
        st[I_ERROR] = E_TWO_ORDERS
        return
    k = st[I_NORD] % ORDER_SLOTS
    orders[k, O_ID] = st[I_NORD]
    st[I_NORD] += 1
    orders[k, O_SIDE] = side
    orders[k, O_QTY] = qty
    orders[k, O_MARKET] = 1.0 if market else 0.0
    orders[k, O_LIMIT] = limit
    orders[k, O_SUBMITTED] = now
    orders[k, O_STATE] = PENDING
    orders[k, O_CANCEL_REQ] = np.nan
    orders[k, O_STALE] = 0.0
    orders[k, O_ROLE] = role
    orders[k, O_REGIME] = regime
    orders[k, O_Z] = z
    orders[k, O_REASON] = reason
    orders[k, O_SIGNAL_PRICE] = signal_price
    orders[k, O_ACKED] = np.nan
    orders[k, O_FILLED] = 0.0
    st[I_ACTIVE] = k
    push(heap, st, now + par[P_ONE_WAY], K_ARRIVE, k, 0, 0, 0)


@njit(cache=True, inline="always", error_model="numpy")
def cancel(orders: np.ndarray, heap: np.ndarray, st: np.ndarray, par: np.ndarray, k: int, now: float) -> None:
    """OrderExecutor.cancel (once) + SimBroker.cancel_order."""
    if orders[k, O_STATE] >= FILLED or not np.isnan(orders[k, O_CANCEL_REQ]):
        return
    orders[k, O_CANCEL_REQ] = now
    push(heap, st, now + par[P_ONE_WAY], K_CANCEL, k, 0, 0, 0)


@njit(cache=True, inline="always", error_model="numpy")
def deadline(orders: np.ndarray, st: np.ndarray, par: np.ndarray) -> float:
    """OrderExecutor.next_deadline (NaN: none)."""
    k = st[I_ACTIVE]
    if k < 0:
        return np.nan
    if np.isnan(orders[k, O_CANCEL_REQ]) and orders[k, O_MARKET] == 0.0:
        return float(orders[k, O_SUBMITTED] + par[P_FILL_TIMEOUT])
    start = orders[k, O_CANCEL_REQ] if not np.isnan(orders[k, O_CANCEL_REQ]) else orders[k, O_SUBMITTED]
    return float(start + par[P_CANCEL_TIMEOUT])


@njit(cache=True, inline="always", error_model="numpy")
def executor_on_time(
    orders: np.ndarray, heap: np.ndarray, st: np.ndarray, par: np.ndarray, now: float
) -> None:
    """OrderExecutor.on_time: a limit order unfilled after fill_timeout_s is stale and cancelled."""
    k = st[I_ACTIVE]
    if k < 0:
        return
    if np.isnan(orders[k, O_CANCEL_REQ]) and orders[k, O_MARKET] == 0.0:
        if now - orders[k, O_SUBMITTED] >= par[P_FILL_TIMEOUT]:
            orders[k, O_STALE] = 1.0
            cancel(orders, heap, st, par, k, now)
        return
    if now >= deadline(orders, st, par):
        st[I_ERROR] = E_STATUS  # a status request: only lost messages lead here


@njit(cache=True, inline="always", error_model="numpy")
def exchange_item(
    orders: np.ndarray,
    heap: np.ndarray,
    st: np.ndarray,
    par: np.ndarray,
    ipar: np.ndarray,
    kind: int,
    k: int,
    t: float,
    slip: int,
) -> None:
    """SimBroker._handle for an arrival (MatchingEngine.arrive) or a cancel reaching the book."""
    back = t + par[P_ONE_WAY]
    if kind == K_ARRIVE:
        push(heap, st, back, K_ACCEPTED, k, 0, 0, 0)
        side = orders[k, O_SIDE]
        qty = int(orders[k, O_QTY])
        bid, ask = st[I_MKT_BID], st[I_MKT_ASK]
        if orders[k, O_MARKET] != 0.0:
            price = ask + slip if side > 0 else bid - slip
        elif (side > 0 and ask <= orders[k, O_LIMIT]) or (side < 0 and bid >= orders[k, O_LIMIT]):
            price = ask if side > 0 else bid
        else:
            st[I_RESTING] = k
            return
        st[I_NEXEC] += 1
        push(heap, st, back, K_EXEC, k, price, qty, st[I_NEXEC])
    elif st[I_RESTING] == k:  # K_CANCEL of a resting order; otherwise it already filled
        st[I_RESTING] = -1
        push(heap, st, back, K_CANCELLED, k, 0, 0, 0)
