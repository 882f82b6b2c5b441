"""EventBridge schedule expressions (`cron(...)`, `rate(...)`) evaluated on any clock, virtual or real."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

_DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTH_NAMES = {m: i + 1 for i, m in enumerate(_MONTHS)}
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")


class ScheduleError(ValueError):
    """A schedule expression this evaluator does not understand (the message quotes it)."""


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int] | None:
    """Values a cron field allows; None means any (`*` or `?`)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", ""):
            start, stop = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, stop = _value(a, names), _value(b, names)
        else:
            start = _value(part, names)
            stop = high if "/" in text else start
        values.update(range(start, stop + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int] | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    return int(text)


@dataclass(frozen=True)
class Schedule:
    """One schedule expression; `due(after, until)` lists the minutes it fires in (after, until]."""

    expression: str
    minutes: frozenset[int] | None = None
    hours: frozenset[int] | None = None
    days: frozenset[int] | None = None
    months: frozenset[int] | None = None
    weekdays: frozenset[int] | None = None  # 1 = Sunday ... 7 = Saturday, as EventBridge counts
    every: timedelta | None = None

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        rate = _RATE.match(expression)
        if rate:
            n, unit = int(rate.group(1)), rate.group(2).rstrip("s")
            return cls(expression, every=timedelta(**{f"{unit}s": n}))
        cron = _CRON.match(expression)
        if not cron:
            raise ScheduleError(f"not a schedule expression: {expression!r}")
        fields = cron.group(1).split()
        if len(fields) != 6:
            raise ScheduleError(f"cron needs 6 fields (min hour day month weekday year): {expression!r}")
        try:
            return cls(
                expression,
                minutes=_field(fields[0], 0, 59),
                hours=_field(fields[1], 0, 23),
                days=_field(fields[2], 1, 31),
                months=_field(fields[3], 1, 12, _MONTH_NAMES),
                weekdays=_field(fields[4], 1, 7, _DAY_NAMES),
            )
        except ValueError as exc:
            raise ScheduleError(f"cannot read {expression!r}: {exc}") from exc

    def matches(self, t: datetime) -> bool:
        """True if the schedule fires at minute `t` (UTC)."""
        if self.every is not None:
            step = int(self.every.total_seconds() // 60)
            return (int(t.timestamp()) // 60) % step == 0
        weekday = t.isoweekday() % 7 + 1  # Monday=1..Sunday=7 -> Sunday=1..Saturday=7
        checks = (
            (self.minutes, t.minute),
            (self.hours, t.hour),
            (self.days, t.day),
            (self.months, t.month),
            (self.weekdays, weekday),
        )
        return all(allowed is None or value in allowed for allowed, value in checks)

    def due(self, after: datetime, until: datetime) -> Iterator[datetime]:
        """Every firing minute in (after, until], in order."""
        t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while t <= until:
            if self.matches(t):
                yield t
            t += timedelta(minutes=1)
