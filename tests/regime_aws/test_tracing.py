"""The functions' Tracer is off unless the stack's Tracing parameter is Active: in-process runs and the
tests import and run the handlers with no X-Ray daemon and no trace sent."""

from __future__ import annotations

import pytest

from regime_aws.tracing import TRACING_ENV, function_tracer


def test_the_tracer_is_off_without_active_tracing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRACING_ENV, "PassThrough")
    tracer = function_tracer()
    assert tracer.disabled

    @tracer.capture_lambda_handler
    def handler(event: dict[str, int], context: object) -> int:
        return event["n"] + 1

    assert handler({"n": 1}, None) == 2  # the decorator runs the handler, no segment needed
