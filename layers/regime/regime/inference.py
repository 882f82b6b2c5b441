"""Inference: load ensemble.onnx once, then features + one session.run + the vote, for one window or many."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from regime.bar_series import BarSeries, FloatArray
from regime.contracts.cadence import DECISION_VALIDITY
from regime.contracts.model_metadata import METADATA_KEY, ModelMetadata
from regime.contracts.regime_item import Regime, RegimeItem
from regime.features import FeatureSpec, InsufficientHistory, feature_matrix, window_features
from regime.vote import NOTHING, RegimeVote

HEMISPHERE_SIZE = 3


class ModelError(ValueError):
    """An ONNX file that is not a regime-trader ensemble."""


@dataclass(frozen=True)
class BatchDecisions:
    """Decisions at many bars: `code[i]` (vote codes) for the window ending at bar `index[i]`."""

    index: npt.NDArray[np.int64]
    code: npt.NDArray[np.int8]
    probabilities: FloatArray  # (n, 6), NaN where there was too little history


BATCH_ROWS = 1024  # rows per onnxruntime run in batch inference (measured: 2x faster than one huge run)


class RegimeModel:
    """A loaded ensemble. Thread-compatible: one onnxruntime session, created once."""

    def __init__(self, session: ort.InferenceSession, metadata: ModelMetadata) -> None:
        self._session = session
        self.metadata = metadata
        self.feature_spec = FeatureSpec.from_dict(metadata.feature_spec)
        self._input = metadata.input_name
        self._output = metadata.output_name

    @classmethod
    def load(cls, source: Path | str | bytes, threads: int = 1) -> RegimeModel:
        """Load from a path or from the bytes of an ensemble.onnx.

        `threads`: onnxruntime's intra-op threads. 1 (the default) suits one window at a time, where threads
        cost more than they give; batch users (backtests) pass 0 for one per core.
        """
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        try:
            session = ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
        except (
            Exception
        ) as exc:  # onnxruntime's own types (InvalidProtobuf, Fail, ...), not importable by name
            raise ModelError(f"not an ONNX model ({str(exc).splitlines()[0][:200]})") from exc
        props = session.get_modelmeta().custom_metadata_map
        if METADATA_KEY not in props:
            raise ModelError(f"not a regime-trader ensemble: metadata key {METADATA_KEY!r} is missing")
        model = cls(session, ModelMetadata.from_json(props[METADATA_KEY]))
        width = session.get_inputs()[0].shape[-1]
        expected = len(model.feature_spec.names)
        if isinstance(width, int) and width != expected:
            raise ModelError(
                f"the model takes {width} features, its feature spec makes {expected}: "
                "trained by another version of the features; train it again"
            )
        return model

    @property
    def version(self) -> str:
        return self.metadata.version

    @property
    def min_bars(self) -> int:
        return self.feature_spec.min_bars

    def probabilities(self, features: npt.NDArray[np.floating[Any]]) -> FloatArray:
        """P(positive class) of every model, shape (n, 6), in the order of metadata.model_names."""
        x = np.ascontiguousarray(features, dtype=np.float32)
        if len(x) <= BATCH_ROWS:
            (out,) = self._session.run([self._output], {self._input: x})
            return np.asarray(out, dtype=np.float64)
        # In slices: the SVMs' (rows x support vectors) kernel matrix then stays in cache, not gigabytes.
        return np.vstack([self.probabilities(x[i : i + BATCH_ROWS]) for i in range(0, len(x), BATCH_ROWS)])

    def vote(self, features: npt.NDArray[np.floating[Any]]) -> RegimeVote:
        return RegimeVote.of_probabilities(self.probabilities(features))

    def decide(
        self, series: BarSeries, *, now: datetime, validity: timedelta = DECISION_VALIDITY
    ) -> RegimeItem:
        """The decision for the window ending at the last bar; too little history gives `nothing` and why."""
        if len(series) == 0:
            raise InsufficientHistory("no bars")
        end = series.window_end(len(series) - 1)
        base = {
            "symbol": series.symbol,
            "window_end": end,
            "computed_at": now,
            "valid_until": end + validity,
            "model_version": self.version,
        }
        try:
            x = window_features(series, self.feature_spec)
        except InsufficientHistory as exc:
            return RegimeItem(regime=Regime.NOTHING, reason=f"insufficient history: {exc}", **base)  # type: ignore[arg-type]
        p = self.probabilities(x)
        v = RegimeVote.of_probabilities(p)
        return RegimeItem(
            regime=v.regime(0),
            trend_vote=bool(v.trend.vote[0]),
            trend_confidence=float(v.trend.confidence[0]),
            range_vote=bool(v.range.vote[0]),
            range_confidence=float(v.range.confidence[0]),
            probabilities=dict(zip(self.metadata.model_names, p[0].tolist(), strict=True)),
            **base,  # type: ignore[arg-type]
        )

    def decide_batch(self, series: BarSeries, index: npt.ArrayLike | None = None) -> BatchDecisions:
        """Decisions at many bars at once (backtests): same features, same graph, same vote."""
        idx = np.arange(len(series)) if index is None else np.asarray(index, dtype=np.int64)
        x = feature_matrix(series, self.feature_spec)[idx]
        ok = ~np.isnan(x).any(axis=1)
        probs = np.full((idx.shape[0], len(self.metadata.model_names)), np.nan)
        code = np.full(idx.shape[0], NOTHING, dtype=np.int8)
        if ok.any():
            probs[ok] = self.probabilities(x[ok])
            code[ok] = RegimeVote.of_probabilities(probs[ok]).code
        return BatchDecisions(index=idx, code=code, probabilities=probs)
