"""The evidence record: what a strategy configuration and a model earned on data they were not chosen on.

`regime-trader evaluate` and `regime-trader sweep` write one; `regime-trader run` on a live account reads
one and refuses to start unless it proves its own strategy configuration and model; the train function
records one per challenger beside its promotion decision. One JSON object, written once, never edited.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# The deflated Sharpe ratio is a probability (that the true Sharpe beats the best of the trials' luck):
# live money needs 95% confidence, the bound a sweep's selection must reach to survive.
LIVE_MIN_DEFLATED_SHARPE = 0.95
EVIDENCE_DIR = Path("artifacts/evidence")  # where evaluate and sweep write theirs unless told otherwise
NO_MODEL = ""  # the model_version of evidence whose regime did not come from a model


class EvidenceError(ValueError):
    """An evidence file that is missing, unreadable or not an evidence record."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """Out-of-sample results of one strategy configuration under one regime source."""

    kind: str  # "evaluate" | "sweep" | "promotion"
    created_at: str
    command: str  # the command line that made it
    symbol: str
    strategy_config_hash: str
    regime: str  # "ml" (the model's decisions) or the fixed/baseline regime traded
    model_version: str  # NO_MODEL unless regime == "ml"
    selection_span: list[str] | None  # [first, end) ISO UTC of the data the configuration was chosen on
    test_span: list[str]  # [first, end) ISO UTC of the out-of-sample data
    oos_net_usd: float
    oos_trips: int
    deflated_sharpe: float | None
    pbo: float | None
    strategy: dict[str, Any] = field(default_factory=dict)

    def shortfalls(self, strategy_config_hash: str, model_version: str, regime: str = "ml") -> list[str]:
        """What this record fails to prove for live money with this configuration, model and regime source
        ("ml", or the fixed regime traded); [] = proven."""
        out = []
        if self.regime != regime:
            out.append(f"the evidence is for regime {self.regime}, this host trades regime {regime}")
        if self.strategy_config_hash != strategy_config_hash:
            out.append(
                f"the evidence is for strategy config {self.strategy_config_hash}, this host trades "
                f"{strategy_config_hash}"
            )
        if self.model_version != model_version:
            mine = model_version or "no model (a fixed regime)"
            theirs = self.model_version or f"no model (regime {self.regime})"
            out.append(f"the evidence is for {theirs}, this host trades {mine}")
        if not self.oos_net_usd > 0:
            out.append(f"out-of-sample net {self.oos_net_usd:,.2f} USD is not above zero")
        dsr = self.deflated_sharpe
        if dsr is None or not dsr >= LIVE_MIN_DEFLATED_SHARPE:
            shown = "unknown" if dsr is None else f"{dsr:.2f}"
            out.append(f"deflated Sharpe {shown} is below {LIVE_MIN_DEFLATED_SHARPE}")
        return out

    def to_json(self) -> str:
        data = asdict(self)
        for key in ("deflated_sharpe", "pbo"):  # NaN is not JSON
            if data[key] is not None and not math.isfinite(data[key]):
                data[key] = None
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Evidence:
        try:
            data = json.loads(text)
            return cls(**data)
        except (ValueError, TypeError) as exc:
            raise EvidenceError(f"not an evidence record: {exc}") from None

    @classmethod
    def load(cls, path: Path) -> Evidence:
        try:
            text = path.read_text()
        except OSError as exc:
            raise EvidenceError(f"evidence {path}: unreadable ({exc.strerror or exc})") from None
        try:
            return cls.from_json(text)
        except EvidenceError as exc:
            raise EvidenceError(f"evidence {path}: {exc}") from None

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n")
        return path
