"""DynamoRegimeReader: the current regime of one symbol from the DynamoDB `regime` table (key = symbol).

Read every `poll_s` seconds of the session's clock; between reads the cached item is used. Missing item,
expired item (now >= valid_until), unreadable item: `nothing`, so no new entry. A failed read keeps the
cached item, whose own expiry still applies.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from regime.contracts import Regime, RegimeItem

log = logging.getLogger(__name__)


class DynamoRegimeReader:
    """Implements RegimeSource for live sessions."""

    def __init__(self, table: Any, symbol: str, poll_s: float = 20.0) -> None:
        self.table = table  # a boto3 DynamoDB Table resource
        self.symbol = symbol
        self.poll_s = poll_s
        self.item: RegimeItem | None = None
        self._valid_until = float("-inf")
        self._next_poll = float("-inf")
        self.reads = 0
        self.errors = 0

    def regime_at(self, now: float) -> Regime:
        if now >= self._next_poll:
            self._next_poll = now + self.poll_s
            self.refresh()
        if self.item is None or now >= self._valid_until:
            return Regime.NOTHING
        return self.item.regime

    def refresh(self) -> None:
        """Read the item now."""
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
            self.item, self._valid_until = None, float("-inf")
            return
        try:
            item = RegimeItem.from_dict(raw)
        except (KeyError, ValueError, TypeError) as exc:
            self.errors += 1
            log.error("regime item for %s is malformed, treated as nothing: %s (%r)", self.symbol, exc, raw)
            self.item, self._valid_until = None, float("-inf")
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
        self.item, self._valid_until = item, item.valid_until.timestamp()
