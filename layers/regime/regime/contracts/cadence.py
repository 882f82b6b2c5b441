"""The decision cadence: when a regime is decided, and for how long a decision may be acted on.

The regime function runs at every DECISION_EVERY_MINUTES boundary of the clock (template.yaml's
`RegimeSchedule`, `cron(0/5 * * * ? *)`, which a test keeps in step), training samples the same boundaries,
and the backtest replays them. A decision covers the interval after its window; one more minute of
validity lets the next decision land before the current one expires.
"""

from __future__ import annotations

from datetime import timedelta

DECISION_EVERY_MINUTES = 5
DECISION_INTERVAL = timedelta(minutes=DECISION_EVERY_MINUTES)
VALIDITY_MINUTES = DECISION_EVERY_MINUTES + 1
DECISION_VALIDITY = timedelta(minutes=VALIDITY_MINUTES)
