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

import numpy as np
from numba import njit

# Parameters (float array P)
P_ONE_WAY, P_FILL_TIMEOUT, P_CANCEL_TIMEOUT, P_Z_THRESH, P_Z_UP, P_Z_TARGET = 0, 1, 2, 3, 4, 5
P_MAX_LOSS, P_NO_ENTRY_S, P_FLATTEN_S, P_QUOTE_AGE, P_SHUTDOWN_S, P_TICK_VALUE = 6, 7, 8, 9, 10, 11
N_P = 12
# Parameters (int array Q)
Q_STOP, Q_QTY, Q_STOP_EXIT, Q_MAX_POS, Q_MAX_OPM, Q_FEE_MICRO, Q_TICK_VALUE_MICRO, Q_SLIP = range(8)
N_Q = 8
STOP_PASSIVE, STOP_TOUCH, STOP_MARKET = 0, 1, 2
# Regime codes (regime.vote) and exit reasons (0..4 as regime.contracts.ExitReason, in this order)
NOTHING, TREND, RANGE = 0, 1, 2
R_NONE, R_TARGET, R_TRAIL, R_STALE, R_FLATTEN, R_KILL = -1, 0, 1, 2, 3, 4
# Order table columns (float64)
(O_SIDE, O_QTY, O_MARKET, O_LIMIT, O_SUBMITTED, O_STATE, O_CANCEL_REQ, O_STALE, O_ROLE, O_REGIME, O_Z) = range(
    11
)
O_REASON, O_SIGNAL_PRICE, O_ACKED, O_FILLED = 11, 12, 13, 14
N_O = 15
PENDING, WORKING, FILLED, CANCELLED = 0, 1, 2, 3
ENTRY, EXIT = 0, 1
# Fill table columns (float64): delivery time, order, price, qty, execution number
F_TS, F_ORDER, F_PRICE, F_QTY, F_EXEC = 0, 1, 2, 3, 4
N_F = 5
# Broker heap (float64 rows): time, push sequence, kind, order, price, qty, execution number
H_T, H_SEQ, H_KIND, H_ORDER, H_PRICE, H_QTY, H_EXEC = 0, 1, 2, 3, 4, 5, 6
N_H = 7
HEAP_CAP = 32
K_ARRIVE, K_CANCEL, K_ACCEPTED, K_EXEC, K_CANCELLED = 0, 1, 2, 3, 4
# Integer state (I)
(I_POS, I_NORD, I_NEXEC, I_HSEQ, I_HN, I_ACTIVE, I_RESTING, I_TSIDE, I_TREGIME, I_BEST) = range(10)
(I_EXIT_REASON, I_TO_MARKET, I_FEED_ENDED, I_SHUTTING, I_REAL_TICKS, I_FEES, I_ENTRY_VALUE) = range(10, 17)
(I_OPEN_QTY, I_ENTRY_QTY, I_LAST_TICK, I_LAST_NET, I_DAY_START, I_NFILL, I_ERROR) = range(17, 24)
(I_MKT_BID, I_MKT_ASK, I_EHEAD, I_ECOUNT, I_LSIDE, I_EXIT_VALUE) = range(24, 30)
N_I = 30
# Float state (S)
S_NOW, S_NEXT_CLOSE, S_LOSS_HIT, S_LAST_Z = 0, 1, 2, 3
N_S = 4
# Errors: what the loop does not model
E_NONE, E_CAPACITY, E_STATUS, E_FLIP, E_LATE_FILL, E_HEAP, E_TWO_ORDERS, E_PARTIAL = 0, 1, 2, 3, 4, 5, 6, 7


@njit(cache=True)
def _push(H: np.ndarray, I: np.ndarray, t: float, kind: int, order: int, price: int, qty: int, ex: int) -> None:
    n = I[I_HN]
    if n >= HEAP_CAP:
        I[I_ERROR] = E_HEAP
        return
    I[I_HSEQ] += 1
    H[n, H_T] = t
    H[n, H_SEQ] = I[I_HSEQ]
    H[n, H_KIND] = kind
    H[n, H_ORDER] = order
    H[n, H_PRICE] = price
    H[n, H_QTY] = qty
    H[n, H_EXEC] = ex
    I[I_HN] = n + 1


