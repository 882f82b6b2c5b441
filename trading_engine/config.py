"""The host's configuration: one TOML file (`config/strategy.toml`), parsed into typed, validated sections.

A wrong key or value raises ConfigError naming the section, the key and what was expected.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from regime.contracts.zscore_window import ZSCORE_WINDOW_BARS

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "config" / "strategy.toml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
StopExit = Literal["passive", "touch", "market"]
STOP_EXIT_MODES: tuple[str, ...] = get_args(StopExit)
RestartPosition = Literal["flatten", "adopt"]
RESTART_POSITIONS: tuple[str, ...] = get_args(RestartPosition)


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the offending key."""


@dataclass(frozen=True, slots=True)
class StrategyConfig:
    lookback_bars: int = ZSCORE_WINDOW_BARS  # the model's z-score feature window unless set otherwise
    z_thresh: float = 2.0
    z_thresh_up: float = 0.5
    z_target: float = 0.2
    stop_offset_ticks: int = 4
    reset_gap_minutes: int = 30
    # Exits in units of volatility (0 = off): the trailing stop and a price target as multiples of the ATR
    # of the last `atr_bars` minute bars at the entry fill, in whole ticks (the tick offsets until it exists).
    stop_atr: float = 0.0
    target_atr: float = 0.0
    atr_bars: int = 14
    # The wider family, each off by default (issue 17 item 7; both engines, `sweep --grid` keys):
    # no new entry while the decided regime's vote confidence (the sum of its agreeing models' probabilities,
    # 0..3, regime.vote) is below min_confidence; a fixed regime or labels carry none, so it does not apply;
    min_confidence: float = 0.0
    # entries only inside these "HH:MM-HH:MM" windows of exchange time (the instrument's session time zone;
    # a window whose end is before its start runs past midnight); () = at any time;
    entry_windows: tuple[str, ...] = ()
    # a position still open after this many completed minute bars since its entry fill is closed, exit
    # reason max-hold (0 = no limit);
    max_hold_bars: int = 0
    # entries only while the percentile of the current ATR (atr_bars) among the last atr_pct_bars ATR values
    # is inside [atr_pct_low, atr_pct_high] (0 and 100: off).
    atr_pct_low: float = 0.0
    atr_pct_high: float = 100.0
    atr_pct_bars: int = 390

    @property
    def atr_band_on(self) -> bool:
        """True when the ATR percentile band filters entries."""
        return self.atr_pct_low > 0 or self.atr_pct_high < 100

    def check(self) -> None:
        _require(self.lookback_bars >= 2, "strategy.lookback_bars", "at least 2 (an unbiased sd needs 2)")
        _require(self.z_thresh > 0, "strategy.z_thresh", "positive")
        _require(self.z_thresh_up >= 0, "strategy.z_thresh_up", ">= 0")
        _require(0 <= self.z_target < self.z_thresh, "strategy.z_target", "in [0, z_thresh)")
        _require(self.stop_offset_ticks >= 1, "strategy.stop_offset_ticks", ">= 1")
        _require(self.reset_gap_minutes >= 1, "strategy.reset_gap_minutes", ">= 1")
        _require(self.stop_atr >= 0, "strategy.stop_atr", ">= 0 (0: the tick offset)")
        _require(self.target_atr >= 0, "strategy.target_atr", ">= 0 (0: no price target)")
        _require(self.atr_bars >= 1, "strategy.atr_bars", ">= 1")
        _require(0 <= self.min_confidence <= 3, "strategy.min_confidence", "in [0, 3] (0: off)")
        entry_window_minutes(self.entry_windows)
        _require(self.max_hold_bars >= 0, "strategy.max_hold_bars", ">= 0 (0: no limit)")
        _require(
            0 <= self.atr_pct_low <= self.atr_pct_high <= 100,
            "strategy.atr_pct_low",
            "0 <= atr_pct_low <= atr_pct_high <= 100",
        )
        _require(self.atr_pct_bars >= 1, "strategy.atr_pct_bars", ">= 1")


