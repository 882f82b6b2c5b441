"""The model pointer: which ensemble each symbol uses (an SSM parameter holding one JSON object).

`{"CL": {"key": "models/CL/ensemble-<version>.onnx", "version": "<version>", "promoted_at": "...",
"scores": {"trend_auc": 0.55, ...}}, ...}`. The train function writes it, the regime function reads it;
both parse it here. An entry is checked only when its symbol is asked for, so that one broken entry
never costs another symbol its model; entries are kept as written when another one changes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any


class PointerError(ValueError):
    """A pointer (or one symbol's entry) that breaks the contract; the message names what is wrong."""


@dataclass(frozen=True, slots=True)
class PointerEntry:
    """One symbol's current model: its S3 key in the models bucket and what it scored when promoted."""

    key: str
    version: str = ""
    promoted_at: str = ""
    scores: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, symbol: str, raw: object) -> PointerEntry:
        """Validate one entry; PointerError names the symbol and the field."""
        if not isinstance(raw, dict):
            raise PointerError(f"{symbol}: entry must be a JSON object, got {raw!r}")
        key = raw.get("key")
        if not isinstance(key, str) or not key.endswith(".onnx"):
            raise PointerError(f"{symbol}.key: expected the S3 key of an .onnx file, got {key!r}")
        for name in ("version", "promoted_at"):
            if not isinstance(raw.get(name, ""), str):
                raise PointerError(f"{symbol}.{name}: expected a string, got {raw[name]!r}")
        scores = raw.get("scores", {})
        if not isinstance(scores, dict):
            raise PointerError(f"{symbol}.scores: expected an object of numbers, got {scores!r}")
        for name, value in scores.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise PointerError(f"{symbol}.scores.{name}: expected a finite number, got {value!r}")
        return cls(
            key=key,
            version=str(raw.get("version", "")),
            promoted_at=str(raw.get("promoted_at", "")),
            scores={str(k): float(v) for k, v in scores.items()},
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "version": self.version,
            "promoted_at": self.promoted_at,
            "scores": dict(self.scores),
        }


@dataclass(frozen=True, slots=True)
class ModelPointer:
    """Every symbol's entry, as stored (raw), validated per symbol on access."""

    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str | bytes) -> ModelPointer:
        """Parse the parameter's value; it must be a JSON object keyed by symbol."""
        try:
            value = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PointerError(f"pointer: not valid JSON ({exc})") from exc
        if not isinstance(value, dict):
            raise PointerError(f"pointer: expected a JSON object keyed by symbol, got {type(value).__name__}")
        return cls(value)

    def entry(self, symbol: str) -> PointerEntry | None:
        """The symbol's entry, None when it has none; PointerError when its entry is broken."""
        if symbol not in self.raw:
            return None
        return PointerEntry.from_dict(symbol, self.raw[symbol])

    def with_entry(self, symbol: str, entry: PointerEntry) -> ModelPointer:
        """A copy with `symbol` pointing at `entry`; every other entry is kept byte for byte."""
        return ModelPointer({**self.raw, symbol: entry.to_dict()})

    def to_json(self) -> str:
        return json.dumps(self.raw, sort_keys=True)
