"""The sweep's grid: parameter name -> values, checked in full before any work starts.

Keys are [strategy] fields (z_thresh, z_target, stop_offset_ticks, ..., the family's min_confidence,
entry_windows, max_hold_bars, atr_pct_low/high/bars) and label thresholds (`label.range_z`, `label.trend_k`),
which change the hindsight regime the configurations trade under. A value of `entry_windows` is one set of
windows joined by `+` (`09:00-11:30+13:00-14:30`), or `all` for none. Every
combination is validated as the host would validate it (StrategyConfig.check), so an impossible value (a
z_target above z_thresh, a stop of 0 ticks) is an error naming it before the first backtest runs.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any

from regime.labels import LabelSpec
from trading_engine.config import ConfigError, HostConfig, StrategyConfig, entry_window_minutes

LABEL_PREFIX = "label."
_STRATEGY_FIELDS = {f.name: f for f in dataclasses.fields(StrategyConfig)}
_LABEL_FIELDS = {f.name: f for f in dataclasses.fields(LabelSpec) if f.name != "horizon"}


class GridError(ValueError):
    """An invalid grid: the message names the key or value."""


@dataclass(frozen=True)
class Candidate:
    """One configuration of the grid: its index, its parameters, the host config and the label thresholds."""

    index: int
    params: dict[str, Any]
    config: HostConfig
    labels: LabelSpec

    @property
    def key(self) -> str:
        """A stable name for the results store (resuming) and the report."""
        return ",".join(f"{k}={shown(v)}" for k, v in sorted(self.params.items()))


def shown(value: Any) -> str:
    """A grid value as the command line writes it (a set of entry windows joined by `+`, none: `all`)."""
    if isinstance(value, tuple):
        return "+".join(value) or ALL_DAY
    return str(value)


ALL_DAY = "all"


def parse_grid(items: list[str]) -> dict[str, list[Any]]:
    """`name=v1,v2,...` items into a grid, typed like the config field they name."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        name = name.strip()
        if not sep or not values.strip():
            raise GridError(f"grid item {item!r}: expected name=v1,v2,...")
        if name in grid:
            raise GridError(f"grid: {name} given twice")
        grid[name] = [_typed(name, v.strip()) for v in values.split(",") if v.strip()]
    return grid


def _typed(name: str, text: str) -> Any:
    if name.startswith(LABEL_PREFIX):
        field = _LABEL_FIELDS.get(name.removeprefix(LABEL_PREFIX))
    else:
        field = _STRATEGY_FIELDS.get(name)
    if field is None:
        known = [*_STRATEGY_FIELDS, *(LABEL_PREFIX + k for k in _LABEL_FIELDS)]
        raise GridError(f"grid: unknown parameter {name!r}; known: {', '.join(known)}")
    if name == "entry_windows":
        windows = () if text == ALL_DAY else tuple(w.strip() for w in text.split("+"))
        try:
            entry_window_minutes(windows)
        except ConfigError as exc:
            raise GridError(f"grid: {exc} (windows joined by +, or {ALL_DAY})") from None
        return windows
    kind = int if field.type in (int, "int") else float
    try:
        value = kind(text)
    except ValueError:
        raise GridError(f"grid: {name}={text!r} is not a {kind.__name__}") from None
    if not math.isfinite(value):
        raise GridError(f"grid: {name}={text!r} is not a finite number")
    return value


def expand(grid: dict[str, list[Any]], base: HostConfig, base_labels: LabelSpec) -> list[Candidate]:
    """Every combination, each checked; the first impossible one is an error naming it."""
    if not grid:
        raise GridError("grid: empty (give at least one name=v1,v2,... item)")
    names = sorted(grid)
    out = []
    for index, values in enumerate(itertools.product(*(grid[n] for n in names))):
        params = dict(zip(names, values, strict=True))
        strategy = {k: v for k, v in params.items() if not k.startswith(LABEL_PREFIX)}
        labels = {k.removeprefix(LABEL_PREFIX): v for k, v in params.items() if k.startswith(LABEL_PREFIX)}
        try:
            config = dataclasses.replace(base, strategy=dataclasses.replace(base.strategy, **strategy))
            config.strategy.check()
        except ConfigError as exc:
            raise GridError(f"grid: impossible combination {params}: {exc}") from None
        label_spec = dataclasses.replace(base_labels, **labels)
        if label_spec.range_z <= 0 or label_spec.trend_k <= 0:
            raise GridError(f"grid: impossible combination {params}: label thresholds must be positive")
        out.append(Candidate(index, params, config, label_spec))
    return out
