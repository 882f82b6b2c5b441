"""Research runs without the risk caps: what the strategy does when nothing stops it for the day.

`--no-risk-caps` lifts the daily loss limit and the orders-per-minute limit (the caps that decide how much a
column may trade, and that otherwise stop every column on most days of a bad month). The position limit, the
daily break and the blackout windows stay: they are how the market is traded, not how losses are capped.
"""

from __future__ import annotations

import dataclasses
import math

from trading_engine.config import HostConfig

UNLIMITED_ORDERS_PER_MINUTE = 1_000_000


def without_risk_caps(config: HostConfig) -> HostConfig:
    """`config` with no daily loss limit and no orders-per-minute limit."""
    risk = dataclasses.replace(
        config.risk, max_daily_loss_usd=math.inf, max_orders_per_minute=UNLIMITED_ORDERS_PER_MINUTE
    )
    return dataclasses.replace(config, risk=risk)
