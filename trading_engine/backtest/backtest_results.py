"""Backtest figures from round trips, and the side-by-side table that compares regime sources."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from regime.contracts import RoundTrip


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """One backtest: what was traded, how often, and what it earned after fees."""

    name: str
    trades: int
    wins: int
    losses: int
    scratches: int
    avg_win_ticks: float
    avg_loss_ticks: float
    ticks_per_trip: float
    round_turns_per_hour: float
    gross_usd: Decimal
    fees_usd: Decimal
    net_usd: Decimal
    max_drawdown_usd: Decimal
    hours: float
    ticks: int = 0
    bars: int = 0
    seconds: float = 0.0
    exit_reasons: dict[str, int] = field(default_factory=dict)
    loss_limit_days: int = 0  # trading days on which the daily loss limit stopped the column
    risk_caps_lifted: bool = False  # no daily loss limit (--no-risk-caps, or lifted in the config file)
    daily_loss_limit_usd: float = math.inf  # the limit the run traded under
    engine: str = "reference"  # which engine produced it (the fast one gives the same fills)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("gross_usd", "fees_usd", "net_usd", "max_drawdown_usd"):
            out[key] = float(out[key])
        return out

    @property
    def net_usd_per_trip(self) -> float:
        return float(self.net_usd) / self.trades if self.trades else 0.0


@dataclass(frozen=True)
class TripColumns:
    """Closed round trips, one entry per trip in closing order: what the figures are computed from."""

    pnl_ticks: list[int]  # summed over contracts
    qty: list[int]
    gross_usd: list[Decimal]
    fees_usd: list[Decimal]
    exit_reasons: list[str]

    @classmethod
    def of(cls, trips: list[RoundTrip]) -> TripColumns:
        return cls(
            [t.pnl_ticks for t in trips],
            [t.qty for t in trips],
            [t.gross_usd for t in trips],
            [t.fees_usd for t in trips],
            [t.exit_reason.value for t in trips],
        )


def summarize(name: str, trips: list[RoundTrip], hours: float, **extra: Any) -> BacktestResult:
    """Figures of one run from its round-trip records."""
    return summarize_columns(name, TripColumns.of(trips), hours, **extra)


def summarize_columns(name: str, trips: TripColumns, hours: float, **extra: Any) -> BacktestResult:
    """Figures of one run; ticks are per contract (a trip's ticks divided by its quantity)."""
    per_contract = [p / q for p, q in zip(trips.pnl_ticks, trips.qty, strict=True)]
    wins = [p for p in per_contract if p > 0]
    losses = [p for p in per_contract if p < 0]
    equity, peak, drawdown = Decimal(0), Decimal(0), Decimal(0)
    for gross_usd, fees_usd in zip(trips.gross_usd, trips.fees_usd, strict=True):
        equity += gross_usd - fees_usd
        peak = max(peak, equity)
        drawdown = max(drawdown, peak - equity)
    reasons: dict[str, int] = {}
    for reason in trips.exit_reasons:
        reasons[reason] = reasons.get(reason, 0) + 1
    gross = sum(trips.gross_usd, Decimal(0))
    fees = sum(trips.fees_usd, Decimal(0))
    n = len(per_contract)
    return BacktestResult(
        name=name,
        trades=n,
        wins=len(wins),
        losses=len(losses),
        scratches=n - len(wins) - len(losses),
        avg_win_ticks=sum(wins) / len(wins) if wins else 0.0,
        avg_loss_ticks=sum(losses) / len(losses) if losses else 0.0,
        ticks_per_trip=sum(per_contract) / n if n else 0.0,
        round_turns_per_hour=n / hours if hours > 0 else 0.0,
        gross_usd=gross,
        fees_usd=fees,
        net_usd=gross - fees,
        max_drawdown_usd=drawdown,
        hours=hours,
        exit_reasons=reasons,
        **extra,
    )


# (label, attribute, format): every P&L label says whether fees are in (net) or not (gross).
_ROWS: list[tuple[str, str, str]] = [
    ("trades", "trades", "{:d}"),
    ("wins", "wins", "{:d}"),
    ("gross_avg_win_ticks", "avg_win_ticks", "{:+.2f}"),
    ("losses", "losses", "{:d}"),
    ("gross_avg_loss_ticks", "avg_loss_ticks", "{:+.2f}"),
    ("scratches", "scratches", "{:d}"),
    ("gross_ticks_per_trip", "ticks_per_trip", "{:+.3f}"),
    ("net_usd_per_trip", "net_usd_per_trip", "{:+,.2f}"),
    ("round_turns_per_hour", "round_turns_per_hour", "{:.2f}"),
    ("gross_usd", "gross_usd", "{:,.2f}"),
    ("fees_usd", "fees_usd", "{:,.2f}"),
    ("net_usd", "net_usd", "{:,.2f}"),
    ("net_max_drawdown_usd", "max_drawdown_usd", "{:,.2f}"),
    ("loss_limit_days", "loss_limit_days", "{:d}"),
]


def risk_caps_cell(r: BacktestResult) -> str:
    """What the run's daily loss limit was: LIFTED, or the limit itself."""
    if r.risk_caps_lifted or not math.isfinite(r.daily_loss_limit_usd):
        return "LIFTED"
    return f"{r.daily_loss_limit_usd:,.0f} USD/day"


def table(results: list[BacktestResult]) -> str:
    """The side-by-side table: one column per regime source."""
    width = max(16, *(len(r.name) + 2 for r in results))
    lines = ["metric".ljust(22) + "".join(r.name.rjust(width) for r in results)]
    for label, key, fmt in _ROWS:
        cells = []
        for r in results:
            value = getattr(r, key)
            cells.append(fmt.format(float(value) if isinstance(value, Decimal) else value).rjust(width))
        lines.append(label.ljust(22) + "".join(cells))
    lines.append("risk_caps".ljust(22) + "".join(risk_caps_cell(r).rjust(width) for r in results))
    return "\n".join(lines)


def ml_capture(results: list[BacktestResult]) -> dict[str, Any] | None:
    """The value of the ML: the share of the hindsight P&L it captures, gross and net, against the true
    regime where there is one (synthetic data), else against the labels known in hindsight."""
    by_name = {r.name: r for r in results}
    ml, truth = by_name.get("ml"), by_name.get("truth") or by_name.get("hindsight")
    if ml is None or truth is None:
        return None
    out: dict[str, Any] = {"against": "true-regime" if truth.name == "truth" else "hindsight-label"}
    for key in ("gross_usd", "net_usd"):
        # A share of a loss means nothing: only a positive hindsight P&L can be captured.
        denominator = float(getattr(truth, key))
        out[key] = float(getattr(ml, key)) / denominator if denominator > 0 else float("nan")
    return out


def to_json(results: list[BacktestResult], meta: dict[str, Any]) -> str:
    return json.dumps(
        {"meta": meta, "results": [r.to_dict() for r in results], "ml_capture": ml_capture(results)}, indent=2
    )
