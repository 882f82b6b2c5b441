"""The held-out test as a table (in sample beside out of sample), and as an evidence record."""

from __future__ import annotations

import dataclasses
import shlex
import sys
from datetime import UTC, datetime
from typing import Any

from regime.bar_series import datetime_of
from regime.contracts.evidence import NO_MODEL, Evidence
from regime.contracts.timestamps import format_utc
from trading_engine.config import strategy_hash
from trading_engine.sweep.grid import Candidate, shown
from trading_engine.sweep.sweep_run import SweepSetup


def _opt(x: float | None, fmt: str) -> str:
    return "n/a" if x is None else format(x, fmt)


def _cells(p: dict[str, Any]) -> str:
    ci = p.get("net_usd_per_trip_ci95") or p.get("net_usd_ci95")
    interval = "" if ci is None else f"[{ci[0]:+,.2f}, {ci[1]:+,.2f}]"
    return f"{p['net_usd']:>11,.2f}{p['trips']:>7}{_opt(p['daily_sharpe'], '+.3f'):>8}{interval:>26}"


def print_held_out(held: dict[str, Any]) -> None:
    """In sample (the selection days) beside out of sample (the test days), net of fees."""
    selected = ", ".join(f"{k}={shown(v)}" for k, v in held["selected"].items())
    first = held["columns"][0]
    print(
        f"\nHeld-out test on {held['data']} ({first['out_of_sample']['days']} trading days, touched once): "
        f"the configuration selected on all {first['in_sample']['days']} selection days, {selected}"
    )
    head = f"{'net USD':>11}{'trips':>7}{'Sharpe':>8}{'95% interval':>26}"
    print(f"{'':<22}{'in sample (selection)':^52}{'out of sample (test)':^52}")
    print(f"{'column':<22}{head}{head}")
    for c in held["columns"]:
        print(f"{c['name']:<22}{_cells(c['in_sample'])}{_cells(c['out_of_sample'])}")
    r = held["random"]
    name = f"random ({r['out_of_sample']['seeds']} seeds)"
    print(f"{name:<22}{_cells(r['in_sample'])}{_cells(r['out_of_sample'])}")
    print(
        "(net USD: after fees; Sharpe: of daily net P&L; interval: net USD per round trip, bootstrap 95%, "
        "random: of the seeds' net)"
    )
    print(held["summary"])


def sweep_evidence(
    out: dict[str, Any], selection: SweepSetup, test: SweepSetup, symbol: str, chosen: Candidate
) -> Evidence:
    """The record `run` checks: the test's net, the deflated Sharpe and PBO of the selection data."""
    held = out["held_out"]["columns"][0]["out_of_sample"]
    model = ""
    if selection.model_path is not None:
        from regime.inference import RegimeModel  # onnxruntime: imported only for a model

        model = RegimeModel.load(selection.model_path).version
    return Evidence(
        kind="sweep",
        created_at=format_utc(datetime.now(UTC)),
        command=shlex.join(["regime-trader", *sys.argv[1:]]),
        symbol=symbol,
        strategy_config_hash=strategy_hash(chosen.config),
        regime=selection.regime,
        model_version=model if selection.regime == "ml" else NO_MODEL,
        selection_span=_span(selection),
        test_span=_span(test),
        oos_net_usd=float(held["net_usd"]),
        oos_trips=int(held["trips"]),
        deflated_sharpe=out["deflated_sharpe"],
        pbo=out["pbo"],
        strategy=dataclasses.asdict(chosen.config.strategy),
    )


def _span(setup: SweepSetup) -> list[str]:
    minutes = setup.series.minute
    return [datetime_of(int(minutes[0])).isoformat(), datetime_of(int(minutes[-1]) + 1).isoformat()]
