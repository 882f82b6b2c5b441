"""The regime function's settings, from the environment the template gives it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import regime
from regime_aws.symbols import configured_symbols

DEFAULT_LAYER_MODEL = Path(regime.__file__).parent / "model" / "ensemble.onnx"


@dataclass(frozen=True, slots=True)
class Settings:
    symbols: tuple[str, ...]
    bars_table: str
    regime_table: str
    history_table: str
    delivery_stream: str
    models_bucket: str
    pointer_parameter: str
    window_minutes: int
    bar_wait_seconds: float
    bar_poll_seconds: float
    history_ttl_days: int
    pointer_max_age: int
    max_event_ahead: timedelta
    read_threads: int
    layer_model: Path

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            symbols=configured_symbols(),
            bars_table=env["BARS_TABLE"],
            regime_table=env["REGIME_TABLE"],
            history_table=env["REGIME_HISTORY_TABLE"],
            delivery_stream=env["REGIMES_DELIVERY_STREAM"],
            models_bucket=env["MODELS_BUCKET"],
            pointer_parameter=env["MODEL_POINTER_PARAMETER"],
            window_minutes=int(env.get("WINDOW_MINUTES", "80")),
            bar_wait_seconds=float(env.get("BAR_WAIT_SECONDS", "20")),
            bar_poll_seconds=float(env.get("BAR_POLL_SECONDS", "1")),
            history_ttl_days=int(env.get("HISTORY_TTL_DAYS", "400")),
            pointer_max_age=int(env.get("POINTER_MAX_AGE_SECONDS", "300")),
            max_event_ahead=timedelta(seconds=float(env.get("MAX_EVENT_AHEAD_SECONDS", "60"))),
            read_threads=int(env.get("READ_THREADS", "8")),
            layer_model=Path(env.get("LAYER_MODEL_PATH", str(DEFAULT_LAYER_MODEL))),
        )