@njit(cache=True)
def _heap_min(H: np.ndarray, I: np.ndarray) -> int:
    best = -1
    for k in range(I[I_HN]):
        if best < 0 or H[k, H_T] < H[best, H_T] or (H[k, H_T] == H[best, H_T] and H[k, H_SEQ] < H[best, H_SEQ]):
            best = k
    return best


@njit(cache=True)
def _heap_remove(H: np.ndarray, I: np.ndarray, k: int) -> None:
    n = I[I_HN] - 1
    H[k, :] = H[n, :]
    I[I_HN] = n


@njit(cache=True)
def _place(
    O: np.ndarray, H: np.ndarray, I: np.ndarray, S: np.ndarray, P: np.ndarray,
    side: int, qty: int, market: bool, limit: int, role: int, now: float, regime: int, z: float,
    reason: int, signal_price: int,
) -> None:
    """OrderExecutor.place + SimBroker.place_order (the request reaches the book one way later)."""
    if I[I_ACTIVE] >= 0:
        I[I_ERROR] = E_TWO_ORDERS
        return
    k = I[I_NORD]
    if k >= O.shape[0]:
        I[I_ERROR] = E_CAPACITY
        return
    I[I_NORD] = k + 1
    O[k, O_SIDE] = side
    O[k, O_QTY] = qty
    O[k, O_MARKET] = 1.0 if market else 0.0
    O[k, O_LIMIT] = limit
    O[k, O_SUBMITTED] = now
    O[k, O_STATE] = PENDING
    O[k, O_CANCEL_REQ] = np.nan
    O[k, O_STALE] = 0.0
    O[k, O_ROLE] = role
    O[k, O_REGIME] = regime
    O[k, O_Z] = z
    O[k, O_REASON] = reason
    O[k, O_SIGNAL_PRICE] = signal_price
    O[k, O_ACKED] = np.nan
    O[k, O_FILLED] = 0.0
    I[I_ACTIVE] = k
    _push(H, I, now + P[P_ONE_WAY], K_ARRIVE, k, 0, 0, 0)


@njit(cache=True)
def _cancel(O: np.ndarray, H: np.ndarray, I: np.ndarray, P: np.ndarray, k: int, now: float) -> None:
    """OrderExecutor.cancel (once) + SimBroker.cancel_order."""
    if O[k, O_STATE] >= FILLED or not np.isnan(O[k, O_CANCEL_REQ]):
        return
    O[k, O_CANCEL_REQ] = now
    _push(H, I, now + P[P_ONE_WAY], K_CANCEL, k, 0, 0, 0)


@njit(cache=True)
def _deadline(O: np.ndarray, I: np.ndarray, P: np.ndarray) -> float:
    """OrderExecutor.next_deadline (NaN: none)."""
    k = I[I_ACTIVE]
    if k < 0:
        return np.nan
    if np.isnan(O[k, O_CANCEL_REQ]) and O[k, O_MARKET] == 0.0:
        return O[k, O_SUBMITTED] + P[P_FILL_TIMEOUT]
    start = O[k, O_CANCEL_REQ] if not np.isnan(O[k, O_CANCEL_REQ]) else O[k, O_SUBMITTED]
    return start + P[P_CANCEL_TIMEOUT]


@njit(cache=True)
def _executor_on_time(O: np.ndarray, H: np.ndarray, I: np.ndarray, P: np.ndarray, now: float) -> None:
    """OrderExecutor.on_time: a limit order unfilled after fill_timeout_s is stale and cancelled."""
    k = I[I_ACTIVE]
    if k < 0:
        return
    if np.isnan(O[k, O_CANCEL_REQ]) and O[k, O_MARKET] == 0.0:
        if now - O[k, O_SUBMITTED] >= P[P_FILL_TIMEOUT]:
            O[k, O_STALE] = 1.0
            _cancel(O, H, I, P, k, now)
        return
    if now >= _deadline(O, I, P):
        I[I_ERROR] = E_STATUS  # a status request: only lost messages lead here


