"""How an event that breaks its schema is explained: one line per wrong field."""

from __future__ import annotations

from pydantic import ValidationError


def explain(exc: ValidationError) -> str:
    """One line per wrong field: 'field: what is wrong (got value)'."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {e['msg']} (got {e.get('input')!r})"
        for e in exc.errors()
    )
