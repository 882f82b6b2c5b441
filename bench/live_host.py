"""The live host (`regime-trader run`): tick latency with the cloud attached, journal speed, restart time.

1. Per-tick decision latency (event in -> commands sent, median and p99) over 4 hours of synthetic CL on
   the sim broker at 600x real time, with every cloud adapter attached to a local endpoint (moto server,
   template.yaml deployed by the local cloud): bars to Kinesis, the journal shipped to Firehose, the kill
   switch read from SSM, the regime read from DynamoDB; beside the same run with no cloud.
2. Journal throughput: fills appended and fsynced one by one (as the session does), and in batches of 100.
3. Restart: a host process killed with SIGKILL while a position is open, and a new one started on the same
   state: seconds from the kill to its startup line, and to "reconciled with the broker" (trading again).

Run: `.venv/bin/python -m bench live_host` (about 2 minutes); figures in bench/results/live_host.json.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.results import percentiles_us, write_results
from regime.contracts import Fill, Regime, Role, Side
from trader_host.assembly.live_host import assemble
from trader_host.cli import build_parser
from trading_engine.journal.trade_journal import TradeJournal

REPO = Path(__file__).resolve().parents[1]
MARKET = ["--synthetic-days", "1", "--seed", "3"]
PACED = ["--pace", "600", "--minutes", "240"]


def tick_latency(state: Path, cloud: list[str]) -> dict[str, Any]:
    args = build_parser().parse_args(
        ["run", *cloud, "--regime", "trend", "--state-dir", str(state), *MARKET, *PACED]
    )
    host = assemble(args)
    asyncio.run(host.session.run())
    host.close()
    figures: dict[str, Any] = dict(percentiles_us(host.session.tick_latency_s))
    figures["max_us"] = round(max(host.session.tick_latency_s) * 1e6, 1)
    figures["jobs"] = {j.name: {"runs": j.runs, "busy_s": round(j.busy_s, 2)} for j in host.session.jobs}
    return figures


def journal_throughput(folder: Path, n: int = 2000) -> dict[str, float]:
    ts, price, fee = datetime(2026, 1, 13, tzinfo=UTC), Decimal("70.01"), Decimal("1.42")
    fills = [
        Fill(
            f"x{k}",
            f"o{k}",
            "CL",
            Side.BUY,
            1,
            price,
            ts,
            fee,
            Regime.RANGE,
            0.0,
            Role.ENTRY,
        )
        for k in range(n)
    ]
    journal = TradeJournal(folder / "one.journal")
    start = time.perf_counter()
    for f in fills:
        journal.append([f])
    one = time.perf_counter() - start
    batch = TradeJournal(folder / "batch.journal")
    start = time.perf_counter()
    for k in range(0, n, 100):
        batch.append(fills[k : k + 100])
    many = time.perf_counter() - start
    return {"fills_per_s_one_by_one": round(n / one), "fills_per_s_batches_of_100": round(n / many)}


def restart_time(state: Path, outputs: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'layers' / 'regime'}:{REPO}"}
    command = [sys.executable, "-m", "trader_host.cli", "run", "--stack-outputs", str(outputs)]
    command += ["--regime", "trend", "--state-dir", str(state), *MARKET, "--pace", "600"]
    first = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = state / "CL.journal"
    while True:
        records = [(e.kind, e.record) for e in TradeJournal(journal).read()[0]] if journal.exists() else []
        if len([r for k, r in records if k == "round_trip"]) >= 1 and records[-1][1].get("role") == "entry":
            break
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    first.wait()
    second = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    figures: dict[str, float] = {}
    assert second.stdout is not None
    for line in second.stdout:
        if line.startswith("regime-trader run:") and "to_startup_line_s" not in figures:
            figures["to_startup_line_s"] = round(time.monotonic() - killed, 2)
        if "reconciled with the broker" in line:
            figures["to_trading_again_s"] = round(time.monotonic() - killed, 2)
            break
    second.send_signal(signal.SIGTERM)
    second.communicate(timeout=60)
    return figures


def main() -> None:
    from bench._pipeline import deployed_stack

    logging.basicConfig(level=logging.WARNING)
    with deployed_stack() as (folder, outputs):
        sim_only = tick_latency(folder / "alone", ["--no-cloud"])
        print(f"per-tick decision, sim only:        {sim_only}")
        attached = tick_latency(folder / "cloud", ["--stack-outputs", str(outputs)])
        print(f"per-tick decision, cloud attached:  {attached}")
        throughput = journal_throughput(folder)
        print(f"journal (fsync per append): {throughput}")
        restart = restart_time(folder / "restart", outputs)
        print(f"SIGKILL -> restarted host: {restart}")
    write_results(
        "live_host",
        {
            "tick_latency_sim_only": sim_only,
            "tick_latency_cloud_attached": attached,
            "journal": throughput,
            "restart": restart,
        },
    )


if __name__ == "__main__":
    main()
