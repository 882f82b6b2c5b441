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

from trading_engine.backtest.fast.kernel_broker import deadline, exchange_item, heap_min, pop, push
from trading_engine.backtest.fast.kernel_layout import (
    E_NONE,
    EV_DELIVER,
    EV_EXCHANGE,
    EV_TICK,
    EV_TIME,
    FEED_ENDED,
    H_T,
    HEAP_CAP,
    I_ACTIVE,
    I_ERROR,
    I_EXIT_REASON,
    I_FEED_ENDED,
    I_HELD,
    I_HN,
    I_LAST_TICK,
    I_MKT_ASK,
    I_MKT_BID,
    I_NEXEC,
    I_POS,
    I_RESTING,
    I_SHUTTING,
    I_TSIDE,
    K_ARRIVE,
    K_CANCEL,
    K_EXEC,
    N_H,
    N_I,
    N_S,
    NOTHING,
    O_LIMIT,
    O_QTY,
    O_SIDE,
    P_ONE_WAY,
    P_SHUTDOWN_S,
    P_SLIP_ATR,
    P_Z_THRESH,
    P_Z_UP,
    Q_MAX_OPM,
    Q_SLIP,
    R_NONE,
    RUNNING,
    S_LAST_Z,
    S_LOSS_HIT,
    S_NEXT_CLOSE,
    S_NOW,
    SHUTTING_DOWN,
)
from trading_engine.backtest.fast.kernel_ledger import atr_ticks
from trading_engine.backtest.fast.kernel_trader import deliver, on_tick, on_time
from trading_engine.backtest.fast.kernel_views import borrowed


@njit(cache=True, error_model="numpy")
def simulate(
    times: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    last: np.ndarray,
    zs: np.ndarray,
    regimes: np.ndarray,
    no_entry: np.ndarray,
    bar_end: np.ndarray,
    atr_strategy: np.ndarray,
    atr_broker: np.ndarray,
    closes: np.ndarray,
    par: np.ndarray,
    ipar: np.ndarray,
    orders: np.ndarray,
    fills: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Replay the whole tape, then the session's shutdown (`replay`), on borrowed views of the arrays (the
    caller holds them for the call: no reference counting in the loop, kernel_views); returns the integer
    and float state (counts and error code inside)."""
    return replay(
        borrowed(times),
        borrowed(bid),
        borrowed(ask),
        borrowed(last),
        borrowed(zs),
        borrowed(regimes),
        borrowed(no_entry),
        borrowed(bar_end),
        borrowed(atr_strategy),
        borrowed(atr_broker),
        borrowed(closes),
        borrowed(par),
        borrowed(ipar),
        borrowed(orders),
        borrowed(fills),
    )


@njit(cache=True, error_model="numpy")
def replay(
    times: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    last: np.ndarray,
    zs: np.ndarray,
    regimes: np.ndarray,
    no_entry: np.ndarray,
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
                h = heap_min(heap, st)
                th = heap[h, H_T] if h >= 0 else inf
                until = deadline(orders, st, par)
                t = min(ti, tb, th)
                if not np.isnan(until) and t > until:
                    now = max(now, until)  # a timer wake-up
                else:
                    now = max(now, t)
                    if th <= ti and th <= tb:
                        tt, kind, k, price, qty, exno = pop(heap, st, h)
                        ev = EV_EXCHANGE if kind in (K_ARRIVE, K_CANCEL) else EV_DELIVER
                    elif tb <= ti:
                        b += 1  # a bar: its close is in the precomputed z-scores; then Trader.on_time
                        if st[I_TSIDE] != 0:  # ZScoreStrategy.on_bar: the open trade held one more bar
                            st[I_HELD] += 1
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
            dl = deadline(orders, st, par)
            until = end if np.isnan(dl) else min(dl, end)
            h = heap_min(heap, st)
            th = heap[h, H_T] if h >= 0 else inf
            if th > until:
                now = max(now, until)
            else:
                now = max(now, th)
                tt, kind, k, price, qty, exno = pop(heap, st, h)
                ev = EV_EXCHANGE if kind in (K_ARRIVE, K_CANCEL) else EV_DELIVER
        if ev == EV_EXCHANGE:
            slip = ipar[Q_SLIP]  # SimBroker._bar: the market order slippage as of the last bar
            if par[P_SLIP_ATR] > 0 and b > 0:
                slip += atr_ticks(par[P_SLIP_ATR], atr_broker[b - 1], 0)
            exchange_item(orders, heap, st, par, ipar, kind, k, tt, slip)
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
                    push(
                        heap,
                        st,
                        times[i] + par[P_ONE_WAY],
                        K_EXEC,
                        r,
                        int(lim),
                        int(orders[r, O_QTY]),
                        st[I_NEXEC],
                    )
            on_tick(
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
                no_entry,
                i,
                now,
            )
            i += 1
        else:
            if ev == EV_DELIVER:
                atr = atr_strategy[b - 1] if b > 0 else np.nan
                deliver(orders, fills, st, par, ipar, atr, kind, k, price, qty, exno, now)
            on_time(orders, heap, st, fst, par, ipar, closes, bid, ask, last, now)
    fst[S_NOW] = now
    return st, fst
