"""A trained ensemble scored on bars it has never seen: the same scores as the walk-forward evaluation
(`regime.evaluation.score`), from the ONNX file itself, refused on data inside its training span."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from regime.bar_series import BarSeries, datetime_of
from regime.dataset import build_dataset
from regime.evaluation import score
from regime.inference import RegimeModel
from regime.labels import LabelSpec


class TrainingOverlap(ValueError):
    """Data that falls inside the model's training span: its scores would not be out of sample."""


def refuse_training_data(model: RegimeModel, series: BarSeries) -> None:
    """Raise TrainingOverlap (naming the overlap) when `series` reaches into the model's training span."""
    if len(series) == 0:
        raise ValueError("no bars to score the model on")
    first, end = datetime_of(int(series.minute[0])), datetime_of(int(series.minute[-1]) + 1)
    why = model.metadata.training_overlap(first, end)
    if why:
        raise TrainingOverlap(why)


def score_held_out(
    model: RegimeModel, series: BarSeries, truth: npt.NDArray[np.int8] | None = None, seed: int = 0
) -> dict[str, Any]:
    """Per model and hemisphere AUC, log loss, accuracy beside the base rate (block-bootstrap interval), the
    vote's confusion matrix and calibration, at every decision time of `series` whose label is known, against
    the labels the model was trained to predict (its own label spec)."""
    refuse_training_data(model, series)
    label_spec = LabelSpec.from_dict(model.metadata.label_spec)
    ds = build_dataset(series, model.feature_spec, label_spec, truth=truth)
    if len(ds) == 0:
        raise ValueError(f"{len(series)} bars give no decision with a full feature and label window")
    report = score(ds, model.probabilities(ds.x), seed)
    report["span"] = {
        "first_window_end": datetime_of(int(ds.minute[0]) + 1).isoformat(),
        "last_window_end": datetime_of(int(ds.minute[-1]) + 1).isoformat(),
    }
    return report
