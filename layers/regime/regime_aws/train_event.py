"""The train function's event (the weekly schedule's constant input, or an on-demand request), strictly
typed and read by Powertools' Parser: a wrong type is an error naming the field, never a coercion."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated

from aws_lambda_powertools.utilities.parser import parse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from regime.training import TrainConfig
from regime_aws.events import explain


class TrainEventError(ValueError):
    """The train event asks for something impossible (the message names the field)."""


class ConfigOverrides(BaseModel):
    """TrainConfig's scalar fields, each optional and strictly typed (a test keeps the two in step)."""

    model_config = ConfigDict(strict=True, extra="forbid")
    stride: int | None = Field(default=None, ge=1, le=60)
    mlp_hidden: tuple[int, ...] | None = None
    mlp_max_iter: int | None = Field(default=None, ge=1)
    svm_c: float | None = Field(default=None, gt=0)
    svm_max_samples: int | None = Field(default=None, ge=10)
    gbt_iterations: int | None = Field(default=None, ge=1)
    gbt_learning_rate: float | None = Field(default=None, gt=0, le=1)
    gbt_leaves: int | None = Field(default=None, ge=2)
    folds: int | None = Field(default=None, ge=2, le=20)
    balanced: bool | None = None
    seed: int | None = None


Symbol = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,16}$")]


class TrainEvent(BaseModel):
    """What an on-demand or scheduled invocation may ask for; a wrong type is an error, never coerced."""

    model_config = ConfigDict(strict=True, extra="forbid")
    source: str | None = None
    symbols: list[Symbol] | None = Field(default=None, min_length=1, max_length=100)
    days: int = Field(default=28, ge=2, le=366)
    holdout_days: int = Field(default=7, ge=1, le=90)
    end: date | None = None
    force_promote: bool = False
    config: ConfigOverrides = Field(default_factory=ConfigOverrides)

    @model_validator(mode="after")
    def _holdout_inside(self) -> TrainEvent:
        if self.holdout_days >= self.days:
            raise ValueError(f"holdout_days ({self.holdout_days}) must be fewer than days ({self.days})")
        return self


@dataclass(frozen=True, slots=True)
class Request:
    symbols: tuple[str, ...]
    days: int
    holdout_days: int
    end: date
    force_promote: bool
    config: TrainConfig

    @classmethod
    def from_event(cls, event: object, default_symbols: tuple[str, ...]) -> Request:
        """Validate the event (strict JSON types) into a request; TrainEventError names each wrong field."""
        if not isinstance(event, dict):
            raise TrainEventError(f"event: expected a JSON object, got {type(event).__name__}")
        try:
            # Powertools' Parser, on the JSON text (strict JSON types: its stubs say only a dict)
            parsed: TrainEvent = parse(event=json.dumps(event, default=str), model=TrainEvent)  # type: ignore[call-overload]
        except ValidationError as exc:
            raise TrainEventError(explain(exc)) from exc
        overrides = {k: v for k, v in parsed.config.model_dump().items() if v is not None}
        try:
            config = TrainConfig(**overrides)
        except (TypeError, ValueError) as exc:
            raise TrainEventError(f"config: {exc}") from exc
        return cls(
            tuple(parsed.symbols or default_symbols),
            parsed.days,
            parsed.holdout_days,
            parsed.end or datetime.now(UTC).date(),
            parsed.force_promote,
            config,
        )
