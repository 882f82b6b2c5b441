"""The gate before live money: evidence for this config and model, or refusal (live) / warning (paper)."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from regime.contracts.evidence import NO_MODEL, Evidence, EvidenceError
from trader_host.live_gate import Unproven, check_evidence

GOOD = Evidence(
    kind="sweep",
    created_at="2026-12-07T00:00:00Z",
    command="regime-trader sweep ...",
    symbol="CL",
    strategy_config_hash="abc123",
    regime="ml",
    model_version="v1",
    selection_span=["2026-01-01T00:00:00+00:00", "2026-02-01T00:00:00+00:00"],
    test_span=["2026-02-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00"],
    oos_net_usd=120.0,
    oos_trips=40,
    deflated_sharpe=0.97,
    pbo=0.2,
)


def gate(tmp_path: Path, evidence: Evidence | None, *, live: bool = True, accept: bool = False) -> str:
    path = None if evidence is None else evidence.write(tmp_path / "evidence.json")
    verdict = check_evidence(
        path,
        accept_unproven=accept,
        live=live,
        strategy_config_hash="abc123",
        model_version="v1",
        regime="ml",
    )
    return verdict.line


def test_evidence_for_this_config_and_model_that_earned_out_of_sample_opens_the_gate(tmp_path: Path) -> None:
    assert gate(tmp_path, GOOD) == "evidence: proven out of sample"
    assert Evidence.from_json(GOOD.to_json()) == GOOD


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"strategy_config_hash": "other"}, "strategy config other, this host trades abc123"),
        ({"model_version": "v0"}, "the evidence is for v0, this host trades v1"),
        ({"regime": "range", "model_version": NO_MODEL}, "regime range, this host trades regime ml"),
        ({"oos_net_usd": -3.5}, "out-of-sample net -3.50 USD is not above zero"),
        ({"deflated_sharpe": 0.4}, "deflated Sharpe 0.40 is below 0.95"),
        ({"deflated_sharpe": None}, "deflated Sharpe unknown"),
    ],
)
def test_a_live_start_is_refused_naming_what_the_evidence_lacks(
    tmp_path: Path, change: dict[str, object], named: str
) -> None:
    with pytest.raises(Unproven, match="a live account needs evidence") as refused:
        gate(tmp_path, dataclasses.replace(GOOD, **change))  # type: ignore[arg-type]
    assert named in str(refused.value)


def test_no_evidence_is_named_and_accepting_it_is_said_every_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(Unproven, match=r"no evidence .* for strategy config abc123 and model v1"):
        gate(tmp_path, None)
    with caplog.at_level(logging.WARNING):
        line = gate(tmp_path, None, accept=True)
    assert line.startswith("UNPROVEN (accepted with --accept-unproven): no evidence")
    assert "LIVE account" in caplog.text


def test_a_paper_account_is_warned_not_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        line = gate(tmp_path, dataclasses.replace(GOOD, oos_net_usd=0.0), live=False)
    assert line.startswith("UNPROVEN: out-of-sample net 0.00") and "paper account" in caplog.text


def test_an_unreadable_evidence_file_is_a_shortfall_not_a_crash(tmp_path: Path) -> None:
    bad = tmp_path / "evidence.json"
    bad.write_text('{"kind": "sweep"}')
    with pytest.raises(EvidenceError, match="not an evidence record"):
        Evidence.load(bad)
    with pytest.raises(Unproven, match="not an evidence record"):
        check_evidence(
            bad, accept_unproven=False, live=True, strategy_config_hash="x", model_version="", regime="range"
        )
