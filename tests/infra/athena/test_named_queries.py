"""The tool that copies infra/athena/*.sql into template.yaml's named queries."""

from __future__ import annotations

import shutil
from pathlib import Path

from infra.athena.named_queries import synced
from infra.template_yaml import REPO, TEMPLATE, load_template


def test_the_repository_is_in_sync_and_a_second_run_changes_nothing() -> None:
    text, changed = synced(TEMPLATE.read_text())
    assert changed == [] and text == TEMPLATE.read_text()


def test_an_edited_query_lands_in_its_block_and_nothing_else_moves(tmp_path: Path) -> None:
    shutil.copytree(REPO / "infra" / "athena", tmp_path / "infra" / "athena")
    sql = tmp_path / "infra" / "athena" / "pnl_by_hour.sql"
    sql.write_text("-- edited\nSELECT 1\n\nFROM round_trips\n")  # a blank line inside the block too
    text, changed = synced(TEMPLATE.read_text(), tmp_path)
    assert changed == ["infra/athena/pnl_by_hour.sql"]
    out = tmp_path / "template.yaml"
    out.write_text(text)
    before, after = load_template(TEMPLATE)["Resources"], load_template(out)["Resources"]
    (edited,) = [k for k in after if after[k] != before[k]]
    assert after[edited]["Properties"]["QueryString"] == sql.read_text()
    assert set(after) == set(before)
