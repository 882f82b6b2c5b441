"""The promotion rule: challenger beside incumbent on the same held-out bars, on measures a constant guess
cannot win (per-hemisphere ROC AUC and log loss; net ticks per round trip of a backtest, computed by the
caller). Vote accuracy is not used: it is dominated by the base rate.

The backtest part of the comparison is also the kind of record the live gate reads
(`regime.contracts.evidence.Evidence`, kind "promotion"): `held_out_record` writes one per model on the
held-out span, and given the challenger's and the incumbent's, `should_promote` compares their net USD per
round trip, after fees, and refuses records that are not about the same symbol, strategy config and span.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

import numpy as np

from regime.bar_series import BarSeries
from regime.contracts.cadence import DECISION_EVERY_MINUTES
from regime.contracts.evidence import Evidence
from regime.features import FeatureSpec
from regime.inference import HEMISPHERE_SIZE, RegimeModel
from regime.labels import LabelSpec, make_labels
from regime.scores import auc, log_loss

# AUC and log loss differences smaller than this are noise on a few weeks of 5-minute windows.
TOLERANCE = 0.01
HEMISPHERES = ("trend", "range")


def holdout_scores(
    models: dict[str, RegimeModel], series: BarSeries, label_spec: LabelSpec
) -> dict[str, dict[str, float]]:
    """Each model's AUC and log loss per hemisphere, on the same decision times and labels of `series`.

    Decision times are the 5-minute boundaries where every model has a full feature window and the label
    is known, so that no model is scored on windows another one skipped.
    """
    labels = make_labels(series, label_spec, FeatureSpec())
    at = np.flatnonzero(((series.minute + 1) % DECISION_EVERY_MINUTES == 0) & labels.valid)
    probs = {name: m.decide_batch(series, at).probabilities for name, m in models.items()}
    ok = np.ones(len(at), dtype=bool)
    for p in probs.values():
        ok &= ~np.isnan(p).any(axis=1)
    out: dict[str, dict[str, float]] = {}
    for name, p in probs.items():
        scores: dict[str, float] = {"samples": float(ok.sum())}
        for h, hemisphere in enumerate(HEMISPHERES):
            y = (labels.trend if hemisphere == "trend" else labels.range)[at][ok]
            mean = p[ok, h * HEMISPHERE_SIZE : (h + 1) * HEMISPHERE_SIZE].mean(axis=1)
            scores[f"{hemisphere}_auc"] = auc(y, mean)
            scores[f"{hemisphere}_log_loss"] = log_loss(y, mean)
        out[name] = scores
    return out


def held_out_record(
    scores: Mapping[str, float],
    *,
    symbol: str,
    model_version: str,
    strategy_config_hash: str,
    test_span: tuple[datetime, datetime],
    selection_span: tuple[datetime, datetime] | None = None,
    command: str = "train function",
) -> Evidence:
    """One model's held-out backtest (`net_usd`, `round_trips` of `scores`) as an evidence record."""
    return Evidence(
        kind="promotion",
        created_at=datetime.now(UTC).isoformat(),
        command=f"{command}: {symbol}",
        symbol=symbol,
        strategy_config_hash=strategy_config_hash,
        regime="ml",
        model_version=model_version,
        selection_span=None if selection_span is None else [t.isoformat() for t in selection_span],
        test_span=[t.isoformat() for t in test_span],
        oos_net_usd=float(scores.get("net_usd", 0.0)),
        oos_trips=int(scores.get("round_trips", 0)),
        deflated_sharpe=None,  # one backtest of one configuration: no selection to deflate
        pbo=None,
    )


def _per_trip(record: Evidence) -> float:
    return record.oos_net_usd / record.oos_trips if record.oos_trips else 0.0


def _evidence_verdict(challenger: Evidence, incumbent: Evidence) -> tuple[bool, str]:
    """The backtest part of the rule, read from the two models' records on the same held-out span."""
    ours = (challenger.symbol, challenger.strategy_config_hash, challenger.test_span)
    theirs = (incumbent.symbol, incumbent.strategy_config_hash, incumbent.test_span)
    if ours != theirs:
        return False, f"the incumbent's evidence {theirs} is not comparable with the challenger's {ours}"
    c_net, i_net = _per_trip(challenger), _per_trip(incumbent)
    if c_net < i_net:
        return False, f"evidence: net {c_net:.2f} USD per round trip below the incumbent's {i_net:.2f}"
    return True, "not worse than the incumbent on AUC, log loss and the evidence's net USD per round trip"


def should_promote(
    challenger: dict[str, float],
    incumbent: dict[str, float] | None,
    force: bool,
    evidence: tuple[Evidence, Evidence] | None = None,
) -> tuple[bool, str]:
    """The rule, with the reason in words: forced; or every hemisphere's AUC above 0.5 and, when there is an
    incumbent, no AUC lower nor log loss higher than its own by more than TOLERANCE, and its backtest not
    worse: net ticks per round trip of the scores, or, given the (challenger, incumbent) evidence records
    of the same held-out span, their net USD per round trip."""
    if force:
        return True, "forced"
    for h in HEMISPHERES:
        h_auc = challenger.get(f"{h}_auc", float("nan"))
        if not h_auc > 0.5:
            return False, f"{h} AUC {h_auc:.3f} is no better than a constant guess (0.5)"
    if incumbent is None:
        return True, "no incumbent, and every hemisphere beats a constant guess"
    for h in HEMISPHERES:
        c_auc, i_auc = challenger[f"{h}_auc"], incumbent.get(f"{h}_auc", float("nan"))
        if not math.isnan(i_auc) and c_auc < i_auc - TOLERANCE:
            return False, f"{h} AUC {c_auc:.3f} below the incumbent's {i_auc:.3f}"
        c_ll, i_ll = challenger[f"{h}_log_loss"], incumbent.get(f"{h}_log_loss", float("nan"))
        if not math.isnan(i_ll) and c_ll > i_ll + TOLERANCE:
            return False, f"{h} log loss {c_ll:.3f} above the incumbent's {i_ll:.3f}"
    if evidence is not None:
        return _evidence_verdict(*evidence)
    c_net, i_net = challenger.get("net_ticks_per_trip", 0.0), incumbent.get("net_ticks_per_trip", 0.0)
    if c_net < i_net:
        return False, f"net {c_net:.2f} ticks per round trip below the incumbent's {i_net:.2f}"
    return True, "not worse than the incumbent on AUC, log loss and net ticks per round trip"
