"""Train the ensemble: dataset -> walk-forward evaluation -> final fit on everything -> one ensemble.onnx."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from regime.bar_series import BarSeries, datetime_of
from regime.contracts.model_metadata import METADATA_KEY, ModelMetadata
from regime.contracts.timestamps import format_utc
from regime.dataset import Dataset, build_dataset
from regime.evaluation import walk_forward
from regime.models import MODEL_NAMES, Progress, TrainConfig, fit_models, predict_positive, to_onnx_models


@dataclass(frozen=True)
class TrainedEnsemble:
    """The artifact (bytes of ensemble.onnx), its metadata and the full evaluation report."""

    onnx_bytes: bytes
    metadata: ModelMetadata
    evaluation: dict[str, Any]
    models: list[tuple[str, Any]]  # the fitted scikit-learn models, kept for parity checks


def steps(config: TrainConfig) -> int:
    """Model fits a training run makes (for progress bars)."""
    return (config.folds + 1) * len(MODEL_NAMES)


def _version(x: npt.NDArray[np.float32], config: TrainConfig, created: datetime) -> str:
    digest = hashlib.sha256(x.tobytes() + repr(config.to_dict()).encode()).hexdigest()[:8]
    return f"{created:%Y%m%dT%H%M%SZ}-{digest}"


def train_on_dataset(
    ds: Dataset,
    config: TrainConfig,
    *,
    source: dict[str, Any],
    progress: Progress | None = None,
    evaluate: bool = True,
) -> TrainedEnsemble:
    """Evaluate walk-forward, then fit the six models on all samples and build the ONNX ensemble."""
    from regime.ensemble_graph import INPUT_NAME, OUTPUT_NAME, merge_classifiers

    if len(ds) == 0:
        raise ValueError("no training samples: the bars are too few or too fragmented for the feature window")
    evaluation = walk_forward(ds, config, progress) if evaluate else {}
    models = fit_models(ds.x, ds.trend, ds.range, config, progress)
    created = datetime.now(UTC)
    n_features = ds.x.shape[1]
    metadata = ModelMetadata(
        version=_version(ds.x, config, created),
        created_at=format_utc(created),
        feature_names=config.feature_spec.names,
        feature_spec=config.feature_spec.to_dict(),
        label_spec=config.label_spec.to_dict(),
        model_names=list(MODEL_NAMES),
        input_name=INPUT_NAME,
        output_name=OUTPUT_NAME,
        training_range={
            **source,
            "first_window_end": datetime_of(int(ds.minute[0]) + 1).isoformat(),
            "last_window_end": datetime_of(int(ds.minute[-1]) + 1).isoformat(),
            "samples": len(ds),
            "config": config.to_dict(),
        },
        oos_scores=_headline(evaluation),
    )
    metadata = ModelMetadata.from_json(metadata.to_json())  # what readers will see: JSON types only
    merged = merge_classifiers(
        to_onnx_models(models, n_features), MODEL_NAMES, n_features, {METADATA_KEY: metadata.to_json()}
    )
    return TrainedEnsemble(merged.SerializeToString(), metadata, evaluation, models)


def _headline(evaluation: dict[str, Any]) -> dict[str, Any]:
    if not evaluation:
        return {}
    out: dict[str, Any] = {
        "vote_accuracy": evaluation["vote"]["accuracy"],
        "vote_ci95": evaluation["vote"]["ci95"],
        "vote_baseline": evaluation["vote"]["baseline"],
        "samples": evaluation["samples"],
        "models": {k: {"accuracy": v["accuracy"], "auc": v["auc"]} for k, v in evaluation["models"].items()},
        "hemispheres": {
            k: {"accuracy": v["accuracy"], "baseline": v["baseline"]}
            for k, v in evaluation["hemispheres"].items()
        },
    }
    if "truth" in evaluation:
        out["truth_accuracy"] = evaluation["truth"]["accuracy"]
        out["truth_baseline"] = evaluation["truth"]["baseline"]
    return out


def train_ensemble(
    series: BarSeries | Sequence[BarSeries],
    config: TrainConfig | None = None,
    *,
    truth: Sequence[npt.NDArray[np.int8] | None] | npt.NDArray[np.int8] | None = None,
    source: dict[str, Any] | None = None,
    progress: Progress | None = None,
    evaluate: bool = True,
) -> TrainedEnsemble:
    """Train and evaluate an ensemble from bar series (and, for synthetic markets, their true regimes)."""
    config = config or TrainConfig()
    many = [series] if isinstance(series, BarSeries) else list(series)
    ds = build_dataset(many, config.feature_spec, config.label_spec, stride=config.stride, truth=truth)
    meta_source = {"symbols": sorted({s.symbol for s in many}), **(source or {})}
    return train_on_dataset(ds, config, source=meta_source, progress=progress, evaluate=evaluate)


__all__ = ["TrainConfig", "TrainedEnsemble", "predict_positive", "train_ensemble"]
