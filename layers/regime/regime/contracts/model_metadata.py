"""Model metadata: what an ensemble.onnx carries about itself (stored as JSON in its metadata_props)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
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

    def training_span(self) -> tuple[datetime, datetime] | None:
        """[first, end) of the bars the training read: the feature window before its first decision to the
        label window after its last; None when the metadata does not record it (an older model)."""
        tr = self.training_range
        if "first_window_end" not in tr or "last_window_end" not in tr:
            return None
        first = datetime.fromisoformat(tr["first_window_end"]) - timedelta(minutes=self.min_bars)
        horizon = int(self.label_spec.get("horizon", 0))
        return first, datetime.fromisoformat(tr["last_window_end"]) + timedelta(minutes=horizon)

    def training_overlap(self, first: datetime, end: datetime) -> str | None:
        """Why data spanning [first, end) cannot score this model out of sample, or None."""
        span = self.training_span()
        if span is None:
            return (
                f"model {self.version} does not record its training span: it cannot be scored out of sample"
            )
        lo, hi = max(first, span[0]), min(end, span[1])
        if lo >= hi:
            return None
        return (
            f"the data {first:%Y-%m-%d %H:%M}..{end:%Y-%m-%d %H:%M} overlaps the training span of model "
            f"{self.version} ({span[0]:%Y-%m-%d %H:%M}..{span[1]:%Y-%m-%d %H:%M} UTC) from "
            f"{lo:%Y-%m-%d %H:%M} to {hi:%Y-%m-%d %H:%M}: score it on data after its training"
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelMetadata:
        data = json.loads(text)
        return cls(**data)
