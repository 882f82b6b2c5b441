"""The model pointer contract that the regime and train functions share (regime.contracts.model_pointer)."""

from __future__ import annotations

import json

import pytest

from regime.contracts import ModelPointer, PointerEntry, PointerError


def test_entries_round_trip_and_others_are_kept_as_written() -> None:
    raw = {"CL": {"key": "models/CL/a.onnx"}, "MCL": {"key": "models/MCL/b.onnx", "extra": [1]}}
    pointer = ModelPointer.from_json(json.dumps(raw))
    assert pointer.entry("CL") == PointerEntry("models/CL/a.onnx")
    assert pointer.entry("ES") is None
    entry = PointerEntry("models/CL/c.onnx", "v2", "2026-01-01T00:00:00Z", {"trend_auc": 0.61})
    updated = ModelPointer.from_json(pointer.with_entry("CL", entry).to_json())
    assert updated.entry("CL") == entry
    assert updated.raw["MCL"] == raw["MCL"]  # untouched, unknown fields included


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "pointer: not valid JSON"),
        ("[1]", "pointer: expected a JSON object keyed by symbol, got list"),
    ],
)
def test_a_broken_pointer_names_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(PointerError, match=message):
        ModelPointer.from_json(text)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("models/x.onnx", "CL: entry must be a JSON object"),
        ({"version": "v"}, "CL.key: expected the S3 key of an .onnx file, got None"),
        ({"key": "models/x.json"}, "CL.key: expected the S3 key of an .onnx file"),
        ({"key": "m.onnx", "version": 3}, "CL.version: expected a string, got 3"),
        ({"key": "m.onnx", "scores": {"auc": "high"}}, "CL.scores.auc: expected a finite number"),
        ({"key": "m.onnx", "scores": {"auc": True}}, "CL.scores.auc: expected a finite number"),
    ],
)
def test_a_broken_entry_names_its_symbol_and_field_and_spares_the_others(entry: object, message: str) -> None:
    pointer = ModelPointer.from_json(json.dumps({"CL": entry, "MCL": {"key": "models/MCL/ok.onnx"}}))
    with pytest.raises(PointerError, match=message):
        pointer.entry("CL")
    assert pointer.entry("MCL") == PointerEntry("models/MCL/ok.onnx")
