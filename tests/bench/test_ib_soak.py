"""The paper-trading soak, short: the first six hours of a simulated day (its ticks as they come, from the
Sunday evening open past midnight UTC, when the roll comes due) through the fake IB Gateway with every fault
on its schedule (a host kill with a position open, host restarts, a gateway restart, 1100/1102, a competing
session, partial fills, the roll), and nothing lost. The whole days are `python -m bench ib_soak`'s."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.ib_soak import soak


@pytest.mark.slow
def test_six_hours_of_faults_lose_nothing_and_end_flat_with_the_gateways_pnl(tmp_path: Path) -> None:
    report = asyncio.run(asyncio.wait_for(soak(1, tmp_path, hours=6), 600))
    assert report.failures == []
    assert report.segments == 3 and report.kills == 1  # the host killed once with a position open
    assert report.gateway_executions >= 10 and report.faults["partial fills"] >= 1
    assert report.faults["notice 1100 connectivity lost"] == 1
    assert report.faults["notice 10197 competing live session"] == 1
    assert (report.missing, report.duplicated, report.unknown) == ([], [], [])
    assert report.journal_fills == report.gateway_executions and report.final_position == 0
    assert report.journal_net_usd == report.gateway_net_usd != 0
    assert report.months_traded == ["CLG6", "CLH6"]  # flat at the last start: rolled
    assert report.clean
