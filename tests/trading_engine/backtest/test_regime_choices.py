"""The ML timeline's vote confidence: the hemisphere's confidence the decision went to, held with it."""

from __future__ import annotations

import numpy as np

from trading_engine.backtest.regime_choices import decided_confidence


def test_each_decision_carries_the_confidence_of_its_own_hemisphere() -> None:
    nan = np.nan
    probabilities = np.array(
        [
            [0.9, 0.8, 0.3, 0.1, 0.2, 0.4],  # trend (2 of 3 agree: 0.9 + 0.8), norange
            [0.1, 0.2, 0.3, 0.7, 0.6, 0.9],  # notrend, range (all three: 0.7 + 0.6 + 0.9)
            [0.1, 0.2, 0.3, 0.1, 0.2, 0.3],  # nothing
            [nan, nan, nan, nan, nan, nan],  # too little history: nothing
        ]
    )
    np.testing.assert_allclose(decided_confidence(probabilities), [1.7, 2.2, 0.0, 0.0])
