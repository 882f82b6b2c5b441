"""The regime decision: what the `regime` function writes to DynamoDB and the host reads back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from regime.contracts.bar import parse_minute
from regime.contracts.timestamps import format_minute, format_utc


class Regime(StrEnum):
    TREND = "trend"
    RANGE = "range"
    NOTHING = "nothing"


@dataclass(frozen=True, slots=True)
class RegimeItem:
    """One decision for one symbol over the 5 minutes after `window_end`.

    `window_end` is the end of the last bar used (its minute start + 1 minute); an item is written only if
    its `window_end` is newer than the stored one, and a reader treats it as `nothing` after `valid_until`.
    """

    symbol: str
    regime: Regime
    window_end: datetime
    computed_at: datetime
    valid_until: datetime
    model_version: str
    trend_vote: bool = False
    trend_confidence: float = 0.0
    range_vote: bool = False
    range_confidence: float = 0.0
    probabilities: dict[str, float] = field(default_factory=dict)
    reason: str = ""

    def is_valid_at(self, now: datetime) -> bool:
        """True while the decision may still be acted on."""
        return now < self.valid_until

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; DynamoDB writers convert floats to Decimal at their edge."""
        return {
            "symbol": self.symbol,
            "regime": self.regime.value,
            "window_end": format_minute(self.window_end),
            "computed_at": format_utc(self.computed_at),
            "valid_until": format_minute(self.valid_until),
            "model_version": self.model_version,
            "trend_vote": self.trend_vote,
            "trend_confidence": self.trend_confidence,
            "range_vote": self.range_vote,
            "range_confidence": self.range_confidence,
            "probabilities": dict(self.probabilities),
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, item: dict[str, Any]) -> RegimeItem:
        """Inverse of to_dict; accepts Decimal numbers as DynamoDB returns them."""
        computed = datetime.fromisoformat(str(item["computed_at"]).replace("Z", "+00:00"))
        return cls(
            symbol=str(item["symbol"]),
            regime=Regime(item["regime"]),
            window_end=parse_minute(item["window_end"], "window_end"),
            computed_at=computed,
            valid_until=parse_minute(item["valid_until"], "valid_until"),
            model_version=str(item["model_version"]),
            trend_vote=bool(item.get("trend_vote", False)),
            trend_confidence=float(item.get("trend_confidence", 0.0)),
            range_vote=bool(item.get("range_vote", False)),
            range_confidence=float(item.get("range_confidence", 0.0)),
            probabilities={str(k): float(v) for k, v in dict(item.get("probabilities", {})).items()},
            reason=str(item.get("reason", "")),
        )
