"""`regime-trader meta-labels`: a bad split is named before any training."""

from __future__ import annotations

from pathlib import Path

import pytest

from trader_host.cli import main


@pytest.mark.parametrize(
    ("split", "message"), [("someday", "not a date/time"), ("2020-01-01", "0 training and")]
)
def test_a_bad_split_is_named_before_any_training(
    split: str, message: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    args = ["meta-labels", "--synthetic-days", "2", "--split", split, "--json", str(tmp_path / "m.json")]
    assert main(args) == 2
    assert message in caplog.text
    assert not (tmp_path / "m.json").exists()
