"""The ONNX ensemble: one graph, one run, the same probabilities and labels as scikit-learn."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import onnx
import pytest

from regime.contracts.model_metadata import METADATA_KEY
from regime.contracts.regime_item import Regime
from regime.dataset import build_dataset
from regime.features import FeatureSpec
from regime.inference import ModelError, RegimeModel
from regime.labels import LabelSpec
from regime.models import MODEL_NAMES, predict_positive
from regime.synthetic import SyntheticMarket, synthetic_days
from regime.training import TrainedEnsemble
from regime.vote import RegimeVote

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def unseen() -> SyntheticMarket:
    return synthetic_days(3, seed=99)


def test_one_graph_one_input_one_output(small_ensemble: TrainedEnsemble) -> None:
    model = onnx.load_from_string(small_ensemble.onnx_bytes)
    assert [i.name for i in model.graph.input] == ["features"]
    assert [o.name for o in model.graph.output] == ["probabilities"]
    assert len(small_ensemble.models) == 6
    # Label branches are pruned: every node feeds the probability output.
    consumed = {x for n in model.graph.node for x in n.input} | {"probabilities"}
    assert all(consumed.intersection(n.output) for n in model.graph.node)


def test_onnx_matches_scikit_learn(small_ensemble: TrainedEnsemble, unseen: SyntheticMarket) -> None:
    ds = build_dataset(unseen.bars, FeatureSpec(), LabelSpec(), stride=1)
    model = RegimeModel.load(small_ensemble.onnx_bytes)
    onnx_p = model.probabilities(ds.x)
    sk_p = predict_positive(small_ensemble.models, ds.x)
    assert onnx_p.shape == (len(ds), 6) and len(ds) > 3000
    assert np.abs(onnx_p - sk_p).max() <= TOLERANCE
    # Labels: identical wherever float32 arithmetic can decide them; a probability within the tolerance of
    # 0.5 is a coin toss at float32 precision, and must stay vanishingly rare.
    decidable = np.abs(sk_p - 0.5) > TOLERANCE
    assert ((onnx_p > 0.5) == (sk_p > 0.5))[decidable].all()
    assert (~decidable).sum() <= 2
    for j, (_, est) in enumerate(small_ensemble.models):
        assert (est.predict(ds.x) == (sk_p[:, j] > 0.5))[decidable[:, j]].all()
    sk_vote = RegimeVote.of(sk_p[:, :3], sk_p[:, 3:]).code
    assert (model.vote(ds.x).code == sk_vote).mean() > 0.999


def test_metadata_travels_inside_the_file(small_ensemble: TrainedEnsemble) -> None:
    md = RegimeModel.load(small_ensemble.onnx_bytes).metadata
    assert md == small_ensemble.metadata
    assert md.model_names == MODEL_NAMES
    assert md.feature_names == FeatureSpec().names and md.min_bars == 65
    assert md.label_spec == {"horizon": 5, "range_z": 2.0, "trend_k": 1.5}
    assert md.training_range["samples"] > 0 and md.training_range["first_window_end"] < md.training_range[
        "last_window_end"]  # fmt: skip
    assert 0.0 < md.headline_score < 1.0 and "truth_accuracy" in md.oos_scores
    assert md.version.count("-") == 1


def test_decide_one_window_equals_the_batch_path(
    small_ensemble: TrainedEnsemble, unseen: SyntheticMarket
) -> None:
    model = RegimeModel.load(small_ensemble.onnx_bytes)
    bars = unseen.bars
    batch = model.decide_batch(bars)
    for t in range(100, 1300, 97):
        item = model.decide(bars.take(slice(t - 90, t + 1)), now=datetime.now(UTC))
        assert item.regime.value == ("nothing", "trend", "range")[batch.code[t]]
        assert item.probabilities == pytest.approx(
            dict(zip(MODEL_NAMES, batch.probabilities[t], strict=True))
        )
        assert item.window_end == bars.window_end(t) and item.model_version == model.version


def test_too_little_history_decides_nothing_and_says_why(
    small_ensemble: TrainedEnsemble, unseen: SyntheticMarket
) -> None:
    model = RegimeModel.load(small_ensemble.onnx_bytes)
    item = model.decide(unseen.bars.take(slice(0, 30)), now=datetime.now(UTC))
    assert (
        item.regime is Regime.NOTHING and "insufficient history" in item.reason and "need 65" in item.reason
    )
    batch = model.decide_batch(unseen.bars.take(slice(0, 100)))
    assert (batch.code[:64] == 0).all() and np.isnan(batch.probabilities[:64]).all()


def test_a_foreign_onnx_file_is_refused(small_ensemble: TrainedEnsemble) -> None:
    model = onnx.load_from_string(small_ensemble.onnx_bytes)
    del model.metadata_props[:]
    with pytest.raises(ModelError, match="not a regime-trader ensemble"):
        RegimeModel.load(model.SerializeToString())


def test_a_file_that_is_not_onnx_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="not an ONNX model"):
        RegimeModel.load(b"hello, not a protobuf")


def test_a_model_with_another_feature_count_is_refused_at_load(small_ensemble: TrainedEnsemble) -> None:
    # Its graph takes the features of one spec, its metadata names another: onnxruntime's INVALID_ARGUMENT
    # at the first decision otherwise.
    model = onnx.load_from_string(small_ensemble.onnx_bytes)
    (prop,) = [p for p in model.metadata_props if p.key == METADATA_KEY]
    metadata = json.loads(prop.value)
    metadata["feature_spec"]["lags"] += 1
    prop.value = json.dumps(metadata)
    with pytest.raises(ModelError, match=r"the model takes \d+ features, its feature spec makes \d+"):
        RegimeModel.load(model.SerializeToString())
