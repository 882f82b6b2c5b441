"""`python -m devkit.local_cloud invoke FUNCTION -e events/X.json`: each sample event, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devkit.local_cloud.__main__ import main

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[3] / "events"


@pytest.mark.parametrize(
    ("function", "event"),
    [
        ("IngestBarsFunction", "ingest_bars.json"),
        ("regime", "regime.json"),
        ("TrainFunction", "train.json"),
    ],
)
def test_every_sample_event_invokes_its_function(
    moto_reset: str, layer_model: Path, function: str, event: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "invoke",
            function,
            "-e",
            str(EVENTS / event),
            "--endpoint",
            moto_reset,
            "--layer-model",
            str(layer_model),
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err[-2000:]
    response = json.loads(out.out.strip().splitlines()[-1])
    if event == "ingest_bars.json":
        assert response == {"batchItemFailures": []}
    elif event == "regime.json":
        decision = response["decisions"]["CL"]
        assert response["boundary"] == "2026-01-15T20:05:00Z" and decision["written"] is True
        assert decision["model_version"] != "none"  # the layer model served
    else:
        assert response["results"]["CL"]["promoted"] is False  # nothing archived yet: nothing to train on
        assert "no archived bars" in response["results"]["CL"]["reason"]


def test_an_unknown_function_or_a_bad_event_is_a_clear_error(
    moto_reset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["invoke", "NoSuchFunction", "-e", str(EVENTS / "regime.json"), "--endpoint", moto_reset]) == 2
    )
    assert "no function 'NoSuchFunction'" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert main(["invoke", "regime", "-e", str(bad), "--endpoint", moto_reset]) == 2
    assert "expected a JSON object" in capsys.readouterr().err
