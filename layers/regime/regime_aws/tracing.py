"""The functions' Tracer (X-Ray): on only when the stack's Tracing parameter is Active.

The template passes the parameter to every function as TRACING, beside Lambda's own TracingConfig (the
same value), so the switch is one parameter; CloudFormation has no way to turn it into
POWERTOOLS_TRACE_DISABLED's true/false that the local cloud also resolves. Off, Powertools' Tracer does
nothing (no X-Ray SDK calls), and in-process runs and tests never have it on.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Tracer

TRACING_ENV = "TRACING"  # the template's Globals: !Ref Tracing (Active or PassThrough)


def function_tracer() -> Tracer:
    """Powertools' Tracer, disabled unless TRACING is Active (then Powertools' own rules apply)."""
    return Tracer(disabled=None if os.environ.get(TRACING_ENV) == "Active" else True)