@njit(cache=True)
def _roll_if_due(I: np.ndarray, S: np.ndarray, closes: np.ndarray, now: float) -> None:
    """RiskGate._roll_day: a trading day starts at each session close."""
    if now >= S[S_NEXT_CLOSE]:
        S[S_NEXT_CLOSE] = closes[np.searchsorted(closes, now, side="right")]
        I[I_DAY_START] = I[I_LAST_NET]


@njit(cache=True)
def _flatten_reason(I: np.ndarray, S: np.ndarray, P: np.ndarray, Q: np.ndarray, closes: np.ndarray,
                    now: float, unreal: float) -> int:
    """RiskGate.flatten_reason (no kill switch in a backtest)."""
    if I[I_SHUTTING]:
        return R_FLATTEN
    _roll_if_due(I, S, closes, now)
    net = I[I_REAL_TICKS] * Q[Q_TICK_VALUE_MICRO] - I[I_FEES]
    I[I_LAST_NET] = net
    pnl = float(net - I[I_DAY_START]) / 1e6 + unreal * P[P_TICK_VALUE]
    if S[S_LOSS_HIT] == S[S_NEXT_CLOSE]:
        return R_FLATTEN
    if pnl <= -P[P_MAX_LOSS]:
        S[S_LOSS_HIT] = S[S_NEXT_CLOSE]
        return R_FLATTEN
    if S[S_NEXT_CLOSE] - now <= P[P_FLATTEN_S]:
        return R_FLATTEN
    return R_NONE


@njit(cache=True)
def _work_exit(O: np.ndarray, H: np.ndarray, I: np.ndarray, S: np.ndarray, P: np.ndarray, Q: np.ndarray,
               bid: np.ndarray, ask: np.ndarray, last: np.ndarray, reason: int, now: float, market: bool) -> None:
    """Trader._work_exit: cancel what blocks the exit, then send one exit order when nothing lives."""
    k = I[I_ACTIVE]
    if k >= 0 and (O[k, O_ROLE] == ENTRY or (market and O[k, O_MARKET] == 0.0)):
        _cancel(O, H, I, P, k, now)
    pos = I[I_POS]
    lt = I[I_LAST_TICK]
    if I[I_ACTIVE] >= 0 or pos == 0 or lt < 0:
        return
    side = -1 if pos > 0 else 1
    is_market = market
    limit = 0
    if market:
        if reason == R_TARGET or reason == R_TRAIL:
            reason = R_STALE
    elif reason == R_TRAIL and Q[Q_STOP_EXIT] == STOP_MARKET:
        is_market = True
    else:  # exit_policy.exit_order
        near = reason == R_TRAIL and Q[Q_STOP_EXIT] == STOP_TOUCH
        if side < 0:
            limit = bid[lt] if near else ask[lt]
        else:
            limit = ask[lt] if near else bid[lt]
    regime = I[I_TREGIME] if I[I_TSIDE] != 0 else NOTHING
    z = S[S_LAST_Z]
    _place(O, H, I, S, P, side, abs(pos), is_market, limit, EXIT, now, regime, 0.0 if np.isnan(z) else z,
           reason, last[lt])


