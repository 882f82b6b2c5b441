"""RegimeVote against a line-by-line transcription of the article's R polling, over every combination."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from regime.contracts.regime_item import Regime
from regime.vote import NOTHING, RANGE, TREND, RegimeVote, poll, regime_codes


def article_poll(labels: list[bool], probs: list[float]) -> tuple[bool, float]:
    """R: poll = yes-count > no-count; conf = sum of the probabilities of the models equal to the poll."""
    yes = sum(labels)
    vote = yes > len(labels) - yes
    return vote, sum(p for lab, p in zip(labels, probs, strict=True) if lab == vote)


def article_final(t: bool, tc: float, r: bool, rc: float) -> Regime:
    if t and not r:
        return Regime.TREND
    if not t and r:
        return Regime.RANGE
    if t and r:
        return Regime.TREND if tc > rc else Regime.RANGE
    return Regime.NOTHING


def as_positive(label: bool, chosen_prob: float) -> float:
    """The P(positive) a model must output to vote `label` with probability `chosen_prob` for it."""
    return chosen_prob if label else 1.0 - chosen_prob


@pytest.mark.parametrize("labels", list(itertools.product([False, True], repeat=6)))
def test_every_label_combination(labels: tuple[bool, ...]) -> None:
    rng = np.random.default_rng(sum(b << i for i, b in enumerate(labels)))
    for _ in range(20):
        chosen = rng.uniform(0.5001, 1.0, 6).round(4).tolist()
        p = [as_positive(lab, c) for lab, c in zip(labels, chosen, strict=True)]
        t, tc = article_poll(list(labels[:3]), chosen[:3])
        r, rc = article_poll(list(labels[3:]), chosen[3:])
        v = RegimeVote.of(p[:3], p[3:])
        assert v.regime(0) is article_final(t, tc, r, rc)
        assert bool(v.trend.vote[0]) is t and v.trend.confidence[0] == pytest.approx(tc)
        assert bool(v.range.vote[0]) is r and v.range.confidence[0] == pytest.approx(rc)


def test_confidence_tie_between_hemispheres_goes_to_range() -> None:
    # Both hemispheres unanimous with equal confidence: the article's `>` sends a tie to range.
    v = RegimeVote.of([0.7, 0.7, 0.7], [0.7, 0.7, 0.7])
    assert v.trend.confidence[0] == v.range.confidence[0]
    assert v.regime(0) is Regime.RANGE


def test_regime_codes_send_both_to_range_unless_trend_wins() -> None:
    trend = [False, True, False, True, True]
    rng = [False, False, True, True, True]
    assert regime_codes(trend, rng).tolist() == [NOTHING, TREND, RANGE, RANGE, RANGE]
    wins = [True, True, True, False, True]
    assert regime_codes(trend, rng, trend_wins=wins).tolist() == [NOTHING, TREND, RANGE, RANGE, TREND]


def test_higher_confidence_wins_when_both_fire() -> None:
    # trend: 0.75 + 0.75 = 1.5 (the 0.25 model disagrees); range: 0.75 + 0.75 = 1.5 -> a tie, so range.
    # (Binary fractions: the sums are exact, so this is a true tie and not a rounding accident.)
    assert RegimeVote.of([0.75, 0.75, 0.25], [0.75, 0.75, 0.125]).regime(0) is Regime.RANGE
    assert RegimeVote.of([0.95, 0.9, 0.2], [0.6, 0.6, 0.6]).regime(0) is Regime.TREND
    assert RegimeVote.of([0.6, 0.6, 0.1], [0.6, 0.6, 0.6]).regime(0) is Regime.RANGE


def test_a_probability_of_exactly_one_half_votes_negative() -> None:
    # scikit-learn's argmax sends a 0.5 tie to class 0.
    assert not poll([[0.5, 0.5, 0.9]]).vote[0]
    assert poll([[0.5, 0.51, 0.9]]).vote[0]


def test_minority_models_do_not_add_confidence() -> None:
    p = poll([[0.8, 0.7, 0.1]])
    assert p.vote[0] and p.confidence[0] == pytest.approx(1.5)


def test_batch_equals_row_by_row() -> None:
    rng = np.random.default_rng(3)
    probs = rng.uniform(0, 1, (500, 6))
    batch = RegimeVote.of(probs[:, :3], probs[:, 3:])
    for i in range(0, 500, 7):
        single = RegimeVote.of(probs[i, :3], probs[i, 3:])
        assert single.code[0] == batch.code[i]


def test_one_pass_over_both_hemispheres_gives_the_polls_of_each() -> None:
    """The ensemble's (n, 6) output voted in one pass: exactly the vote of the two hemispheres polled apart
    (codes, votes and confidences to the bit), ties and probabilities of exactly 0.5 included."""
    rng = np.random.default_rng(5)
    probs = np.vstack([rng.uniform(0, 1, (400, 6)), rng.choice([0.25, 0.5, 0.75], (200, 6))])
    one_pass = RegimeVote.of_probabilities(probs)
    t, r = poll(probs[:, :3]), poll(probs[:, 3:])
    for mine, apart in ((one_pass.trend, t), (one_pass.range, r)):
        np.testing.assert_array_equal(mine.vote, apart.vote)
        np.testing.assert_array_equal(mine.confidence, apart.confidence)
    np.testing.assert_array_equal(
        one_pass.code, regime_codes(t.vote, r.vote, trend_wins=t.confidence > r.confidence)
    )
    np.testing.assert_array_equal(one_pass.code, RegimeVote.of(probs[:, :3], probs[:, 3:]).code)
    assert RegimeVote.of_probabilities(probs[7:8]).regime(0) is RegimeVote.of(
        probs[7, :3], probs[7, 3:]
    ).regime(0)
