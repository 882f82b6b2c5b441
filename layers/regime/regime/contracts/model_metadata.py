"""Model metadata: what an ensemble.onnx carries about itself (stored as JSON in its metadata_props)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

METADATA_KEY = "regime_trader"


@dataclass(frozen=True, slots=True)
class ModelMetadata:
    """Everything needed to use, audit and compare an ensemble without its training code."""

    version: str
    created_at: str
    feature_names: list[str]
    feature_spec: dict[str, Any]
    label_spec: dict[str, Any]
    model_names: list[str]
    input_name: str
    output_name: str
    training_range: dict[str, Any]
    oos_scores: dict[str, Any] = field(default_factory=dict)

    @property
    def min_bars(self) -> int:
        """Bars of contiguous history a decision needs."""
        return int(self.feature_spec["min_bars"])

    @property
    def zscore_window(self) -> int:
        """Bars in the mean and sd of the `zscore` feature, as trained (`regime.contracts.zscore_window`)."""
        return int(self.feature_spec["zscore"])

    @property
    def headline_score(self) -> float:
        """The out-of-sample score used to decide promotion (vote accuracy against the labels)."""
        return float(self.oos_scores.get("vote_accuracy", float("nan")))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelMetadata:
        data = json.loads(text)
        return cls(**data)
