"""Many configurations of the fast loop in one compiled call, spread over the cores (numba prange).

Every configuration replays the same tape (shared, read-only); what differs between them is chosen by index
into stacks of the per-configuration inputs (z-scores per lookback, regimes per source, entry masks, ATRs) and
by its parameter rows. Each configuration writes only its own fill rows and state: the loop body is
`kernel.simulate` itself, so a configuration run in a batch gives exactly what it gives alone.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from trading_engine.backtest.fast.kernel import simulate
from trading_engine.backtest.fast.kernel_layout import N_I, N_O, N_S, ORDER_SLOTS


@njit(cache=True, parallel=True, error_model="numpy")
def simulate_batch(
    times: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    last: np.ndarray,
    zs: np.ndarray,
    z_of: np.ndarray,
    regimes: np.ndarray,
    regime_of: np.ndarray,
    no_entries: np.ndarray,
    no_entry_of: np.ndarray,
    bar_end: np.ndarray,
    atr_strategy: np.ndarray,
    atr_strategy_of: np.ndarray,
    atr_broker: np.ndarray,
    atr_broker_of: np.ndarray,
    closes: np.ndarray,
    pars: np.ndarray,
    ipars: np.ndarray,
    fills: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Configuration c replays the tape with zs[z_of[c]], regimes[regime_of[c]], ..., pars[c], ipars[c]
    into fills[c]; returns every configuration's integer and float state (one row each)."""
    n = pars.shape[0]
    states = np.zeros((n, N_I), np.int64)
    fstates = np.zeros((n, N_S), np.float64)
    for c in prange(n):
        orders = np.zeros((ORDER_SLOTS, N_O))
        st, fst = simulate(
            times,
            bid,
            ask,
            last,
            zs[z_of[c]],
            regimes[regime_of[c]],
            no_entries[no_entry_of[c]],
            bar_end,
            atr_strategy[atr_strategy_of[c]],
            atr_broker[atr_broker_of[c]],
            closes,
            pars[c],
            ipars[c],
            orders,
            fills[c],
        )
        states[c] = st
        fstates[c] = fst
    return states, fstates
