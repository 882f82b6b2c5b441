"""The six classifiers: per hemisphere a neural net, a kernel SVM and boosted trees (scikit-learn).

Training-only module: scikit-learn is imported when a model is built, never by the inference path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from regime.contracts.cadence import DECISION_EVERY_MINUTES
from regime.features import FeatureSpec
from regime.labels import LabelSpec

HEMISPHERES = ("trend", "range")
KINDS = ("mlp", "svm", "gbt")
MODEL_NAMES = [f"{h}_{k}" for h in HEMISPHERES for k in KINDS]

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Everything that shapes a trained ensemble; stored (flattened) in its metadata."""

    feature_spec: FeatureSpec = field(default_factory=FeatureSpec)
    label_spec: LabelSpec = field(default_factory=LabelSpec)
    stride: int = DECISION_EVERY_MINUTES  # decision times, as live: every boundary of the clock
    mlp_hidden: tuple[int, ...] = (32, 16)
    mlp_max_iter: int = 200
    svm_c: float = 1.0
    svm_max_samples: int = 3000  # an RBF SVM is quadratic in samples: subsample evenly in time
    gbt_iterations: int = 150
    gbt_learning_rate: float = 0.05
    gbt_leaves: int = 15
    folds: int = 4
    # Weight each class by the inverse of its frequency, so that a model's 0.5 means "as likely as not
    # against a balanced prior" rather than "more likely than the base rate": with a 38% trend base rate,
    # calibrated trend models rarely pass 0.5 and the vote then says `nothing` where it could decide.
    balanced: bool = False
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["feature_spec"] = self.feature_spec.to_dict()
        return d


def build_classifier(kind: str, config: TrainConfig) -> Any:
    """An unfitted scikit-learn classifier of `kind` ("mlp", "svm" or "gbt"), configured by `config`."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if kind == "mlp":
        return make_pipeline(
            StandardScaler(),
            MLPClassifier(
                config.mlp_hidden, early_stopping=True, max_iter=config.mlp_max_iter, random_state=config.seed
            ),
        )
    if kind == "svm":
        # Platt scaling fitted out of fold, on one SVC over all samples (what SVC(probability=True) did).
        svc = SVC(C=config.svm_c, random_state=config.seed)
        return make_pipeline(
            StandardScaler(), CalibratedClassifierCV(svc, method="sigmoid", cv=3, ensemble=False)
        )
    if kind == "gbt":
        return HistGradientBoostingClassifier(
            max_iter=config.gbt_iterations,
            learning_rate=config.gbt_learning_rate,
            max_leaf_nodes=config.gbt_leaves,
            random_state=config.seed,
        )
    raise ValueError(f"unknown model kind {kind!r}")


def fit_models(
    x: npt.NDArray[np.float32],
    y_trend: npt.NDArray[np.bool_],
    y_range: npt.NDArray[np.bool_],
    config: TrainConfig,
    progress: Progress | None = None,
) -> list[tuple[str, Any]]:
    """Fit the six models, in MODEL_NAMES order. Each hemisphere needs both classes present."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    fitted: list[tuple[str, Any]] = []
    for hemisphere, y in zip(HEMISPHERES, (y_trend, y_range), strict=True):
        if y.all() or not y.any():
            raise ValueError(
                f"{hemisphere} labels: only one class in {len(y)} samples; need more or other data"
            )
        for kind in KINDS:
            xs, ys = x, y
            if kind == "svm" and len(x) > config.svm_max_samples:
                pick = np.linspace(0, len(x) - 1, config.svm_max_samples).astype(np.int64)
                xs, ys = x[pick], y[pick]
            model = build_classifier(kind, config)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(xs, ys, **_weights(model, ys, config.balanced))
            fitted.append((f"{hemisphere}_{kind}", model))
            if progress:
                progress(f"{hemisphere}_{kind}")
    return fitted


def balanced_weights(y: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """Per-sample weights that give both classes the same total weight (and the mean weight 1)."""
    pos = float(y.mean())
    return np.where(y, 0.5 / pos, 0.5 / (1.0 - pos))


def _weights(model: Any, y: npt.NDArray[np.bool_], balanced: bool) -> dict[str, Any]:
    if not balanced:
        return {}
    steps = getattr(model, "steps", None)  # a Pipeline routes fit parameters to its named step
    key = f"{steps[-1][0]}__sample_weight" if steps else "sample_weight"
    return {key: balanced_weights(y)}


def predict_positive(models: list[tuple[str, Any]], x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """scikit-learn's P(positive) of each model, shape (n, 6): the reference the ONNX graph must match."""
    return np.column_stack([m.predict_proba(x)[:, 1] for _, m in models]).astype(np.float64)


def to_onnx_models(models: list[tuple[str, Any]], n_features: int) -> list[tuple[tuple[str, ...], Any]]:
    """Convert the fitted models to ONNX parts (float input), each with the names of the models it answers
    for: the SVMs together as matrix algebra (regime.svm_graph), the nets together as one block-diagonal
    net (regime.mlp_graph), both with output p_positive; the boosted trees one by one by skl2onnx
    (probabilities as a plain tensor)."""
    import warnings

    from skl2onnx import to_onnx

    from regime.mlp_graph import scaled_mlps_onnx
    from regime.svm_graph import calibrated_svms_onnx

    joint = {"_svm": calibrated_svms_onnx, "_mlp": scaled_mlps_onnx}
    sample = np.zeros((1, n_features), dtype=np.float32)
    parts: list[tuple[tuple[str, ...], Any]] = []
    for suffix, build in joint.items():
        kind = [(name, model) for name, model in models if name.endswith(suffix)]
        if kind:
            parts.append((tuple(n for n, _ in kind), build([m for _, m in kind], n_features)))
    with warnings.catch_warnings():
        # skl2onnx passes booleans where onnx wants ints (onnx warns, and converts them).
        warnings.filterwarnings("ignore", "Field onnx.AttributeProto", DeprecationWarning)
        for name, model in models:
            if not name.endswith(tuple(joint)):
                options = {id(model): {"zipmap": False}}
                onnx_model = to_onnx(model, sample, options=options, target_opset={"": 17, "ai.onnx.ml": 3})
                parts.append(((name,), onnx_model))
    return parts
