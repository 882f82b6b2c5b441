"""Backtest figures from round trips, and the side-by-side table that compares regime sources."""

from __future__ import annotations

import json
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
    risk_caps_lifted: bool = False  # --no-risk-caps: no daily loss limit, no orders-per-minute limit
    engine: str = "reference"  # which engine produced it (the fast one gives the same fills)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("gross_usd", "fees_usd", "net_usd", "max_drawdown_usd"):
            out[key] = float(out[key])
        return out


def summarize(name: str, trips: list[RoundTrip], hours: float, **extra: Any) -> BacktestResult:
    """Figures of one run; ticks are per contract (a trip's ticks divided by its quantity)."""
    per_contract = [t.pnl_ticks / t.qty for t in trips]
    wins = [p for p in per_contract if p > 0]
    losses = [p for p in per_contract if p < 0]
    equity, peak, drawdown = Decimal(0), Decimal(0), Decimal(0)
    for t in trips:
        equity += t.net_usd
        peak = max(peak, equity)
        drawdown = max(drawdown, peak - equity)
    reasons: dict[str, int] = {}
    for t in trips:
        reasons[t.exit_reason.value] = reasons.get(t.exit_reason.value, 0) + 1
    gross = sum((t.gross_usd for t in trips), Decimal(0))
    fees = sum((t.fees_usd for t in trips), Decimal(0))
    return BacktestResult(
        name=name,
        trades=len(trips),
        wins=len(wins),
        losses=len(losses),
        scratches=len(trips) - len(wins) - len(losses),
        avg_win_ticks=sum(wins) / len(wins) if wins else 0.0,
        avg_loss_ticks=sum(losses) / len(losses) if losses else 0.0,
        ticks_per_trip=sum(per_contract) / len(trips) if trips else 0.0,
        round_turns_per_hour=len(trips) / hours if hours > 0 else 0.0,
        gross_usd=gross,
        fees_usd=fees,
        net_usd=gross - fees,
        max_drawdown_usd=drawdown,
        hours=hours,
        exit_reasons=reasons,
        **extra,
    )


_ROWS: list[tuple[str, str]] = [
    ("trades", "{:d}"),
    ("wins", "{:d}"),
    ("avg_win_ticks", "{:+.2f}"),
    ("losses", "{:d}"),
    ("avg_loss_ticks", "{:+.2f}"),
    ("scratches", "{:d}"),
    ("ticks_per_trip", "{:+.3f}"),
    ("round_turns_per_hour", "{:.2f}"),
    ("gross_usd", "{:,.2f}"),
    ("fees_usd", "{:,.2f}"),
    ("net_usd", "{:,.2f}"),
    ("max_drawdown_usd", "{:,.2f}"),
    ("loss_limit_days", "{:d}"),
]


def table(results: list[BacktestResult]) -> str:
    """The side-by-side table: one column per regime source."""
    width = max(12, *(len(r.name) + 2 for r in results))
    lines = ["metric".ljust(22) + "".join(r.name.rjust(width) for r in results)]
    for key, fmt in _ROWS:
        cells = []
        for r in results:
            value = getattr(r, key)
            cells.append(fmt.format(float(value) if isinstance(value, Decimal) else value).rjust(width))
        lines.append(key.ljust(22) + "".join(cells))
    lines.append(
        "risk_caps".ljust(22)
        + "".join(("LIFTED" if r.risk_caps_lifted else "on").rjust(width) for r in results)
    )
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
