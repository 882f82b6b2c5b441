"""`regime-trader run` as a real process against the local cloud: killed with SIGKILL mid-trade, restarted.

Afterwards every execution the simulated broker made is in the S3 lake exactly once after deduplication,
the host's position matches the broker's, and the restarted host counts the first run's realised loss in
its day (the daily loss limit survives the restart).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from devkit.local_cloud.cloud import LocalCloud
from regime.contracts import BarSource, Regime, RegimeItem, Role
from regime.contracts.cadence import DECISION_VALIDITY
from trader_host.analytics.lake import S3Lake
from trader_host.analytics.local_athena import LocalAthena
from trader_host.assembly.live_host import LiveHost, assemble
from trader_host.cli import build_parser, main
from trader_host.cloud.aws import client, resource
from trader_host.state_folder import StateFolder
from trading_engine.broker.sim.sim_book import SimBook
from trading_engine.execution.money import usd
from trading_engine.journal.trade_journal import TradeJournal

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[3]
MARKET = ["--synthetic-days", "1", "--seed", "3"]
BOOK_ID = "synthetic: 1 sessions, seed 3 (CL)"  # the sim account's market, as `run` names it


@pytest.fixture(scope="module")
def stack_outputs(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).close()
    cloud = LocalCloud.deploy(include=set())  # the host's side only: no schedule fires here
    path = tmp_path_factory.mktemp("cloud") / "outputs.json"
    path.write_text(json.dumps(cloud.stack.described(moto_endpoint)))
    return path


def host(state: Path, outputs: Path, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "trader_host.cli", "run", "--stack-outputs", str(outputs)]
    command += ["--regime", "trend", "--state-dir", str(state), *MARKET, *extra]
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'layers' / 'regime'}:{REPO}"}
    return subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def journal_records(state: Path) -> list[tuple[str, dict[str, Any]]]:
    journal = TradeJournal(state / "CL.journal")
    try:
        return [(e.kind, e.record) for e in journal.read()[0]]
    finally:
        journal.close()


def trades(records: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The fills and round trips among journal records (without order outcomes and risk events)."""
    return [(kind, r) for kind, r in records if kind in ("fill", "round_trip")]


def lake(outputs: Path) -> list[dict[str, Any]]:
    bucket = json.loads(outputs.read_text())["outputs"]["DataLakeBucketName"]
    s3 = client("s3")
    lines: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
            lines += [json.loads(line) for line in body.splitlines() if line.strip()]
    return lines


