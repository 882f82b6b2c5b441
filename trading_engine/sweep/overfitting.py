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


def sharpe(returns: npt.NDArray[np.float64], axis: int = 0) -> npt.NDArray[np.float64]:
    """Mean over standard deviation (ddof 1) along `axis`; 0 where the deviation is 0."""
    mean = returns.mean(axis=axis)
    sd = returns.std(axis=axis, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, mean / np.where(sd > 0, sd, 1.0), 0.0)


def pbo_cscv(returns: npt.NDArray[np.float64], blocks: int = 16) -> float:
    """PBO of choosing the best of `returns` (days x configurations) by Sharpe, with `blocks` blocks."""
    days, n = returns.shape
    if n < 2:
        raise ValueError("PBO needs at least 2 configurations")
    if blocks % 2 or blocks < 2 or days < blocks:
        raise ValueError(f"PBO: {blocks} blocks need an even count and at least as many days (got {days})")
    bounds = np.linspace(0, days, blocks + 1).astype(int)
    parts = [returns[bounds[k] : bounds[k + 1]] for k in range(blocks)]
    logits = []
    for chosen in itertools.combinations(range(blocks), blocks // 2):
        rest = [k for k in range(blocks) if k not in chosen]
        ins = np.concatenate([parts[k] for k in chosen])
        oos = np.concatenate([parts[k] for k in rest])
        best = int(np.argmax(sharpe(ins)))
        oos_sr = sharpe(oos)
        rank = float((oos_sr < oos_sr[best]).sum() + 1)  # 1 = worst out of sample
        w = rank / (n + 1)
        logits.append(math.log(w / (1 - w)))
    return float(np.mean(np.asarray(logits) <= 0))


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
