"""The z-score window: how many closes of completed 1-minute bars the mean and unbiased sd of z span.

One window serves two owners. The strategy's trigger uses it (`[strategy] lookback_bars` in the host's
config) and the model's `zscore` feature uses it (`FeatureSpec.zscore`); both default to ZSCORE_WINDOW_BARS,
so that out of the box the feature is the strategy's own trigger.

The rule when they differ: the feature's window belongs to the model. It is recorded in the model's metadata
(`feature_spec["zscore"]`, read back as `ModelMetadata.zscore_window`) and every decision computes the feature
with it, whatever the host's config says, because a model must see the features it was trained on. The
strategy may still trade another window (a sweep, a test); its trades stay correct, but the feature is then
no longer its trigger, so where both meet (a backtest with a model) `window_mismatch` says so in the log.
To make them agree again, retrain with the new window or set lookback_bars back.
"""

from __future__ import annotations

ZSCORE_WINDOW_BARS = 20


def window_mismatch(strategy_bars: int, model_bars: int) -> str | None:
    """None when the strategy's trigger and the model's z-score feature use the same window, else why not."""
    if strategy_bars == model_bars:
        return None
    return (
        f"strategy.lookback_bars = {strategy_bars} but the model's z-score feature was trained on "
        f"{model_bars} bars: the model keeps its own window, so its feature is not the strategy's trigger"
    )