@njit(cache=True)
def _manage(O: np.ndarray, H: np.ndarray, I: np.ndarray, S: np.ndarray, P: np.ndarray, Q: np.ndarray,
            closes: np.ndarray, bid: np.ndarray, ask: np.ndarray, last: np.ndarray, now: float) -> None:
    """Trader._manage: a flatten demanded by risk, or the strategy's exit."""
    unreal = 0.0
    lt = I[I_LAST_TICK]
    if lt >= 0 and I[I_OPEN_QTY] != 0:  # PositionLedger.unrealised_ticks
        avg = I[I_ENTRY_VALUE] / I[I_ENTRY_QTY]
        sign = I[I_LSIDE]
        unreal = sign * (last[lt] - avg) * I[I_OPEN_QTY]
    forced = _flatten_reason(I, S, P, Q, closes, now, unreal)
    k = I[I_ACTIVE]
    if k >= 0 and O[k, O_ROLE] == EXIT and O[k, O_STALE] != 0.0:
        I[I_TO_MARKET] = 1
    if forced != R_NONE:
        _work_exit(O, H, I, S, P, Q, bid, ask, last, forced, now, True)
    elif I[I_EXIT_REASON] != R_NONE and I[I_POS] != 0:
        _work_exit(O, H, I, S, P, Q, bid, ask, last, I[I_EXIT_REASON], now, I[I_TO_MARKET] != 0)


@njit(cache=True)
def _on_execution(O: np.ndarray, F: np.ndarray, I: np.ndarray, Q: np.ndarray, k: int, t: float, price: int,
                  qty: int, exno: int) -> None:
    """OrderExecutor.on_execution + PositionLedger.apply + Trader._book_fills, for one delivered execution."""
    if O[k, O_STATE] >= FILLED:
        I[I_ERROR] = E_LATE_FILL
        return
    O[k, O_FILLED] += qty
    if O[k, O_FILLED] < O[k, O_QTY]:
        I[I_ERROR] = E_PARTIAL
        return
    O[k, O_STATE] = FILLED
    if I[I_ACTIVE] == k:
        I[I_ACTIVE] = -1
    n = I[I_NFILL]
    if n >= F.shape[0]:
        I[I_ERROR] = E_CAPACITY
        return
    I[I_NFILL] = n + 1
    F[n, F_TS] = t
    F[n, F_ORDER] = k
    F[n, F_PRICE] = price
    F[n, F_QTY] = qty
    F[n, F_EXEC] = exno
    side = int(O[k, O_SIDE])
    before = I[I_POS]
    I[I_FEES] += Q[Q_FEE_MICRO] * qty
    closed = False
    q = qty
    if I[I_LSIDE] != 0 and side != I[I_LSIDE]:
        closing = min(q, I[I_OPEN_QTY])
        I[I_EXIT_VALUE] += price * closing
        I[I_OPEN_QTY] -= closing
        I[I_POS] += side * closing
        q -= closing
        if I[I_OPEN_QTY] == 0:
            I[I_REAL_TICKS] += I[I_LSIDE] * (I[I_EXIT_VALUE] - I[I_ENTRY_VALUE])
            I[I_LSIDE] = 0
            I[I_ENTRY_VALUE] = 0
            I[I_ENTRY_QTY] = 0
            I[I_EXIT_VALUE] = 0
            closed = True
            if q:
                I[I_ERROR] = E_FLIP
                return
    if q:
        if I[I_LSIDE] == 0:
            I[I_LSIDE] = side
        I[I_OPEN_QTY] += q
        I[I_ENTRY_QTY] += q
        I[I_ENTRY_VALUE] += price * q
        I[I_POS] += side * q
    after = I[I_POS]
    if closed or after == 0:
        I[I_TSIDE] = 0
        I[I_EXIT_REASON] = R_NONE
        I[I_TO_MARKET] = 0
    if after != 0 and (before == 0 or closed):
        I[I_TSIDE] = 1 if after > 0 else -1
        I[I_TREGIME] = int(O[k, O_REGIME])
        I[I_BEST] = price


@njit(cache=True)
def _on_time(O: np.ndarray, H: np.ndarray, I: np.ndarray, S: np.ndarray, P: np.ndarray, Q: np.ndarray,
             closes: np.ndarray, bid: np.ndarray, ask: np.ndarray, last: np.ndarray, now: float) -> None:
    """Trader.on_time: timeouts, then position management."""
    if I[I_ACTIVE] >= 0:
        _executor_on_time(O, H, I, P, now)
    _manage(O, H, I, S, P, Q, closes, bid, ask, last, now)


