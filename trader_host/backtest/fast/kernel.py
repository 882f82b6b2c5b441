"""The fast engine's compiled loop: SimBroker + TradingSession + Trader, restated for one order at a time.

It replays the same events in the same order as the reference (broker items first, then the bar, then the
tick at equal times; heap ties by push order; timer wake-ups at the executor's deadlines) and applies the
same rules with the same float arithmetic, so it produces the same executions at the same times. What makes
it fast: numba, and skipping every tick and bar at which a flat, idle trader can do nothing (no z-score in
the entry band under a tradable regime). Situations the reference handles but this loop does not model
(partial fills, a status request, a position flip) stop the run with an error code: the caller falls back
to, or reports against, the reference engine. Comments name the reference method each block restates.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Parameters (float array par)
P_ONE_WAY, P_FILL_TIMEOUT, P_CANCEL_TIMEOUT, P_Z_THRESH, P_Z_UP, P_Z_TARGET = 0, 1, 2, 3, 4, 5
P_MAX_LOSS, P_NO_ENTRY_S, P_FLATTEN_S, P_QUOTE_AGE, P_SHUTDOWN_S, P_TICK_VALUE = 6, 7, 8, 9, 10, 11
P_STOP_ATR, P_TARGET_ATR, P_SLIP_ATR = 12, 13, 14
N_P = 15
# Parameters (int array ipar)
Q_STOP, Q_QTY, Q_STOP_EXIT, Q_MAX_POS, Q_MAX_OPM, Q_FEE_MICRO, Q_TICK_VALUE_MICRO, Q_SLIP = range(8)
N_Q = 8
STOP_PASSIVE, STOP_TOUCH, STOP_MARKET = 0, 1, 2
# Regime codes (regime.vote) and exit reasons (0..4 as regime.contracts.ExitReason, in this order)
NOTHING, TREND, RANGE = 0, 1, 2
R_NONE, R_TARGET, R_TRAIL, R_STALE, R_FLATTEN, R_KILL = -1, 0, 1, 2, 3, 4
# Order table columns (float64)
(O_SIDE, O_QTY, O_MARKET, O_LIMIT, O_SUBMITTED, O_STATE, O_CANCEL_REQ, O_STALE, O_ROLE, O_REGIME, O_Z) = (
    range(11)
)
O_REASON, O_SIGNAL_PRICE, O_ACKED, O_FILLED, O_ID = 11, 12, 13, 14, 15
N_O = 16
ORDER_SLOTS = 64  # orders live in a ring: at most two are ever in flight (one final, one new)
PENDING, WORKING, FILLED, CANCELLED = 0, 1, 2, 3
ENTRY, EXIT = 0, 1
# Fill table columns (float64): delivery time, price, qty, execution number, then the order's row
F_TS, F_PRICE, F_QTY, F_EXEC = 0, 1, 2, 3
F_ORDER_ROW = 4
N_F = F_ORDER_ROW + N_O
# Broker heap (float64 rows): time, push sequence, kind, order, price, qty, execution number
H_T, H_SEQ, H_KIND, H_ORDER, H_PRICE, H_QTY, H_EXEC = 0, 1, 2, 3, 4, 5, 6
N_H = 7
HEAP_CAP = 32
K_ARRIVE, K_CANCEL, K_ACCEPTED, K_EXEC, K_CANCELLED = 0, 1, 2, 3, 4
# Integer state (st)
(I_POS, I_NORD, I_NEXEC, I_HSEQ, I_HN, I_ACTIVE, I_RESTING, I_TSIDE, I_TREGIME, I_BEST) = range(10)
(I_EXIT_REASON, I_TO_MARKET, I_FEED_ENDED, I_SHUTTING, I_REAL_TICKS, I_FEES, I_ENTRY_VALUE) = range(10, 17)
(I_OPEN_QTY, I_ENTRY_QTY, I_LAST_TICK, I_LAST_NET, I_DAY_START, I_NFILL, I_ERROR) = range(17, 24)
(I_MKT_BID, I_MKT_ASK, I_EHEAD, I_ECOUNT, I_LSIDE, I_EXIT_VALUE, I_LOSS_DAYS) = range(24, 31)
I_STOP_OFF, I_TARGET, I_HAS_TARGET = 31, 32, 33
N_I = 34
# Float state (fst)
S_NOW, S_NEXT_CLOSE, S_LOSS_HIT, S_LAST_Z = 0, 1, 2, 3
N_S = 4
# Errors: what the loop does not model
E_NONE, E_CAPACITY, E_STATUS, E_FLIP, E_LATE_FILL, E_HEAP, E_TWO_ORDERS, E_PARTIAL = 0, 1, 2, 3, 4, 5, 6, 7


@njit(cache=True, inline="always", error_model="numpy")
def _push(
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
def _heap_min(heap: np.ndarray, st: np.ndarray) -> int:
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
def _heap_remove(heap: np.ndarray, st: np.ndarray, k: int) -> None:
    n = st[I_HN] - 1
    heap[k, :] = heap[n, :]
    st[I_HN] = n


@njit(cache=True, inline="always", error_model="numpy")
def _place(
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
    _push(heap, st, now + par[P_ONE_WAY], K_ARRIVE, k, 0, 0, 0)


@njit(cache=True, inline="always", error_model="numpy")
def _cancel(
    orders: np.ndarray, heap: np.ndarray, st: np.ndarray, par: np.ndarray, k: int, now: float
) -> None:
    """OrderExecutor.cancel (once) + SimBroker.cancel_order."""
    if orders[k, O_STATE] >= FILLED or not np.isnan(orders[k, O_CANCEL_REQ]):
        return
    orders[k, O_CANCEL_REQ] = now
    _push(heap, st, now + par[P_ONE_WAY], K_CANCEL, k, 0, 0, 0)


@njit(cache=True, inline="always", error_model="numpy")
def _deadline(orders: np.ndarray, st: np.ndarray, par: np.ndarray) -> float:
    """OrderExecutor.next_deadline (NaN: none)."""
    k = st[I_ACTIVE]
    if k < 0:
        return np.nan
    if np.isnan(orders[k, O_CANCEL_REQ]) and orders[k, O_MARKET] == 0.0:
        return float(orders[k, O_SUBMITTED] + par[P_FILL_TIMEOUT])
    start = orders[k, O_CANCEL_REQ] if not np.isnan(orders[k, O_CANCEL_REQ]) else orders[k, O_SUBMITTED]
    return float(start + par[P_CANCEL_TIMEOUT])


@njit(cache=True, inline="always", error_model="numpy")
def _executor_on_time(
    orders: np.ndarray, heap: np.ndarray, st: np.ndarray, par: np.ndarray, now: float
) -> None:
    """OrderExecutor.on_time: a limit order unfilled after fill_timeout_s is stale and cancelled."""
    k = st[I_ACTIVE]
    if k < 0:
        return
    if np.isnan(orders[k, O_CANCEL_REQ]) and orders[k, O_MARKET] == 0.0:
        if now - orders[k, O_SUBMITTED] >= par[P_FILL_TIMEOUT]:
            orders[k, O_STALE] = 1.0
            _cancel(orders, heap, st, par, k, now)
        return
    if now >= _deadline(orders, st, par):
        st[I_ERROR] = E_STATUS  # a status request: only lost messages lead here


@njit(cache=True, inline="always", error_model="numpy")
def _roll_if_due(st: np.ndarray, fst: np.ndarray, closes: np.ndarray, now: float) -> None:
    """RiskGate._roll_day: a trading day starts at each session close."""
    if now >= fst[S_NEXT_CLOSE]:
        fst[S_NEXT_CLOSE] = closes[np.searchsorted(closes, now, side="right")]
        st[I_DAY_START] = st[I_LAST_NET]


@njit(cache=True, inline="always", error_model="numpy")
def _flatten_reason(
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
    _roll_if_due(st, fst, closes, now)
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
def _work_exit(
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
        _cancel(orders, heap, st, par, k, now)
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
    _place(
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
def _manage(
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
    forced = _flatten_reason(st, fst, par, ipar, closes, now, unreal)
    k = st[I_ACTIVE]
    if k >= 0 and orders[k, O_ROLE] == EXIT and orders[k, O_STALE] != 0.0:
        st[I_TO_MARKET] = 1
    if forced != R_NONE:
        _work_exit(orders, heap, st, fst, par, ipar, bid, ask, last, forced, now, True)
    elif st[I_EXIT_REASON] != R_NONE and st[I_POS] != 0:
        _work_exit(
            orders, heap, st, fst, par, ipar, bid, ask, last, st[I_EXIT_REASON], now, st[I_TO_MARKET] != 0
        )


@njit(cache=True, inline="always", error_model="numpy")
def _atr_ticks(multiple: float, atr: float, fallback: int) -> int:
    """average_true_range.atr_ticks (NaN: no ATR yet)."""
    if multiple <= 0 or np.isnan(atr):
        return fallback
    return max(1, math.floor(multiple * atr + 0.5))


@njit(cache=True, inline="always", error_model="numpy")
def _on_execution(
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
        st[I_STOP_OFF] = _atr_ticks(par[P_STOP_ATR], atr, ipar[Q_STOP])
        st[I_HAS_TARGET] = 1 if par[P_TARGET_ATR] > 0 and not np.isnan(atr) else 0
        if st[I_HAS_TARGET]:
            st[I_TARGET] = price + st[I_TSIDE] * _atr_ticks(par[P_TARGET_ATR], atr, 0)


@njit(cache=True, inline="always", error_model="numpy")
def _on_time(
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
        _executor_on_time(orders, heap, st, par, now)
    _manage(orders, heap, st, fst, par, ipar, closes, bid, ask, last, now)


@njit(cache=True, inline="always", error_model="numpy")
def _on_tick(
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
    blackout: np.ndarray,
    i: int,
    now: float,
) -> None:
    """Trader.on_tick: exits (the trailing stop ratchets every tick), management, then a possible entry."""
    st[I_LAST_TICK] = i
    z = zs[i]
    fst[S_LAST_Z] = z
    if st[I_ACTIVE] >= 0:
        _executor_on_time(orders, heap, st, par, now)
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
        if reason != R_NONE and st[I_EXIT_REASON] == R_NONE:
            st[I_EXIT_REASON] = reason
    _manage(orders, heap, st, fst, par, ipar, closes, bid, ask, last, now)
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
    _roll_if_due(st, fst, closes, now)
    if fst[S_NEXT_CLOSE] - now <= par[P_NO_ENTRY_S]:
        return
    ring = entries.shape[0]
    while st[I_ECOUNT] > 0 and entries[st[I_EHEAD]] <= now - 60.0:
        st[I_EHEAD] = (st[I_EHEAD] + 1) % ring
        st[I_ECOUNT] -= 1
    if st[I_ECOUNT] >= ipar[Q_MAX_OPM]:
        return
    if blackout[i]:
        return
    entries[(st[I_EHEAD] + st[I_ECOUNT]) % ring] = now  # RiskGate.record_entry
    st[I_ECOUNT] += 1
    limit = bid[i] if side > 0 else ask[i]
    _place(orders, heap, st, fst, par, side, ipar[Q_QTY], False, limit, ENTRY, now, reg, z, R_NONE, last[i])


@njit(cache=True, inline="always", error_model="numpy")
def _exchange_item(
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
        _push(heap, st, back, K_ACCEPTED, k, 0, 0, 0)
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
        _push(heap, st, back, K_EXEC, k, price, qty, st[I_NEXEC])
    elif st[I_RESTING] == k:  # K_CANCEL of a resting order; otherwise it already filled
        st[I_RESTING] = -1
        _push(heap, st, back, K_CANCELLED, k, 0, 0, 0)


@njit(cache=True, inline="always", error_model="numpy")
def _deliver(
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
        _on_execution(orders, fills, st, par, ipar, atr, k, now, price, qty, exno)
    elif orders[k, O_STATE] < FILLED:  # K_CANCELLED: final unless already final
        orders[k, O_STATE] = CANCELLED
        if st[I_ACTIVE] == k:
            st[I_ACTIVE] = -1


@njit(cache=True, inline="always", error_model="numpy")
def _pop(heap: np.ndarray, st: np.ndarray, h: int) -> tuple[float, int, int, int, int, int]:
    row = (
        heap[h, H_T],
        int(heap[h, H_KIND]),
        int(heap[h, H_ORDER]),
        int(heap[h, H_PRICE]),
        int(heap[h, H_QTY]),
        int(heap[h, H_EXEC]),
    )
    _heap_remove(heap, st, h)
    return row


EV_TIME, EV_TICK, EV_EXCHANGE, EV_DELIVER = 0, 1, 2, 3
RUNNING, FEED_ENDED, SHUTTING_DOWN = 0, 1, 2


@njit(cache=True, error_model="numpy")
def simulate(
    times: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    last: np.ndarray,
    zs: np.ndarray,
    regimes: np.ndarray,
    blackout: np.ndarray,
    bar_end: np.ndarray,
    atr_strategy: np.ndarray,
    atr_broker: np.ndarray,
    closes: np.ndarray,
    par: np.ndarray,
    ipar: np.ndarray,
    orders: np.ndarray,
    fills: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Replay the whole tape, then the session's shutdown; returns the integer and float state (counts and
    error code inside). One call site per handler (they are inlined)."""
    st = np.zeros(N_I, np.int64)
    fst = np.zeros(N_S, np.float64)
    heap = np.zeros((HEAP_CAP, N_H), np.float64)
    entries = np.zeros(ipar[Q_MAX_OPM] + 1, np.float64)
    st[I_ACTIVE] = -1
    st[I_RESTING] = -1
    st[I_LAST_TICK] = -1
    st[I_EXIT_REASON] = R_NONE
    fst[S_NEXT_CLOSE] = -np.inf
    fst[S_LOSS_HIT] = np.nan
    fst[S_LAST_Z] = np.nan
    n_t, n_b = times.shape[0], bar_end.shape[0]
    now = (times[0] if n_t else 0.0) - 1.0
    end = np.inf
    zlo, zhi = par[P_Z_THRESH], par[P_Z_THRESH] + par[P_Z_UP]
    i = 0
    b = 0
    inf = np.inf
    phase = RUNNING
    while st[I_ERROR] == E_NONE:
        ev = EV_TIME
        kind = k = price = qty = exno = 0
        tt = 0.0
        if phase == RUNNING:
            if st[I_POS] == 0 and st[I_ACTIVE] < 0 and st[I_HN] == 0:
                # Flat and idle: nothing can happen before a tick whose z is in the entry band under a regime.
                j = i
                while j < n_t and not (regimes[j] != NOTHING and zlo <= abs(zs[j]) <= zhi):
                    j += 1
                if j > i:
                    i = j
                    if j < n_t:
                        while b < n_b and bar_end[b] <= times[j]:
                            b += 1
                        now = max(now, times[j - 1])
                    else:
                        now = max(now, times[n_t - 1])
                        if n_b:
                            now = max(now, bar_end[n_b - 1])
                        b = n_b
            ti = times[i] if i < n_t else inf
            tb = bar_end[b] if b < n_b else inf
            if ti == inf and tb == inf:
                st[I_FEED_ENDED] = 1  # FeedEnded: Trader.on_event -> on_time
                phase = FEED_ENDED
            else:
                h = _heap_min(heap, st)
                th = heap[h, H_T] if h >= 0 else inf
                until = _deadline(orders, st, par)
                t = min(ti, tb, th)
                if not np.isnan(until) and t > until:
                    now = max(now, until)  # a timer wake-up
                else:
                    now = max(now, t)
                    if th <= ti and th <= tb:
                        tt, kind, k, price, qty, exno = _pop(heap, st, h)
                        ev = EV_EXCHANGE if kind in (K_ARRIVE, K_CANCEL) else EV_DELIVER
                    elif tb <= ti:
                        b += 1  # a bar: its close is in the precomputed z-scores; then Trader.on_time
                    else:
                        ev = EV_TICK
        elif phase == FEED_ENDED:
            # TradingSession._shutdown: no more entries, flatten, wait at most shutdown_timeout_s.
            end = now + par[P_SHUTDOWN_S]
            st[I_SHUTTING] = 1
            phase = SHUTTING_DOWN
        else:
            if (st[I_POS] == 0 and st[I_ACTIVE] < 0) or now >= end:
                break
            dl = _deadline(orders, st, par)
            until = end if np.isnan(dl) else min(dl, end)
            h = _heap_min(heap, st)
            th = heap[h, H_T] if h >= 0 else inf
            if th > until:
                now = max(now, until)
            else:
                now = max(now, th)
                tt, kind, k, price, qty, exno = _pop(heap, st, h)
                ev = EV_EXCHANGE if kind in (K_ARRIVE, K_CANCEL) else EV_DELIVER
        if ev == EV_EXCHANGE:
            slip = ipar[Q_SLIP]  # SimBroker._bar: the market order slippage as of the last bar
            if par[P_SLIP_ATR] > 0 and b > 0:
                slip += _atr_ticks(par[P_SLIP_ATR], atr_broker[b - 1], 0)
            _exchange_item(orders, heap, st, par, ipar, kind, k, tt, slip)
        elif ev == EV_TICK:
            st[I_MKT_BID] = bid[i]
            st[I_MKT_ASK] = ask[i]
            r = st[I_RESTING]
            if r >= 0:  # MatchingEngine.on_tick: a resting limit fills when the market trades through it
                lim = orders[r, O_LIMIT]
                px = last[i]
                if (orders[r, O_SIDE] > 0 and (px < lim or ask[i] <= lim)) or (
                    orders[r, O_SIDE] < 0 and (px > lim or bid[i] >= lim)
                ):
                    st[I_RESTING] = -1
                    st[I_NEXEC] += 1
                    _push(
                        heap,
                        st,
                        times[i] + par[P_ONE_WAY],
                        K_EXEC,
                        r,
                        int(lim),
                        int(orders[r, O_QTY]),
                        st[I_NEXEC],
                    )
            _on_tick(
                orders,
                heap,
                st,
                fst,
                par,
                ipar,
                entries,
                closes,
                times,
                bid,
                ask,
                last,
                zs,
                regimes,
                blackout,
                i,
                now,
            )
            i += 1
        else:
            if ev == EV_DELIVER:
                atr = atr_strategy[b - 1] if b > 0 else np.nan
                _deliver(orders, fills, st, par, ipar, atr, kind, k, price, qty, exno, now)
            _on_time(orders, heap, st, fst, par, ipar, closes, bid, ask, last, now)
    fst[S_NOW] = now
    return st, fst