def test_sigkill_mid_trade_then_restart_loses_nothing(stack_outputs: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = host(state, stack_outputs, "--pace", "600")
    deadline = time.monotonic() + 120
    try:
        while True:  # kill as soon as the journal shows an open position
            assert first.poll() is None, first.communicate()[0][-3000:]
            assert time.monotonic() < deadline, "no trade opened within 2 minutes"
            records = journal_records(state) if (state / "CL.journal").exists() else []
            fills = [r for kind, r in records if kind == "fill"]
            trips = [r for kind, r in records if kind == "round_trip"]
            if len(trips) >= 2 and fills[-1]["role"] == "entry":
                break
            time.sleep(0.01)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    killed_with = SimBook(state / "sim-broker" / "CL.book", BOOK_ID)
    broker_position = sum(
        ex.side.sign * ex.qty for o in killed_with.account.orders.values() for ex in o.executions
    )
    killed_with.close()
    assert broker_position != 0  # killed mid-trade: the broker holds a position
    records = journal_records(state)
    first_net = sum(Decimal(str(r["gross_usd"])) for k, r in records if k == "round_trip") - sum(
        Decimal(str(r["commission_usd"])) for k, r in records if k == "fill"
    )

    second = host(state, stack_outputs)  # virtual clock: the rest of the day as fast as it goes
    out, _ = second.communicate(timeout=300)
    assert second.returncode == 0, out[-3000:]
    banner = next(line for line in out.splitlines() if line.startswith("regime-trader run:"))
    assert f"today {usd(first_net)} USD" in banner  # the day's loss limit starts from the first run's P&L
    assert "restart: flattening position" in out and "session over" in out

    book = SimBook(state / "sim-broker" / "CL.book", BOOK_ID)
    executions = {ex.execution_id for o in book.account.orders.values() for ex in o.executions}
    assert sum(ex.side.sign * ex.qty for o in book.account.orders.values() for ex in o.executions) == 0
    assert "position 0" in out.splitlines()[-1]  # the host agrees: flat
    journaled = [r["execution_id"] for kind, r in journal_records(state) if kind == "fill"]
    assert len(journaled) == len(set(journaled)) and set(journaled) == executions
    landed = lake(stack_outputs)
    lake_fills = {r["execution_id"] for r in landed if "execution_id" in r}
    assert lake_fills == executions  # every fill the broker made, exactly once after deduplication
    trip_ids = {r["trip_id"] for k, r in journal_records(state) if k == "round_trip"}
    assert {r["trip_id"] for r in landed if "trip_id" in r} == trip_ids
    bars = [r for r in landed if r.get("source") == BarSource.SIM.value]
    assert not bars or all(r["symbol"] == "CL" for r in bars)


class NewObjects:
    """The lake's objects written since `before` (the keys then): what the sessions of one test shipped."""

    def __init__(self, lake: S3Lake, before: set[str]) -> None:
        self.lake, self.before = lake, before

    def objects(self, table: str) -> Iterator[tuple[str, bytes]]:
        return ((key, body) for key, body in self.lake.objects(table) if key not in self.before)


def test_two_sessions_from_two_state_folders_into_one_lake_are_both_found_by_the_queries(
    stack_outputs: Path, tmp_path: Path
) -> None:
    # The red team (22.4) and the user path (21.1): ids restarted with each state folder (sim-1, rt-sim-1,
    # CL-r1-1), the queries keep the first copy of an id, and a second session into the same lake vanished.
    s3 = S3Lake(client("s3"), json.loads(stack_outputs.read_text())["outputs"]["DataLakeBucketName"])
    before = {key for table in ("fills", "round_trips", "orders") for key, _ in s3.objects(table)}
    hosts = [host(tmp_path / name, stack_outputs, "--minutes", "180") for name in ("a", "b")]
    for proc in hosts:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out[-3000:]
    fills = [r for name in "ab" for k, r in journal_records(tmp_path / name) if k == "fill"]
    trips = [r for name in "ab" for k, r in journal_records(tmp_path / name) if k == "round_trip"]
    orders = {r["order_id"] for name in "ab" for k, r in journal_records(tmp_path / name) if k == "order"}
    assert trips and len({r["execution_id"] for r in fills}) == len(fills)  # no id shared by the two
    athena = LocalAthena(NewObjects(s3, before))
    assert sum(row["fills"] for row in athena.run("daily_fills").records()) == len(fills)
    outcomes = athena.run("trade_outcomes").records()
    assert sum(row["round_trips"] for row in outcomes) == len(trips)
    assert sum(Decimal(str(row["net_usd"])) for row in outcomes) == sum(
        Decimal(str(r["net_usd"])) for r in trips
    )
    quality = athena.run_sql("SELECT count(DISTINCT order_id) AS n FROM orders").records()
    assert quality == [{"n": len(orders)}]


def test_a_corrupt_fill_line_mid_journal_books_no_phantom_round_trip_at_restart(
    stack_outputs: Path, tmp_path: Path
) -> None:
    # The red team (22.2): one digit of a fill's price changed; the restart quarantined the line, booked the
    # execution again from the broker and wrote a second round trip (exit before entry) beside the intact
    # first: the lake said 3 trips / 31.48 USD where the host said 2 / 14.32.
    s3 = S3Lake(client("s3"), json.loads(stack_outputs.read_text())["outputs"]["DataLakeBucketName"])
    before = {key for table in ("fills", "round_trips") for key, _ in s3.objects(table)}
    state = tmp_path / "state"
    first = host(state, stack_outputs, "--minutes", "120")
    out, _ = first.communicate(timeout=300)
    assert first.returncode == 0 and "position 0" in out.splitlines()[-1], out[-3000:]
    journal = state / "CL.journal"
    lines = journal.read_bytes().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if b'"kind":"fill"' in line and b'"role":"exit"' in line)
    lines[at] = lines[at].replace(b'"price":', b'"price":1', 1)  # one more digit: the checksum fails
    journal.write_bytes(b"".join(lines))
    truth = [r for k, r in journal_records(state) if k == "round_trip"]

    second = host(state, stack_outputs, "--minutes", "5")
    out, _ = second.communicate(timeout=120)
    assert second.returncode == 0, out[-3000:]
    assert f"{len(truth)} round trip(s)" in out.splitlines()[-1] and "rebuilt from the trip" in out
    trips = [r for k, r in journal_records(state) if k == "round_trip"]
    assert trips == truth  # nothing new in the journal ...
    outcomes = LocalAthena(NewObjects(s3, before)).run("trade_outcomes").records()
    assert sum(row["round_trips"] for row in outcomes) == len(truth)  # ... nor in the lake
    assert sum(Decimal(str(row["net_usd"])) for row in outcomes) == sum(
        Decimal(str(r["net_usd"])) for r in truth
    )
    net = sum(Decimal(str(r["net_usd"])) for r in truth)
    assert f"realised net {net} USD" in out.splitlines()[-1]