@njit(cache=True)
def _on_tick(O: np.ndarray, H: np.ndarray, I: np.ndarray, S: np.ndarray, P: np.ndarray, Q: np.ndarray,
             E: np.ndarray, closes: np.ndarray, T: np.ndarray, bid: np.ndarray, ask: np.ndarray,
             last: np.ndarray, Z: np.ndarray, REG: np.ndarray, BLACK: np.ndarray, i: int, now: float) -> None:
    """Trader.on_tick: exits (the trailing stop ratchets every tick), management, then a possible entry."""
    I[I_LAST_TICK] = i
    z = Z[i]
    S[S_LAST_Z] = z
    if I[I_ACTIVE] >= 0:
        _executor_on_time(O, H, I, P, now)
    if I[I_POS] != 0 and I[I_TSIDE] != 0:  # ZScoreStrategy.exit_signal
        px = last[i]
        reason = R_NONE
        if I[I_TSIDE] > 0:
            if px > I[I_BEST]:
                I[I_BEST] = px
            hit = px <= I[I_BEST] - Q[Q_STOP]
        else:
            if px < I[I_BEST]:
                I[I_BEST] = px
            hit = px >= I[I_BEST] + Q[Q_STOP]
        if hit:
            reason = R_TRAIL
        elif I[I_TREGIME] == RANGE and not np.isnan(z):
            target = P[P_Z_TARGET]
            if (I[I_TSIDE] > 0 and z >= -target) or (I[I_TSIDE] < 0 and z <= target):
                reason = R_TARGET
        if reason != R_NONE and I[I_EXIT_REASON] == R_NONE:
            I[I_EXIT_REASON] = reason
    _manage(O, H, I, S, P, Q, closes, bid, ask, last, now)
    if I[I_POS] != 0 or I[I_ACTIVE] >= 0 or I[I_FEED_ENDED]:
        return
    reg = REG[i]  # ZScoreStrategy.entry_signal (entry_side)
    if reg == NOTHING or np.isnan(z):
        return
    az = abs(z)
    if not (P[P_Z_THRESH] <= az and az <= P[P_Z_THRESH] + P[P_Z_UP]):
        return
    high = z > 0
    side = (-1 if high else 1) if reg == RANGE else (1 if high else -1)
    # RiskGate.entry_block
    if I[I_SHUTTING]:
        return
    if S[S_LOSS_HIT] == S[S_NEXT_CLOSE] and now < S[S_NEXT_CLOSE]:
        return
    if abs(I[I_POS]) + Q[Q_QTY] > Q[Q_MAX_POS]:
        return
    if now - T[i] > P[P_QUOTE_AGE]:
        return
    _roll_if_due(I, S, closes, now)
    if S[S_NEXT_CLOSE] - now <= P[P_NO_ENTRY_S]:
        return
    ring = E.shape[0]
    while I[I_ECOUNT] > 0 and E[I[I_EHEAD]] <= now - 60.0:
        I[I_EHEAD] = (I[I_EHEAD] + 1) % ring
        I[I_ECOUNT] -= 1
    if I[I_ECOUNT] >= Q[Q_MAX_OPM]:
        return
    if BLACK[i]:
        return
    E[(I[I_EHEAD] + I[I_ECOUNT]) % ring] = now  # RiskGate.record_entry
    I[I_ECOUNT] += 1
    limit = bid[i] if side > 0 else ask[i]
    _place(O, H, I, S, P, side, Q[Q_QTY], False, limit, ENTRY, now, reg, z, R_NONE, last[i])


