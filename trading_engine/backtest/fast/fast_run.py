"""What one run of the fast loop reads besides the tape, and what it gives back (or why it stopped)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from trading_engine.backtest.fast import kernel_layout as layout

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


@dataclass(frozen=True)
class Inputs:
    """One configuration's arrays besides the tape, and its parameter vectors."""

    z: npt.NDArray[np.float64]
    regimes: npt.NDArray[np.int8]
    no_entry: npt.NDArray[np.bool_]  # ticks without entries: blackouts and the strategy's entry filters
    atr_strategy: npt.NDArray[np.float64]
    atr_broker: npt.NDArray[np.float64]
    p: npt.NDArray[np.float64]
    q: npt.NDArray[np.int64]

    STACKED: ClassVar[tuple[str, ...]] = (
        "z",
        "regimes",
        "no_entry",
        "atr_strategy",
        "atr_broker",
    )  # shared by configurations


def stacked(arrays: list[npt.NDArray[Any]]) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """The distinct arrays (by identity: the engine's caches hand out one array per input) stacked, and each
    configuration's row in the stack."""
    rows: dict[int, int] = {}
    distinct: list[npt.NDArray[Any]] = []
    for arr in arrays:
        if id(arr) not in rows:
            rows[id(arr)] = len(distinct)
            distinct.append(arr)
    return np.stack(distinct), np.array([rows[id(arr)] for arr in arrays], dtype=np.int64)


def finished(
    fills: npt.NDArray[np.float64],
    state: npt.NDArray[np.int64],
    fstate: npt.NDArray[np.float64],
    seconds: float,
) -> FastRun:
    error = int(state[layout.I_ERROR])
    if error != layout.E_NONE:
        raise FastEngineUnsupported(f"fast engine: {_ERRORS.get(error, f'error {error}')}")
    return FastRun(
        fills[: int(state[layout.I_NFILL])].copy(),
        int(state[layout.I_NORD]),
        seconds,
        float(fstate[layout.S_NOW]),
        int(state[layout.I_LOSS_DAYS]),
    )