def test_the_host_trades_the_regime_the_cloud_decided_and_only_while_it_is_valid(
    stack_outputs: Path, tmp_path: Path
) -> None:
    dry = host_in_process(tmp_path / "dry", None, "--no-cloud", "--regime", "trend", "--minutes", "600")
    asyncio.run(dry.session.run())
    first_entry = dry.session.trader.fills()[0]
    boundary = int(first_entry.ts.timestamp() // 300) * 300
    window_end = datetime.fromtimestamp(boundary, tz=UTC)
    item = RegimeItem("CL", Regime.TREND, window_end, window_end, window_end + DECISION_VALIDITY, "v-test")
    table = json.loads(stack_outputs.read_text())["outputs"]["RegimeTableName"]
    resource("dynamodb").Table(table).put_item(
        Item=json.loads(json.dumps(item.to_dict()), parse_float=Decimal)
    )

    live = host_in_process(tmp_path / "live", stack_outputs, "--minutes", "600")
    assert "regime: from the cloud" in live.banner
    asyncio.run(live.session.run())
    entries = [f for f in live.session.trader.fills() if f.role is Role.ENTRY]
    same = (entries[0].ts, entries[0].side, entries[0].price) == (
        first_entry.ts,
        first_entry.side,
        first_entry.price,
    )
    assert same  # the same first trade (another account: another execution id) ...
    assert all(f.regime is Regime.TREND for f in entries)
    end = boundary + DECISION_VALIDITY.total_seconds() + 1  # ... and none once the decision expired
    assert all(boundary <= f.ts.timestamp() <= end for f in entries)


def host_in_process(state: Path, outputs: Path | None, *extra: str) -> LiveHost:
    cloud = ["--stack-outputs", str(outputs)] if outputs else []
    args = build_parser().parse_args(["run", *cloud, "--state-dir", str(state), *MARKET, *extra])
    return assemble(args)


def test_sigterm_mid_trade_flattens_and_exits_cleanly(stack_outputs: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    proc = host(state, stack_outputs, "--pace", "600")
    deadline = time.monotonic() + 120
    try:
        while True:
            assert proc.poll() is None and time.monotonic() < deadline
            records = trades(journal_records(state)) if (state / "CL.journal").exists() else []
            if records and records[-1][0] == "fill" and records[-1][1]["role"] == "entry":
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, out[-3000:]
    assert "session over (a signal): position 0" in out
    book = SimBook(state / "sim-broker" / "CL.book", BOOK_ID)
    assert sum(ex.side.sign * ex.qty for o in book.account.orders.values() for ex in o.executions) == 0
    assert records[-1][1]["execution_id"] in {
        r["execution_id"] for k, r in journal_records(state) if k == "fill"
    }
    # The flatten closed the trip, and it was journaled; then its order's outcome.
    assert trades(journal_records(state))[-1][0] == "round_trip"
    assert journal_records(state)[-1][0] == "order"


def test_strategy_overrides_come_from_ssm_and_a_bad_one_stops_the_start(
    stack_outputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parameter = json.loads(stack_outputs.read_text())["outputs"]["StrategyConfigParameterName"]
    ssm = client("ssm")
    try:
        ssm.put_parameter(Name=parameter, Value='{"z_thresh": 2.5}', Type="String", Overwrite=True)
        host = host_in_process(tmp_path, stack_outputs, "--regime", "range")
        assert host.session.trader.config.strategy.z_thresh == 2.5
        assert host.session.trader.config.strategy.z_target == 0.2  # the rest from the config file
        host.close()
        ssm.put_parameter(Name=parameter, Value='{"z_thres": 2.5}', Type="String", Overwrite=True)
        args = ["run", "--stack-outputs", str(stack_outputs), "--state-dir", str(tmp_path), *MARKET]
        assert main(args) == 2
        assert f"{parameter}: [strategy]: unknown key(s) z_thres" in capsys.readouterr().out
    finally:
        ssm.put_parameter(Name=parameter, Value="{}", Type="String", Overwrite=True)


def test_each_start_gets_a_new_run_number_even_when_its_counter_is_damaged(tmp_path: Path) -> None:
    folder = StateFolder(tmp_path)
    assert [folder.next_run(), folder.next_run()] == [1, 2]
    (tmp_path / "runs").write_text("\x00garbage")
    assert folder.next_run() > 2 and folder.next_run() > 3  # never an order id the broker has seen


def test_a_second_host_on_a_state_folder_in_use_refuses_to_start(stack_outputs: Path, tmp_path: Path) -> None:
    # The red team (22.3): two hosts on one folder both ran, both numbered their executions sim-1..20, and
    # the next start restored 24 of 44 fills and stopped at the loss limit at once.
    state = tmp_path / "state"
    first = host(state, stack_outputs, "--pace", "60")
    try:
        deadline = time.monotonic() + 60
        while not (state / "CL.journal").exists():  # the journal is opened after the folder is taken
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()[0][-3000:]
            time.sleep(0.05)
        second = host(state, stack_outputs)
        out, _ = second.communicate(timeout=60)
        assert second.returncode == 2, out[-3000:]
        assert f"state folder {state} is in use by pid {first.pid} on " in out and "Traceback" not in out
        assert first.poll() is None  # the holder runs on, untouched
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    third = host(state, stack_outputs, "--minutes", "5")  # a dead holder's lock died with it
    out, _ = third.communicate(timeout=120)
    assert third.returncode == 0, out[-3000:]


def test_ids_stay_the_same_across_restarts_of_one_folder_and_differ_between_folders(tmp_path: Path) -> None:
    first = StateFolder(tmp_path / "a")
    prefix = first.order_id_prefix("CL")
    first.release()
    again = StateFolder(tmp_path / "a")
    other = StateFolder(tmp_path / "b")
    assert again.id == first.id != other.id
    assert (prefix, again.order_id_prefix("CL")) == (f"CL-{first.id}-r1-", f"CL-{first.id}-r2-")
    book = SimBook(tmp_path / "a.book", BOOK_ID)
    account = book.account.id
    book.close()
    assert SimBook(tmp_path / "a.book", BOOK_ID).account.id == account  # the broker's ids continue
    assert SimBook(tmp_path / "b.book", BOOK_ID).account.id != account


def test_a_symbol_the_stack_does_not_serve_stops_the_start(
    stack_outputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Its bars would be refused by ingest as an unknown symbol and no regime decided: a host that waits
    # forever for a decision, without a word. The stack says which symbols it serves; the start refuses.
    args = ["run", "--stack-outputs", str(stack_outputs), "--state-dir", str(tmp_path), *MARKET]
    assert main([*args, "--symbol", "MCL"]) == 2
    out = capsys.readouterr().out
    assert "the stack serves CL, not MCL" in out and "Symbols=" in out
    assert not (tmp_path / "MCL.journal").exists()  # refused before anything was started


def _without_aws(home: Path) -> dict[str, str]:
    """This environment without a single AWS variable, nor a ~/.aws to fall back on, nor EC2's metadata."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "HOME": str(home), "AWS_EC2_METADATA_DISABLED": "true"}


def test_the_local_clouds_state_file_is_all_a_host_needs(stack_outputs: Path, tmp_path: Path) -> None:
    # It failed with `You must specify a region`, then `Unable to locate credentials`: the state file now
    # carries the endpoint's region and dummy credentials.
    command = [sys.executable, "-m", "trader_host.cli", "run", "--stack-outputs", str(stack_outputs)]
    command += ["--regime", "trend", "--state-dir", str(tmp_path / "state"), *MARKET, "--minutes", "30"]
    env = {**_without_aws(tmp_path), "PYTHONPATH": f"{REPO / 'layers' / 'regime'}:{REPO}"}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "session over (--minutes)" in done.stdout


def test_real_aws_without_a_region_or_credentials_is_one_line(tmp_path: Path) -> None:
    env = {**_without_aws(tmp_path), "PYTHONPATH": f"{REPO / 'layers' / 'regime'}:{REPO}"}
    cli = [sys.executable, "-m", "trader_host.cli"]
    for argv, env_extra, said in (
        (
            ["stats", "--bucket", "lake"],
            {},
            "stats: --bucket lake: no AWS region: set AWS_DEFAULT_REGION",
        ),
        (
            ["run", "--stack-outputs", "regime-trader-dev", *MARKET],
            {},
            "no AWS region: set AWS_DEFAULT_REGION",
        ),
        (
            ["run", *MARKET, "--regime", "trend"],
            {"AWS_DEFAULT_REGION": "eu-west-1"},
            "no AWS credentials: set",
        ),
    ):
        done = subprocess.run(
            [*cli, *argv], cwd=REPO, env={**env, **env_extra}, capture_output=True, text=True, timeout=120
        )
        output = done.stdout + done.stderr
        assert done.returncode == 2 and "Traceback" not in output, output
        assert len([line for line in output.splitlines() if said in line]) == 1, output
