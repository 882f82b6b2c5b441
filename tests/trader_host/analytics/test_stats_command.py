"""`regime-trader stats`: the queries over a lake folder, printed; CSV out and back; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from trader_host.analytics.local_athena import LocalAthena
from trader_host.analytics.tables import read_csv_folder, text_table
from trader_host.cli import main


def test_stats_prints_the_statistics_and_the_skipped_lines(
    hand_lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "--lake", str(hand_lake), "--query", "trade_statistics"]) == 0
    out = capsys.readouterr().out
    assert (
        "skipped malformed lines: {'fills': 1, 'round_trips': 1, 'regimes': 1, 'orders': 1, 'risk_events': 1}"
        in out
    )
    lines = dict(line.split(None, 1) for line in out.split("== trade_statistics\n")[1].splitlines())
    assert lines["net_usd"] == "-217.04" and lines["round_trips"] == "5" and lines["win_share"] == "0.4"


def test_an_empty_lake_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--lake", str(tmp_path), "--query", "daily_pnl"]) == 0
    out = capsys.readouterr().out
    assert "the lake is empty" in out and "daily_pnl: no rows (no records in the lake for this query)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lake", "/no/such/lake"], "no such folder"),
        (["--lake", ".", "--query", "nope"], "unknown nope"),
    ],
)
def test_mistakes_are_named_and_exit_2(
    argv: list[str], message: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert main(["stats", *argv]) == 2
    assert message in caplog.text


def test_csv_results_read_back_as_the_same_figures(
    hand_lake: Path, athena: LocalAthena, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "--lake", str(hand_lake), "--csv", str(tmp_path)]) == 0
    back = read_csv_folder(tmp_path)
    for name, result in athena.run_all().items():
        assert text_table(back[name]) == text_table(result), name  # Athena's CSV carries dates as text


def test_stats_reads_the_bucket_on_the_local_endpoint(
    moto_endpoint: str, hand_lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="stats-lake")
    for path in hand_lake.rglob("*"):
        if path.is_file():
            s3.put_object(
                Bucket="stats-lake", Key=path.relative_to(hand_lake).as_posix(), Body=path.read_bytes()
            )
    assert main(["stats", "--bucket", "stats-lake", "--query", "daily_pnl"]) == 0
    out = capsys.readouterr().out
    assert "lake: bars 91, fills 11, round_trips 6, regimes 8, orders 16, risk_events 3 records" in out
    assert "2026-01-20" in out and "-292.84" in out


def test_a_bucket_that_does_not_exist_is_one_line(
    moto_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    # It printed a traceback from the first read (NoSuchBucket) instead.
    assert main(["stats", "--bucket", "no-such-lake"]) == 2
    assert "--bucket no-such-lake: not readable" in caplog.text
