"""The symbols a function serves: the template's `Symbols` parameter, in every function's SYMBOLS variable."""

from __future__ import annotations

import os


def configured_symbols() -> tuple[str, ...]:
    """SYMBOLS split on commas, blanks dropped, in the template's order."""
    return tuple(s.strip() for s in os.environ["SYMBOLS"].split(",") if s.strip())
