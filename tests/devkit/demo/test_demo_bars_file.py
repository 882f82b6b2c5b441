"""The demo on a bars file (`regime-trader demo --bars FILE --start DAY`): the chosen day of a multi-day
file, and only that day, flows through the real path, and what the host trades was decided from its bars.
The file is MCL's, as in the README's example: the stack is deployed for the file's symbol."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from devkit.demo.cloud import DemoCloud
from devkit.demo.day import Market, build_host, run_day
from regime.bar_series import datetime_of
from regime.contracts import RegimeItem
from regime.synthetic import synthetic_days
from tests.devkit.demo.test_demo_day import lake_lines

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MINUTES = 200


def two_day_file(path: Path) -> Path:
    """Two synthetic sessions as a CSV in the shape of ../shared/data's files."""
    bars = synthetic_days(2, seed=8).bars.to_bars()
    rows = ["ts_utc,open,high,low,close,volume"]
    rows += [f"{b.ts:%Y-%m-%dT%H:%M:00Z},{b.open},{b.high},{b.low},{b.close},{b.volume}" for b in bars]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_the_second_day_of_a_bars_file_through_the_real_path(small_model_path: Path, tmp_path: Path) -> None:
    bars_file = two_day_file(tmp_path / "MCL_1m_two_days.csv")
    minutes = synthetic_days(2, seed=8).bars.minute
    second_session = datetime_of(int(minutes[int(np.argmax(np.diff(minutes))) + 1]))  # after the daily break
    market = Market(1, 0, bars=bars_file, start=second_session)
    assert market.symbol == "MCL"
    with DemoCloud.start(tmp_path / "cloud", market.symbol) as cloud:
        host, clock = build_host(cloud, tmp_path / "state", market, minutes=MINUTES)
        assert host.session.trader.spec.symbol == "MCL"
        cloud.publish_model("MCL", small_model_path)
        run_day(host, clock)
        assert host.session.failure is None
        published = sorted(r["ts"] for r in lake_lines(cloud.bucket, "bars/"))
        fills = lake_lines(cloud.bucket, "fills/")
        decisions = [RegimeItem.from_dict(r) for r in lake_lines(cloud.bucket, "regimes/")]
    assert published and published[0] == second_session.strftime("%Y-%m-%dT%H:%M:00Z")
    assert published[-1] < (second_session + timedelta(minutes=MINUTES)).strftime("%Y-%m-%dT%H:%M:00Z")
    assert decisions and all(d.symbol == "MCL" and second_session <= d.window_end for d in decisions)
    assert any(d.reason == "" for d in decisions)  # real votes, once 80 minutes of the day were published
    booked = host.session.trader.fills()
    assert sorted(r["execution_id"] for r in fills) == sorted(f.execution_id for f in booked)
    assert all(second_session <= f.ts < second_session + timedelta(days=1) for f in booked)
    # MCL's own fees (IBKR tiered: 0.25 commission + 0.27 exchange + 0.02 NFA a side), not the article's CL
    # preset (1.42 a side, ten times as many ticks on a 1-USD tick).
    assert booked and all(f.commission_usd == Decimal("0.54") * f.qty for f in booked)
