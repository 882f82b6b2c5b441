"""`regime-trader meta-labels`: a bad split is named before any training."""

from __future__ import annotations

from pathlib import Path

import pytest

from trader_host.cli import main


@pytest.mark.parametrize(
    ("split", "message"), [("someday", "not a date/time"), ("2020-01-01", "no bars before 2020-01-01")]
)
def test_a_bad_split_is_named_before_any_training(
    split: str, message: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    args = ["meta-labels", "--synthetic-days", "2", "--split", split, "--json", str(tmp_path / "m.json")]
    assert main(args) == 2
    assert message in caplog.text
    assert not (tmp_path / "m.json").exists()


def test_a_threshold_outside_zero_to_one_is_named(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    args = ["meta-labels", "--synthetic-days", "2", "--split", "2026-01-06", "--threshold", "1.5"]
    assert main(args) == 2
    assert "--threshold must be between 0 and 1" in caplog.text
