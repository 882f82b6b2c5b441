"""A borrowed view is the array itself (data, shape, strides) for the call, and leaves its owner's count
as it was."""

from __future__ import annotations

import sys

import numpy as np
from numba import njit

from trading_engine.backtest.fast.kernel_views import borrowed


@njit(cache=False)
def _through_a_view(a: np.ndarray, b: np.ndarray) -> tuple[float, int, int]:
    v, w = borrowed(a), borrowed(b)
    v[0] = 7.0
    w[1, 2] = -3
    return v.sum(), w.shape[0], w.shape[1]


def test_a_borrowed_view_reads_and_writes_the_array_and_counts_no_reference() -> None:
    a = np.arange(5.0)
    b = np.zeros((3, 4), dtype=np.int64)[:, :]  # a 2-d array, as the loop's orders and fills
    before = sys.getrefcount(a), sys.getrefcount(b)
    total, rows, cols = _through_a_view(a, b)
    assert a[0] == 7.0 and total == 7.0 + 1 + 2 + 3 + 4
    assert b[1, 2] == -3 and int(np.abs(b).sum()) == 3 and (rows, cols) == (3, 4)
    for _ in range(100):
        _through_a_view(a, b)
    assert (sys.getrefcount(a), sys.getrefcount(b)) == before
