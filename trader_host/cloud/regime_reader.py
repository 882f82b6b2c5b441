"""DynamoRegimeReader: the current regime of one symbol from the DynamoDB `regime` table (key = symbol).

`refresh` (blocking, run off the event loop by a CloudJob) reads the item; `regime_at` only looks at the
cached one, so a tick never waits for the cloud. A new decision is due after each 5-minute boundary: once
it has been read, the next read waits for the next boundary; until then it is retried every `poll_s`.

A decision is `nothing` when the item is missing or unreadable, after its `valid_until`, when its window
ended longer ago than the decision validity (whatever `valid_until` says: a clock or a writer can be
wrong) or ends in the future, and when its model version is unknown. A failed read keeps the cached
item; its age still applies.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from regime.contracts import Regime, RegimeItem
from regime.contracts.cadence import DECISION_INTERVAL, DECISION_VALIDITY

log = logging.getLogger(__name__)
CADENCE_S = DECISION_INTERVAL.total_seconds()  # the regime function decides at every boundary
CLOCK_SKEW_S = 60.0  # a decision's window may end at most this far ahead of our clock
RETRY_WINDOW_S = 60.0  # after a boundary, look for its decision this long (a replayed day pays per read)
UNKNOWN_MODEL_VERSIONS = frozenset({"", "none", "unknown"})


def usable_span(item: RegimeItem | None, validity: timedelta = DECISION_VALIDITY) -> tuple[float, float]:
    """The epoch seconds [start, end) during which `item`'s regime may be traded; empty when never."""
    if item is None or item.model_version.strip().lower() in UNKNOWN_MODEL_VERSIONS:
        return (0.0, 0.0)
    window_end = item.window_end.timestamp()
    # Not before its window is (nearly) over; not after valid_until, nor once it is older than the validity.
    return (
        window_end - CLOCK_SKEW_S,
        min(item.valid_until.timestamp(), window_end + validity.total_seconds()),
    )


def usable_regime(item: RegimeItem | None, now: float, validity: timedelta = DECISION_VALIDITY) -> Regime:
    """The regime `item` allows at `now` (epoch seconds): its own, or `nothing`."""
    start, end = usable_span(item, validity)
    return item.regime if item is not None and start <= now < end else Regime.NOTHING


class DynamoRegimeReader:
    """Implements RegimeSource for live sessions."""

    def __init__(self, table: Any, symbol: str, poll_s: float = 5.0) -> None:
        self.table = table  # a boto3 DynamoDB Table resource
        self.symbol = symbol
        self.poll_s = poll_s
        self.item: RegimeItem | None = None
        # start, end, regime, window_end, its vote confidence: one tuple, swapped atomically
        self._usable: tuple[float, float, Regime, datetime | None, float] = (
            0.0,
            0.0,
            Regime.NOTHING,
            None,
            0.0,
        )
        self.reads = 0
        self.errors = 0

    def regime_at(self, now: float) -> Regime:
        start, end, regime, _, _ = self._usable  # computed once per item: this runs on every tick
        return regime if start <= now < end else Regime.NOTHING

    def decision_at(self, now: float) -> datetime | None:
        start, end, _, window_end, _ = self._usable
        return window_end if start <= now < end else None

    def confidence_at(self, now: float) -> float | None:
        start, end, _, _, confidence = self._usable
        return confidence if start <= now < end else 0.0  # no usable decision: no confidence in one

    def _keep(self, item: RegimeItem | None) -> None:
        # Called from the worker thread that read the item; the tick path reads `_usable` in one go.
        if item is None:
            self._usable = (0.0, 0.0, Regime.NOTHING, None, 0.0)
        else:
            confidence = {Regime.TREND: item.trend_confidence, Regime.RANGE: item.range_confidence}
            self._usable = (
                *usable_span(item),
                item.regime,
                item.window_end,
                confidence.get(item.regime, 0.0),
            )
        self.item = item

    def next_read_at(self, now: float) -> float:
        """When to read next: the next boundary if the current one's decision is in, else soon."""
        boundary = (now // CADENCE_S) * CADENCE_S
        item = self.item
        fresh = item is not None and item.window_end.timestamp() >= boundary
        if fresh or now + self.poll_s > boundary + RETRY_WINDOW_S:
            return boundary + CADENCE_S + 1.0  # in, or too late to matter: wait for the next boundary
        return now + self.poll_s

    def refresh(self, now: float | None = None) -> None:
        """Read the item now (blocking)."""
        self.reads += 1
        try:
            raw = self.table.get_item(Key={"symbol": self.symbol}).get("Item")
        except (BotoCoreError, ClientError) as exc:
            self.errors += 1
            log.warning("regime read for %s failed (keeping the cached decision): %s", self.symbol, exc)
            return
        if raw is None:
            if self.item is not None:
                log.warning("regime item for %s disappeared", self.symbol)
            self._keep(None)
            return
        try:
            item = RegimeItem.from_dict(raw)
        except (KeyError, ValueError, TypeError) as exc:
            self.errors += 1
            log.error("regime item for %s is malformed, treated as nothing: %s (%r)", self.symbol, exc, raw)
            self._keep(None)
            return
        if self.item is None or item.window_end != self.item.window_end:
            log.info(
                "regime %s for %s from window %s (model %s), valid until %s",
                item.regime,
                self.symbol,
                item.window_end,
                item.model_version,
                item.valid_until,
            )
        self._keep(item)