@njit(cache=True)
def _exchange_item(O: np.ndarray, H: np.ndarray, I: np.ndarray, P: np.ndarray, Q: np.ndarray, kind: int, k: int,
                   t: float) -> None:
    """SimBroker._handle for an arrival (MatchingEngine.arrive) or a cancel reaching the book."""
    back = t + P[P_ONE_WAY]
    if kind == K_ARRIVE:
        _push(H, I, back, K_ACCEPTED, k, 0, 0, 0)
        side = O[k, O_SIDE]
        qty = int(O[k, O_QTY])
        bid, ask = I[I_MKT_BID], I[I_MKT_ASK]
        if O[k, O_MARKET] != 0.0:
            price = ask + Q[Q_SLIP] if side > 0 else bid - Q[Q_SLIP]
        elif (side > 0 and ask <= O[k, O_LIMIT]) or (side < 0 and bid >= O[k, O_LIMIT]):
            price = ask if side > 0 else bid
        else:
            I[I_RESTING] = k
            return
        I[I_NEXEC] += 1
        _push(H, I, back, K_EXEC, k, price, qty, I[I_NEXEC])
    elif I[I_RESTING] == k:  # K_CANCEL of a resting order; otherwise it already filled
        I[I_RESTING] = -1
        _push(H, I, back, K_CANCELLED, k, 0, 0, 0)


@njit(cache=True)
def _deliver(O: np.ndarray, F: np.ndarray, H: np.ndarray, I: np.ndarray, S: np.ndarray, P: np.ndarray,
             Q: np.ndarray, closes: np.ndarray, bid: np.ndarray, ask: np.ndarray, last: np.ndarray, kind: int,
             k: int, price: int, qty: int, exno: int, now: float) -> None:
    """Trader.on_event for what the broker reports: acceptance, execution, cancel confirmation."""
    if kind == K_ACCEPTED:
        if O[k, O_STATE] == PENDING:
            O[k, O_STATE] = WORKING
        if np.isnan(O[k, O_ACKED]):
            O[k, O_ACKED] = now
    elif kind == K_EXEC:
        _on_execution(O, F, I, Q, k, now, price, qty, exno)
    elif O[k, O_STATE] < FILLED:  # K_CANCELLED: final unless already final
        O[k, O_STATE] = CANCELLED
        if I[I_ACTIVE] == k:
            I[I_ACTIVE] = -1
    _on_time(O, H, I, S, P, Q, closes, bid, ask, last, now)


@njit(cache=True)
def _pop(H: np.ndarray, I: np.ndarray, h: int) -> tuple[float, int, int, int, int, int]:
    row = (H[h, H_T], int(H[h, H_KIND]), int(H[h, H_ORDER]), int(H[h, H_PRICE]), int(H[h, H_QTY]),
           int(H[h, H_EXEC]))
    _heap_remove(H, I, h)
    return row


