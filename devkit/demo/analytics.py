"""The Athena queries over what the demo's day left in the local S3 lake, and the HTML report.

The same code as `regime-trader stats --bucket` and `report --bucket`: the lake is read once from the
local S3 endpoint into DuckDB, every named query of infra/athena runs on it, and the page is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trader_host.analytics.engine import LocalAthena, QueryResult, query_names
from trader_host.analytics.lake import S3Lake
from trader_host.analytics.price_panel import price_panel
from trader_host.analytics.report import render_report
from trader_host.analytics.schema import TABLES
from trader_host.analytics.tables import text_table
from trader_host.cloud.aws import client

SHOWN = ("trade_statistics", "pnl_by_regime")  # the article's table, and the P&L each regime made


@dataclass
class LakeAnalytics:
    athena: LocalAthena
    results: dict[str, QueryResult]

    def counts(self) -> str:
        return ", ".join(f"{t} {self.athena.count(t):,}" for t in TABLES)

    def tables(self) -> str:
        """The statistics table and the P&L by regime, as printed."""
        return "\n\n".join(f"== {name}\n{text_table(self.results[name])}" for name in SHOWN)


def query_lake(bucket: str) -> LakeAnalytics:
    """Run every named query over the bucket on the endpoint in AWS_ENDPOINT_URL."""
    athena = LocalAthena(S3Lake(client("s3"), bucket))
    return LakeAnalytics(athena, {name: athena.run(name) for name in query_names()})


def write_report(
    lake: LakeAnalytics, out: Path, *, source: str, symbol: str, model_scores: dict[str, Any]
) -> Path:
    """The HTML report of the day (`report --bucket`'s page); returns its path."""
    panel = price_panel(lake.athena, symbol=symbol, hours=6.0)
    notes = [f"records: {lake.counts()}"]
    html = render_report(lake.results, source=source, panel=panel, model_scores=model_scores, notes=notes)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
