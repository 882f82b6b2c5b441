"""RegimeVote: the article's polling of the two hemispheres, for one window or many at once.

Each hemisphere (trend/notrend, range/norange) has three models. A model votes for the class it gives the
higher probability (a positive vote needs p > 0.5, as scikit-learn's argmax breaks a 0.5 tie towards the
negative class). The hemisphere follows its majority; its confidence is the sum, over the models that agree
with the majority, of the probability each gave to the class it voted for. Then:
trend+norange -> trend; notrend+range -> range; notrend+norange -> nothing; trend+range -> the hemisphere
with the higher confidence, and a tie goes to range (the article's `ifelse(trend_conf > range_conf, ...)`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from regime.contracts.regime_item import Regime

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Codes of the batch path, in the order of REGIMES.
NOTHING, TREND, RANGE = 0, 1, 2
REGIMES = (Regime.NOTHING, Regime.TREND, Regime.RANGE)


def regime_codes(
    is_trend: npt.ArrayLike, is_range: npt.ArrayLike, *, trend_wins: npt.ArrayLike = False
) -> npt.NDArray[np.int8]:
    """The regime code of each window from its two binary answers (votes or labels).

    trend only -> TREND, range only -> RANGE, neither -> NOTHING; both -> TREND where `trend_wins`, else
    RANGE. The vote passes `trend_conf > range_conf`, so a confidence tie goes to range; labels carry no
    confidence, so a window labelled both is a tie and goes to range too: the one rule for both.
    """
    t, r = np.asarray(is_trend, dtype=bool), np.asarray(is_range, dtype=bool)
    both = np.where(np.asarray(trend_wins, dtype=bool), TREND, RANGE)
    return np.where(t & r, both, np.where(t, TREND, np.where(r, RANGE, NOTHING))).astype(np.int8)


# The rule's code of every (trend, range, trend wins) answer, index 4 t + 2 r + w: the vote looks its codes up
# in one call where the rule's nested np.where takes eight (the table is the rule's own output).
_ANSWERS = np.indices((2, 2, 2)).reshape(3, -1)
_CODE_OF = regime_codes(_ANSWERS[0], _ANSWERS[1], trend_wins=_ANSWERS[2])
_ANSWER_WEIGHTS = np.array([4, 2], dtype=np.uint8)


@dataclass(frozen=True)
class HemispherePoll:
    """Majority label and confidence of one hemisphere, per window."""

    vote: BoolArray
    confidence: FloatArray


def _poll(p: FloatArray) -> tuple[BoolArray, FloatArray]:
    """The polling rule, along the last axis (the models of a hemisphere): majority and its confidence."""
    votes = p > 0.5
    majority = votes.sum(axis=-1) > p.shape[-1] // 2  # more than half: yes-count > no-count
    agree = votes == majority[..., None]
    chosen_prob = np.where(votes, p, 1.0 - p)
    return majority, (agree * chosen_prob).sum(axis=-1)


def poll(positive_probs: npt.ArrayLike) -> HemispherePoll:
    """Poll the models of one hemisphere. `positive_probs`: shape (n, models), P(trend) or P(range)."""
    vote, confidence = _poll(np.atleast_2d(np.asarray(positive_probs, dtype=np.float64)))
    return HemispherePoll(vote=vote, confidence=confidence)


@dataclass(frozen=True)
class RegimeVote:
    """The final decision per window, with what led to it."""

    code: npt.NDArray[np.int8]
    trend: HemispherePoll
    range: HemispherePoll

    @classmethod
    def of(cls, trend_probs: npt.ArrayLike, range_probs: npt.ArrayLike) -> RegimeVote:
        """Vote from P(trend) and P(range) of each model, shape (n, 3) each (or (3,) for one window)."""
        t = np.atleast_2d(np.asarray(trend_probs, dtype=np.float64))
        r = np.atleast_2d(np.asarray(range_probs, dtype=np.float64))
        return cls.of_hemispheres(np.stack((t, r), axis=1))

    @classmethod
    def of_probabilities(cls, probabilities: FloatArray) -> RegimeVote:
        """Vote from the ensemble's output, shape (n, 2 * models): the trend models, then the range models."""
        n = probabilities.shape[0]
        return cls.of_hemispheres(np.asarray(probabilities, dtype=np.float64).reshape(n, 2, -1))

    @classmethod
    def of_hemispheres(cls, probs: FloatArray) -> RegimeVote:
        """Vote from shape (n, 2, models): [:, 0] P(trend), [:, 1] P(range); both polled in one pass."""
        vote, confidence = _poll(probs)
        tc, rc = confidence[:, 0], confidence[:, 1]
        answer = vote.view(np.uint8) @ _ANSWER_WEIGHTS
        answer += tc > rc  # regime_codes(trend, range, trend_wins=tc > rc), looked up
        code = _CODE_OF[answer]
        return cls(code=code, trend=HemispherePoll(vote[:, 0], tc), range=HemispherePoll(vote[:, 1], rc))

    def regime(self, i: int = 0) -> Regime:
        """The decision for window i."""
        return REGIMES[int(self.code[i])]
