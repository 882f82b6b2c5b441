"""The z-score window: one default for the strategy's trigger and the model's feature, the model's kept."""

from __future__ import annotations

from regime.contracts.zscore_window import ZSCORE_WINDOW_BARS, window_mismatch
from regime.features import FeatureSpec
from regime.training import TrainedEnsemble


def test_the_feature_defaults_to_the_one_window() -> None:
    assert FeatureSpec().zscore == ZSCORE_WINDOW_BARS


def test_the_model_records_the_window_it_was_trained_on(small_ensemble: TrainedEnsemble) -> None:
    assert (
        small_ensemble.metadata.zscore_window
        == FeatureSpec.from_dict(small_ensemble.metadata.feature_spec).zscore
    )


def test_a_mismatch_names_both_windows() -> None:
    assert window_mismatch(20, 20) is None
    message = window_mismatch(30, 20)
    assert message is not None and "lookback_bars = 30" in message and "20 bars" in message
