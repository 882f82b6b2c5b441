"""The text form of times in every record: UTC ISO-8601 with a `Z`, a minute start or a full timestamp."""

from __future__ import annotations

from datetime import UTC, datetime


def format_minute(ts: datetime) -> str:
    """The canonical text form of a minute: '2026-01-15T18:49:00Z' (bar `ts`, regime `window_end`)."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:00Z")


def format_utc(ts: datetime) -> str:
    """An aware UTC timestamp to the second or finer: '2026-01-15T18:49:07.250000Z' (fills, computed_at)."""
    return ts.isoformat().replace("+00:00", "Z")
