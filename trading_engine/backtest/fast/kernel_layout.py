"""The fast engine's data layout: parameter vectors, state vectors, the order, fill and message tables.

Numba compiles module-level integers as constants, so named column indices cost nothing in the loop.
"""

from __future__ import annotations

# Parameters (float array par)
P_ONE_WAY, P_FILL_TIMEOUT, P_CANCEL_TIMEOUT, P_Z_THRESH, P_Z_UP, P_Z_TARGET = 0, 1, 2, 3, 4, 5
P_MAX_LOSS, P_NO_ENTRY_S, P_FLATTEN_S, P_QUOTE_AGE, P_SHUTDOWN_S, P_TICK_VALUE = 6, 7, 8, 9, 10, 11
P_STOP_ATR, P_TARGET_ATR, P_SLIP_ATR = 12, 13, 14
N_P = 15
# Parameters (int array ipar)
Q_STOP, Q_QTY, Q_STOP_EXIT, Q_MAX_POS, Q_MAX_OPM, Q_FEE_MICRO, Q_TICK_VALUE_MICRO, Q_SLIP = range(8)
Q_MAX_HOLD = 8
N_Q = 9
STOP_PASSIVE, STOP_TOUCH, STOP_MARKET = 0, 1, 2
# Regime codes (regime.vote) and exit reasons (0..5 as regime.contracts.ExitReason, in this order)
NOTHING, TREND, RANGE = 0, 1, 2
R_NONE, R_TARGET, R_TRAIL, R_STALE, R_FLATTEN, R_KILL, R_MAX_HOLD = -1, 0, 1, 2, 3, 4, 5
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
I_STOP_OFF, I_TARGET, I_HAS_TARGET, I_HELD = 31, 32, 33, 34  # I_HELD: bars completed since the entry
N_I = 35
# Float state (fst)
S_NOW, S_NEXT_CLOSE, S_LOSS_HIT, S_LAST_Z = 0, 1, 2, 3
N_S = 4
# Errors: what the loop does not model
E_NONE, E_CAPACITY, E_STATUS, E_FLIP, E_LATE_FILL, E_HEAP, E_TWO_ORDERS, E_PARTIAL = 0, 1, 2, 3, 4, 5, 6, 7
EV_TIME, EV_TICK, EV_EXCHANGE, EV_DELIVER = 0, 1, 2, 3
RUNNING, FEED_ENDED, SHUTTING_DOWN = 0, 1, 2
