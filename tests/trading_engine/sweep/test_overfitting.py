"""PBO (CSCV) and the deflated Sharpe ratio behave as their papers say on returns whose truth is known."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from trading_engine.sweep.overfitting import (
    cscv_ranks,
    deflated_sharpe,
    expected_max_sharpe,
    pbo_cscv,
    sharpe,
)


def test_pbo_is_low_when_one_configuration_really_is_better() -> None:
    rng = np.random.default_rng(1)
    returns = rng.normal(0, 1, size=(240, 20))
    returns[:, 7] += 0.8  # a real edge, every day
    assert pbo_cscv(returns, blocks=8) < 0.05


def test_pbo_is_high_when_every_configuration_is_noise() -> None:
    rng = np.random.default_rng(2)
    returns = rng.normal(0, 1, size=(240, 40))
    assert pbo_cscv(returns, blocks=8) > 0.3  # the in-sample best is no better than a coin out of sample


def test_pbo_refuses_what_it_cannot_compute() -> None:
    with pytest.raises(ValueError, match="even"):
        pbo_cscv(np.zeros((20, 3)), blocks=5)
    with pytest.raises(ValueError, match="at least 2 configurations"):
        pbo_cscv(np.zeros((20, 1)), blocks=4)


def test_deflated_sharpe_discounts_many_trials() -> None:
    rng = np.random.default_rng(3)
    good = rng.normal(0.3, 1.0, size=250)
    assert deflated_sharpe(good, sr_variance=0.0, trials=1) > 0.99
    # The same record, the best of 1000 trials whose Sharpe ratios vary by 0.1: much less convincing.
    assert deflated_sharpe(good, sr_variance=0.01, trials=1000) < deflated_sharpe(good, 0.0, 1)
    assert expected_max_sharpe(0.01, 1000) == pytest.approx(0.1 * 3.2561, rel=0.01)  # the paper's ~3.26 sd
    noise = rng.normal(0.0, 1.0, size=250)
    assert deflated_sharpe(noise, sr_variance=0.01, trials=100) < 0.5
    assert float(sharpe(np.array([1.0, 1.0, 1.0]))) == 0.0  # no variation: no ratio


def _reference_ranks(returns: np.ndarray, blocks: int) -> tuple[np.ndarray, float]:
    """The loop PBO was first computed with (each split's days concatenated, `sharpe` twice): the
    vectorised version must rank exactly as it does. Each split's rank, and PBO."""
    days, n = returns.shape
    bounds = np.linspace(0, days, blocks + 1).astype(int)
    parts = [returns[bounds[k] : bounds[k + 1]] for k in range(blocks)]
    ranks, logits = [], []
    for chosen in itertools.combinations(range(blocks), blocks // 2):
        rest = [k for k in range(blocks) if k not in chosen]
        ins = np.concatenate([parts[k] for k in chosen])
        oos = np.concatenate([parts[k] for k in rest])
        best = int(np.argmax(sharpe(ins)))
        oos_sr = sharpe(oos)
        rank = float((oos_sr < oos_sr[best]).sum() + 1)
        w = rank / (n + 1)
        ranks.append(rank)
        logits.append(math.log(w / (1 - w)))
    return np.asarray(ranks), float(np.mean(np.asarray(logits) <= 0))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("blocks", [2, 4, 8, 10])
def test_pbo_splits_rank_as_the_reference_loop_with_ties(seed: int, blocks: int) -> None:
    rng = np.random.default_rng(seed)
    days, n = 97 + seed, 30
    # Daily P&L as a sweep makes it: many days without trades, whole cents, and duplicated configurations
    # (parameters that change nothing), columns without trades, constant columns, sign flips.
    returns = np.round(rng.normal(0.0, 50.0, size=(days, n)) * (rng.random((days, n)) < 0.4), 2)
    returns[:, 3] = returns[:, 1]
    returns[:, 17] = returns[:, 1]
    returns[:, 5] = 0.0
    returns[:, 6] = 0.0
    returns[:, 8] = 2.0
    returns[:, 9] = -returns[:, 10]
    returns[: days // 2, 11] = 0.0  # no trades in half the blocks: zero variance in some splits only
    returns[:, 12] += 0.3 * (seed + 1)  # a real edge: the in-sample best is often the same column
    returns[:, 13] = returns[:, 12]
    ranks, pbo = _reference_ranks(returns, blocks)
    np.testing.assert_array_equal(cscv_ranks(returns, blocks), ranks)
    assert pbo_cscv(returns, blocks) == pbo


def test_pbo_of_configurations_that_never_trade_is_the_reference_one() -> None:
    returns = np.zeros((40, 5))
    returns[7, 2] = 10.0
    ranks, pbo = _reference_ranks(returns, 8)
    np.testing.assert_array_equal(cscv_ranks(returns, 8), ranks)
    assert pbo_cscv(returns, 8) == pbo