@njit(cache=True)
def simulate(T: np.ndarray, bid: np.ndarray, ask: np.ndarray, last: np.ndarray, Z: np.ndarray, REG: np.ndarray,
             BLACK: np.ndarray, BE: np.ndarray, closes: np.ndarray, P: np.ndarray, Q: np.ndarray, O: np.ndarray,
             F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Replay the whole tape; returns the integer and float state (counts and error code inside)."""
    I = np.zeros(N_I, np.int64)
    S = np.zeros(N_S, np.float64)
    H = np.zeros((HEAP_CAP, N_H), np.float64)
    E = np.zeros(Q[Q_MAX_OPM] + 1, np.float64)
    I[I_ACTIVE] = -1
    I[I_RESTING] = -1
    I[I_LAST_TICK] = -1
    I[I_EXIT_REASON] = R_NONE
    S[S_NEXT_CLOSE] = -np.inf
    S[S_LOSS_HIT] = np.nan
    S[S_LAST_Z] = np.nan
    n_t, n_b = T.shape[0], BE.shape[0]
    now = (T[0] if n_t else 0.0) - 1.0
    zlo, zhi = P[P_Z_THRESH], P[P_Z_THRESH] + P[P_Z_UP]
    i = 0
    b = 0
    inf = np.inf
    while I[I_ERROR] == E_NONE:
        if I[I_POS] == 0 and I[I_ACTIVE] < 0 and I[I_HN] == 0:
            # Flat and idle: nothing can happen before a tick whose z is in the entry band under a regime.
            j = i
            while j < n_t and not (REG[j] != NOTHING and zlo <= abs(Z[j]) <= zhi):
                j += 1
            if j > i:
                i = j
                if j < n_t:
                    while b < n_b and BE[b] <= T[j]:
                        b += 1
                    now = max(now, T[j - 1])
                else:
                    now = max(now, T[n_t - 1])
                    if n_b:
                        now = max(now, BE[n_b - 1])
                    b = n_b
        ti = T[i] if i < n_t else inf
        tb = BE[b] if b < n_b else inf
        if ti == inf and tb == inf:
            break
        h = _heap_min(H, I)
        th = H[h, H_T] if h >= 0 else inf
        until = _deadline(O, I, P)
        t = min(ti, tb, th)
        if not np.isnan(until) and t > until:
            now = max(now, until)
            _on_time(O, H, I, S, P, Q, closes, bid, ask, last, now)
            continue
        now = max(now, t)
        if th <= ti and th <= tb:
            tt, kind, k, price, qty, exno = _pop(H, I, h)
            if kind == K_ARRIVE or kind == K_CANCEL:
                _exchange_item(O, H, I, P, Q, kind, k, tt)
            else:
                _deliver(O, F, H, I, S, P, Q, closes, bid, ask, last, kind, k, price, qty, exno, now)
        elif tb <= ti:
            b += 1
            _on_time(O, H, I, S, P, Q, closes, bid, ask, last, now)
        else:
            I[I_MKT_BID] = bid[i]
            I[I_MKT_ASK] = ask[i]
            r = I[I_RESTING]
            if r >= 0:  # MatchingEngine.on_tick: a resting limit fills when the market trades through it
                lim = O[r, O_LIMIT]
                px = last[i]
                if (O[r, O_SIDE] > 0 and (px < lim or ask[i] <= lim)) or (
                    O[r, O_SIDE] < 0 and (px > lim or bid[i] >= lim)
                ):
                    I[I_RESTING] = -1
                    I[I_NEXEC] += 1
                    _push(H, I, T[i] + P[P_ONE_WAY], K_EXEC, r, int(lim), int(O[r, O_QTY]), I[I_NEXEC])
            _on_tick(O, H, I, S, P, Q, E, closes, T, bid, ask, last, Z, REG, BLACK, i, now)
            i += 1
    if I[I_ERROR] != E_NONE:
        S[S_NOW] = now
        return I, S
    # FeedEnded, then TradingSession._shutdown: flatten and wait (bounded) until no order lives.
    I[I_FEED_ENDED] = 1
    _on_time(O, H, I, S, P, Q, closes, bid, ask, last, now)
    end = now + P[P_SHUTDOWN_S]
    I[I_SHUTTING] = 1
    _on_time(O, H, I, S, P, Q, closes, bid, ask, last, now)
    while I[I_ERROR] == E_NONE and not (I[I_POS] == 0 and I[I_ACTIVE] < 0) and now < end:
        dl = _deadline(O, I, P)
        until = end if np.isnan(dl) else min(dl, end)
        delivered = False
        while True:
            h = _heap_min(H, I)
            th = H[h, H_T] if h >= 0 else inf
            if th > until:
                now = max(now, until)
                break
            now = max(now, th)
            tt, kind, k, price, qty, exno = _pop(H, I, h)
            if kind == K_ARRIVE or kind == K_CANCEL:
                _exchange_item(O, H, I, P, Q, kind, k, tt)
                continue
            _deliver(O, F, H, I, S, P, Q, closes, bid, ask, last, kind, k, price, qty, exno, now)
            delivered = True
            break
        if not delivered:
            _on_time(O, H, I, S, P, Q, closes, bid, ask, last, now)
    S[S_NOW] = now
    return I, S
