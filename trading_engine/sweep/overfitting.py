"""How much a sweep's best configuration can be trusted.

- Probability of backtest overfitting by combinatorially symmetric cross-validation (Bailey, Borwein,
  López de Prado and Zhu, "The Probability of Backtest Overfitting", 2015): split the days into S blocks;
  for every way of taking half of them as in-sample, pick the best configuration in sample and see where it
  ranks out of sample; PBO is the share of splits in which it ranks in the bottom half (logit <= 0).
- Deflated Sharpe ratio (Bailey and López de Prado, "The Deflated Sharpe Ratio", 2014): the probability that
  the true Sharpe ratio is above the best one expected from N trials of pure noise, given the skewness and
  kurtosis of the returns and the length of the record.
Sharpe ratios here are per day (not annualised), as the formulas want them.
"""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

EULER_GAMMA = 0.5772156649015329
_N = NormalDist()
# Splits x configurations per step: arrays under malloc's 128 kB, which it reuses (larger ones are mapped
# and faulted in afresh at every step: three times slower in a large process).
_CHUNK_CELLS = 12_000


def sharpe(returns: npt.NDArray[np.float64], axis: int = 0) -> npt.NDArray[np.float64]:
    """Mean over standard deviation (ddof 1) along `axis`; 0 where the deviation is 0."""
    mean = returns.mean(axis=axis)
    sd = returns.std(axis=axis, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, mean / np.where(sd > 0, sd, 1.0), 0.0)


def pbo_cscv(returns: npt.NDArray[np.float64], blocks: int = 16) -> float:
    """PBO of choosing the best of `returns` (days x configurations) by Sharpe, with `blocks` blocks."""
    w = cscv_ranks(returns, blocks) / (returns.shape[1] + 1.0)
    return float(np.mean(np.log(w / (1 - w)) <= 0))


def cscv_ranks(returns: npt.NDArray[np.float64], blocks: int = 16) -> npt.NDArray[np.int64]:
    """Each split's out-of-sample rank of the in-sample best (the first of equals; 1 = worst), splits in the
    order of itertools.combinations of the blocks.

    The splits' Sharpe ratios come from per-block sums instead of each split's concatenated days (12,870
    splits of 16 blocks: numpy calls on small arrays were all the cost). A split's sums are those of its
    blocks in the first half plus those in the second, each looked up in a table of every subset of that
    half. Squares are of the returns less their column's mean (no large squares to cancel); a split's mean
    is of the raw returns, so a split without trades has exactly zero mean and ratio, as `sharpe` gives.
    Every column goes through the same operations in the same order: equal columns get equal ratios and
    ties break as `sharpe` breaks them."""
    days, n = returns.shape
    if n < 2:
        raise ValueError("PBO needs at least 2 configurations")
    if blocks % 2 or blocks < 2 or days < blocks:
        raise ValueError(f"PBO: {blocks} blocks need an even count and at least as many days (got {days})")
    bounds = np.linspace(0, days, blocks + 1).astype(int)
    centred = returns - returns.mean(axis=0)
    per_block = [
        np.stack([x[bounds[k] : bounds[k + 1]].sum(axis=0) for k in range(blocks)])
        for x in (returns, centred, centred * centred)
    ]
    count = np.diff(bounds).astype(np.float64)[:, None]
    half = blocks // 2
    tables = [(_subset_sums(v[:half]), _subset_sums(v[half:])) for v in (count, *per_block)]
    chosen = np.array(list(itertools.combinations(range(blocks), half)), dtype=np.int64)
    member = np.zeros((chosen.shape[0], blocks), dtype=bool)
    member[np.arange(chosen.shape[0])[:, None], chosen] = True
    full = (1 << half) - 1
    weights = 1 << np.arange(half)
    low, high = member[:, :half] @ weights, member[:, half:] @ weights
    ranks = np.empty(chosen.shape[0], dtype=np.int64)
    step = max(1, _CHUNK_CELLS // n)
    for lo in range(0, chosen.shape[0], step):
        a, b = low[lo : lo + step], high[lo : lo + step]
        ins = _split_sharpe(*(first[a] + second[b] for first, second in tables))
        oos = _split_sharpe(*(first[full - a] + second[full - b] for first, second in tables))
        at_best = np.take_along_axis(oos, np.argmax(ins, axis=1)[:, None], axis=1)
        ranks[lo : lo + step] = (oos < at_best).sum(axis=1) + 1
    return ranks


def _subset_sums(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Row m: the sum of the rows of `values` whose bit is set in m (added in row order)."""
    table = np.zeros((1, values.shape[1]))
    for row in values:
        table = np.concatenate([table, table + row])
    return table


def _split_sharpe(
    count: npt.NDArray[np.float64],
    total: npt.NDArray[np.float64],
    centred: npt.NDArray[np.float64],
    squares: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Splits x configurations: the Sharpe ratio (ddof 1) from each split's day count, sum of returns, and
    sums of centred returns and of their squares."""
    mean = total / count
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.sqrt(np.maximum(squares - centred * centred / count, 0.0) / (count - 1))
        return np.where(sd > 0, mean / np.where(sd > 0, sd, 1.0), 0.0)


def expected_max_sharpe(sr_variance: float, trials: int) -> float:
    """The Sharpe ratio the best of `trials` noise strategies reaches, given the trials' variance of SR."""
    if trials < 2:
        return 0.0
    a = _N.inv_cdf(1 - 1 / trials)
    b = _N.inv_cdf(1 - 1 / (trials * math.e))
    return math.sqrt(sr_variance) * ((1 - EULER_GAMMA) * a + EULER_GAMMA * b)


def deflated_sharpe(returns: npt.NDArray[np.float64], sr_variance: float, trials: int) -> float:
    """P(true SR > the best noise SR of `trials`) for daily `returns`, in [0, 1]."""
    t = returns.shape[0]
    if t < 3:
        return float("nan")
    sr = float(sharpe(returns))
    sd = returns.std(ddof=0)
    if sd == 0:
        return float("nan")
    z = (returns - returns.mean()) / sd
    skew, kurt = float((z**3).mean()), float((z**4).mean())
    sr0 = expected_max_sharpe(sr_variance, trials)
    denom = 1 - skew * sr + (kurt - 1) / 4 * sr * sr
    if denom <= 0:
        return float("nan")
    return _N.cdf((sr - sr0) * math.sqrt(t - 1) / math.sqrt(denom))
