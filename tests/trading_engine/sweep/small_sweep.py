"""A small sweep on synthetic days, for the executors' tests."""

from __future__ import annotations

SMALL_SWEEP = [
    "sweep",
    "--synthetic-days",
    "4",
    "--seed",
    "3",
    "--min-days",
    "1",
    "--regime",
    "range",
    "--folds",
    "2",
]
