"""PBO (CSCV) and the deflated Sharpe ratio behave as their papers say on returns whose truth is known."""

from __future__ import annotations

import numpy as np
import pytest

from trading_engine.sweep.overfitting import deflated_sharpe, expected_max_sharpe, pbo_cscv, sharpe


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