def entry_window_minutes(windows: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """`strategy.entry_windows` ("HH:MM-HH:MM") as (start, end) minutes of the day; ConfigError if bad."""
    if not isinstance(windows, tuple) or not all(isinstance(w, str) for w in windows):
        raise ConfigError(f'strategy.entry_windows: expected a list of "HH:MM-HH:MM", got {windows!r}')
    out = []
    for window in windows:
        start, sep, end = window.partition("-")
        bad = ConfigError(f'strategy.entry_windows: {window!r} is not "HH:MM-HH:MM" (start != end)')
        try:
            a, b = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
        except ValueError:
            raise bad from None
        if not sep or a == b:
            raise bad
        out.append((a.hour * 60 + a.minute, b.hour * 60 + b.minute))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ExecutionConfig:
    order_qty: int = 1
    fill_timeout_s: float = 5.0
    cancel_timeout_s: float = 3.0
    status_retry_s: float = 3.0
    # How a trailing-stop exit is sent: "passive" (the article: limit at the far side, stale -> market),
    # "touch" (limit at the near side: marketable, never worse than the touch) or "market" (at once).
    stop_exit: StopExit = "passive"

    def check(self) -> None:
        _require(self.order_qty >= 1, "execution.order_qty", ">= 1")
        for name in ("fill_timeout_s", "cancel_timeout_s", "status_retry_s"):
            _require(getattr(self, name) > 0, f"execution.{name}", "positive")
        _require(
            self.stop_exit in STOP_EXIT_MODES,
            "execution.stop_exit",
            f"one of {', '.join(STOP_EXIT_MODES)} (got {self.stop_exit!r})",
        )


@dataclass(frozen=True, slots=True)
class Blackout:
    """No new entry on `days` between `start` and `end` (local time in `tz`)."""

    days: tuple[str, ...]
    start: time
    end: time
    tz: str = "America/New_York"


@dataclass(frozen=True, slots=True)
class RiskConfig:
    max_position: int = 1
    # The day's loss limit, per instrument: this many ticks per contract of max_position (30: 300 USD on CL,
    # 30 USD on MCL, 37.50 USD on MES), unless max_daily_loss_usd names a dollar figure.
    max_daily_loss_ticks: float = 30.0
    max_daily_loss_usd: float | None = None
    max_orders_per_minute: int = 6
    no_entry_before_break_minutes: float = 10.0
    flatten_before_break_minutes: float = 2.0
    max_quote_age_s: float = 30.0
    kill_switch_poll_s: float = 5.0
    shutdown_timeout_s: float = 30.0
    # A position found open at a restart: "flatten" it at market, or "adopt" it (trailing stop re-armed).
    restart_position: RestartPosition = "flatten"
    blackout: tuple[Blackout, ...] = ()

    def daily_loss_limit_usd(self, tick_value_usd: Decimal | float) -> float:
        """The day's loss limit in USD for an instrument with this tick value."""
        if self.max_daily_loss_usd is not None:
            return float(self.max_daily_loss_usd)
        return self.max_daily_loss_ticks * float(tick_value_usd) * self.max_position

    def check(self) -> None:
        _require(self.max_position >= 1, "risk.max_position", ">= 1")
        _require(self.max_daily_loss_ticks > 0, "risk.max_daily_loss_ticks", "positive")
        usd = self.max_daily_loss_usd
        _require(
            usd is None or (isinstance(usd, int | float) and not isinstance(usd, bool) and usd > 0),
            "risk.max_daily_loss_usd",
            "a positive number (or absent: max_daily_loss_ticks of the instrument)",
        )
        _require(self.max_orders_per_minute >= 1, "risk.max_orders_per_minute", ">= 1")
        _require(
            self.no_entry_before_break_minutes >= self.flatten_before_break_minutes >= 0,
            "risk.no_entry_before_break_minutes",
            ">= flatten_before_break_minutes >= 0",
        )
        _require(self.kill_switch_poll_s > 0, "risk.kill_switch_poll_s", "positive")
        _require(
            self.restart_position in RESTART_POSITIONS,
            "risk.restart_position",
            f"one of {', '.join(RESTART_POSITIONS)} (got {self.restart_position!r})",
        )


@dataclass(frozen=True, slots=True)
class FeesConfig:
    schedule: str = "tiered"


@dataclass(frozen=True, slots=True)
class SimConfig:
    ack_latency_s: float = 0.05
    slippage_ticks: int = 0
    spread_ticks: int = 1
    # Market orders also slip this many ATRs (of the last slippage_atr_bars bars, whole ticks, half up).
    slippage_atr: float = 0.0
    slippage_atr_bars: int = 14

    def check(self) -> None:
        _require(self.ack_latency_s >= 0, "sim.ack_latency_s", ">= 0")
        _require(self.slippage_ticks >= 0, "sim.slippage_ticks", ">= 0")
        _require(self.spread_ticks >= 1, "sim.spread_ticks", ">= 1")
        _require(self.slippage_atr >= 0, "sim.slippage_atr", ">= 0")
        _require(self.slippage_atr_bars >= 1, "sim.slippage_atr_bars", ">= 1")


@dataclass(frozen=True, slots=True)
class CloudConfig:
    """Names of the stack's resources (`--stack-outputs` overrides them) and the host's local state."""

    regime_table: str = "regime"
    regime_poll_s: float = 5.0
    kill_switch_parameter: str = "/regime-trader/dev/kill-switch"
    strategy_config_parameter: str = "/regime-trader/dev/strategy-config"
    model_pointer_parameter: str = "/regime-trader/dev/model-pointer"  # which model decides (live gate)
    bar_stream: str = "regime-trader-bars"
    fills_stream: str = "regime-trader-fills"
    round_trips_stream: str = "regime-trader-round-trips"
    orders_stream: str = "regime-trader-orders"
    risk_events_stream: str = "regime-trader-risk-events"
    state_dir: str = "state"
    publish_batch_size: int = 100
    publish_interval_s: float = 10.0

    def check(self) -> None:
        _require(self.regime_poll_s > 0, "cloud.regime_poll_s", "positive")
        _require(self.publish_batch_size >= 1, "cloud.publish_batch_size", ">= 1")
        _require(self.publish_interval_s > 0, "cloud.publish_interval_s", "positive")


@dataclass(frozen=True, slots=True)
class InstrumentConfig:
    symbol: str = "CL"


@dataclass(frozen=True, slots=True)
class HostConfig:
    """Every section of the configuration file."""

    instrument: InstrumentConfig = field(default_factory=InstrumentConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    risk: RiskConfig = field(default_factory=RiskConfig)
    fees: FeesConfig = field(default_factory=FeesConfig)
    sim: SimConfig = field(default_factory=SimConfig)
    cloud: CloudConfig = field(default_factory=CloudConfig)

    def check(self) -> None:
        self.strategy.check()
        self.execution.check()
        self.risk.check()
        self.sim.check()
        self.cloud.check()


def _require(ok: bool, key: str, expected: str) -> None:
    if not ok:
        raise ConfigError(f"{key}: must be {expected}")


T = TypeVar("T")


def _section[T](cls: type[T], name: str, raw: Any) -> T:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}]: expected a table, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(f"[{name}]: unknown key(s) {', '.join(unknown)}; known: {', '.join(fields)}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        default = getattr(cls(), key)
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)  # TOML and JSON arrays: configs stay hashable
        if isinstance(default, bool) or not isinstance(default, int | float | str):
            values[key] = value
            continue
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(default):
            raise ConfigError(f"{name}.{key}: expected {type(default).__name__}, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):  # JSON's 1e400 parses as inf
            raise ConfigError(f"{name}.{key}: expected a finite number, got {value!r}")
        values[key] = value
    return cls(**values)


def _clock(value: Any, key: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{key}: expected HH:MM, got {value!r}") from None


def _blackouts(raw: Any) -> tuple[Blackout, ...]:
    if not isinstance(raw, list):
        raise ConfigError("risk.blackout: expected an array of tables")
    out = []
    for i, item in enumerate(raw):
        key = f"risk.blackout[{i}]"
        if not isinstance(item, dict) or not {"days", "start", "end"} <= set(item):
            raise ConfigError(f"{key}: expected a table with days, start, end")
        days = tuple(str(d).lower()[:3] for d in item["days"])
        bad = [d for d in days if d not in WEEKDAYS]
        if bad:
            raise ConfigError(f"{key}.days: unknown day(s) {bad}; use {', '.join(WEEKDAYS)}")
        start, end = _clock(item["start"], f"{key}.start"), _clock(item["end"], f"{key}.end")
        if end <= start:
            raise ConfigError(f"{key}: end {end} must be after start {start}")
        out.append(Blackout(days, start, end, str(item.get("tz", "America/New_York"))))
    return tuple(out)


SECTIONS: dict[str, type[Any]] = {
    "instrument": InstrumentConfig,
    "strategy": StrategyConfig,
    "execution": ExecutionConfig,
    "risk": RiskConfig,
    "fees": FeesConfig,
    "sim": SimConfig,
    "cloud": CloudConfig,
}


def parse_config(data: dict[str, Any]) -> HostConfig:
    """Build and validate a HostConfig from decoded TOML."""
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    parts: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        raw = dict(data.get(name, {}))
        blackout = raw.pop("blackout", None) if name == "risk" else None
        section = _section(cls, name, raw)
        if blackout is not None:
            section = dataclasses.replace(section, blackout=_blackouts(blackout))
        parts[name] = section
    config = HostConfig(**parts)
    config.check()
    return config


def with_strategy_overrides(config: HostConfig, overrides: Any, source: str) -> HostConfig:
    """`config` with the [strategy] keys of `overrides` (a JSON object, e.g. the SSM parameter) applied."""
    if not isinstance(overrides, dict):
        raise ConfigError(
            f"{source}: expected a JSON object of [strategy] keys, got {type(overrides).__name__}"
        )
    try:
        strategy = _section(StrategyConfig, "strategy", {**dataclasses.asdict(config.strategy), **overrides})
        strategy.check()
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return dataclasses.replace(config, strategy=strategy)


def load_config(path: Path | str | None = None) -> HostConfig:
    """Read the configuration file (default: config/strategy.toml at the repository root)."""
    p = Path(path) if path is not None else DEFAULT_PATH
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{p}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    return parse_config(data)


# The fields added after evidence records existed: hashed only when they leave their default.
_HASHED_WHEN_SET = (
    "min_confidence",
    "entry_windows",
    "max_hold_bars",
    "atr_pct_low",
    "atr_pct_high",
    "atr_pct_bars",
)


def strategy_hash(config: HostConfig) -> str:
    """A short, stable digest of the [strategy] section: what evidence of a configuration is evidence of."""
    import hashlib
    import json

    fields = dataclasses.asdict(config.strategy)
    default = StrategyConfig()
    for name in _HASHED_WHEN_SET:  # a rule left off leaves the hash of the configs before it unchanged
        if fields[name] == getattr(default, name):
            del fields[name]
    canonical = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]
