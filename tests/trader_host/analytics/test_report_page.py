"""The HTML report: self-contained, every chart well-formed and drawn, from the lake, CSVs or a backtest;
and in a real headless browser (Debian's chromium), it loads with every chart and no console error."""

from __future__ import annotations

import json
import math
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.trader_host.analytics.hand_lake import at, bars, decisions
from trader_host.analytics.lake import FolderLake
from trader_host.analytics.local_athena import LocalAthena, QueryResult
from trader_host.analytics.price_panel import price_panel, rolling
from trader_host.analytics.report_page import model_scores_rows, render_report
from trader_host.analytics.svg import nice_ticks, time_ticks
from trader_host.analytics.tables import read_csv_folder, write_csv
from trader_host.analytics.writer import write_records
from trader_host.cli import main

SVG = re.compile(r"<svg\b.*?</svg>", re.S)
NS = "{http://www.w3.org/2000/svg}"
SCORES = {
    "vote_accuracy": 0.61,
    "vote_baseline": 0.5,
    "models": {"trend_mlp": {"accuracy": 0.55, "auc": 0.56}, "range_gbt": {"accuracy": 0.63, "auc": 0.62}},
    "hemispheres": {
        "trend": {"accuracy": 0.57, "baseline": 0.6},
        "range": {"accuracy": 0.64, "baseline": 0.51},
    },
}


def charts(html: str) -> list[ET.Element]:
    """Every inline SVG, parsed as XML: a malformed chart fails here."""
    return [ET.fromstring(svg) for svg in SVG.findall(html)]


def drawn(svg: ET.Element) -> int:
    """Data elements in a chart (lines, bands, bars, markers)."""
    return sum(1 for e in svg.iter() if e.get("class") in {"series", "bar", "marker", "span"})


@pytest.fixture(scope="module")
def page(athena: LocalAthena) -> str:
    return render_report(athena.run_all(), source="hand lake", panel=price_panel(athena), model_scores=SCORES)


def test_nice_ticks_are_round_and_cover_the_range() -> None:
    assert nice_ticks(0, 1) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(-292.84, 75.8) == [-200.0, -100.0, 0.0]  # 368.64 / 5 = 73.7: a step of 100
    assert nice_ticks(5, 5)[0] == 5.0  # a flat range still gets ticks


def test_time_ticks_fall_on_round_clock_times() -> None:
    start = 1768485600.0  # 2026-01-15 14:00 UTC
    assert time_ticks(start + 60, start + 3 * 3600) == [start + k * 1800 for k in range(1, 7)]  # every 30 min
    assert time_ticks(start + 7, start + 20 * 60) == [start + k * 300 for k in range(1, 5)]  # every 5 min


def test_rolling_mean_and_unbiased_sd() -> None:
    means, sds = rolling([1.0, 2.0, 3.0, 5.0], 3)
    assert all(math.isnan(v) for v in means[:2] + sds[:2])  # NaN until three closes
    assert means[2:] == [2.0, pytest.approx(10 / 3)]
    assert sds[2] == pytest.approx(1.0)  # sd of 1, 2, 3 with n - 1


def test_the_page_is_self_contained_and_every_chart_is_drawn(page: str) -> None:
    assert "<script" not in page and "<link" not in page
    assert set(re.findall(r"https?://[^\"' )]+", page)) == {"http://www.w3.org/2000/svg"}  # namespace only
    svgs = charts(page)
    titles = [svg.get("aria-label", "") for svg in svgs]
    assert len(svgs) == 8, titles  # trips' equity, price, equity, outcomes, by regime, by hour, scores, live
    assert all(drawn(svg) > 0 for svg in svgs), [t for t, s in zip(titles, svgs, strict=True) if not drawn(s)]
    price = next(svg for svg in svgs if "price, mean" in svg.get("aria-label", ""))
    assert sum(1 for e in price.iter() if e.get("class") == "marker") == 6  # T1..T3 entries and exits
    assert (
        sum(1 for e in price.iter() if e.get("class") == "span") == 4
    )  # the trend/range decisions 14:20, 14:40, 15:00, 15:05
    # v3's one decision has no realised label yet: its name and no bar (a NaN length is a console error).
    assert '="nan"' not in page and ">CL v3 trend</text>" in page
    # The statistics beside the article, money to the cent.
    assert "<td>Net (USD)</td><td>-217.04</td>" in page and "about 1.8" in page


def _key(svg: ET.Element) -> set[tuple[str, str]]:
    """The legend's (colour, shape) pairs: a shape is its sample's element, a stroke drawn for a line."""
    pairs = set()
    for entry in svg.iter(f"{NS}g"):
        if entry.get("class") == "key":
            sample = entry[0]
            pairs.add((sample.get("fill") or sample.get("stroke") or "", _shape(sample)))
    return pairs


def _shape(element: ET.Element) -> str:
    tag = element.tag.removeprefix(NS)
    return f"{tag}{len((element.get('points') or '').split())}" if tag == "polygon" else tag


def test_every_colour_and_shape_drawn_is_in_its_charts_legend(page: str) -> None:
    for svg in charts(page):
        legend = _key(svg)
        for e in svg.iter():
            kind = e.get("class")
            if kind == "series":
                color = e.get("stroke") if e.get("fill") == "none" else e.get("fill")
                shape = "line" if e.get("fill") == "none" else "rect"  # a band's sample is a swatch
                assert (color, shape) in legend, (svg.get("aria-label"), color, shape, legend)
            elif kind in ("bar", "span"):
                assert (e.get("fill"), "rect") in legend, (svg.get("aria-label"), e.get("fill"), legend)
            elif kind == "marker":
                assert (e.get("fill"), _shape(e)) in legend, (svg.get("aria-label"), _shape(e), legend)


def test_the_two_exits_have_shapes_of_their_own(page: str) -> None:
    price = next(svg for svg in charts(page) if "price, mean" in svg.get("aria-label", ""))
    legend = {e[-1].text: _shape(e[0]) for e in price.iter(f"{NS}g") if e.get("class") == "key"}
    exits, entries = {legend["exit buy"], legend["exit sell"]}, {legend["entry buy"], legend["entry sell"]}
    assert len(exits) == 2 and not exits & entries  # four shapes: colour is not the only difference
    drawn = {_shape(e) for e in price.iter() if e.get("class") == "marker"}
    assert exits <= drawn  # the hand lake closes a long and a short


def test_a_single_day_is_drawn_by_round_trip_through_the_day_never_as_one_dot(athena: LocalAthena) -> None:
    results = dict(athena.run_all())
    daily, trades = results["daily_pnl"], results["trade_list"]
    day = str(daily.rows[0][daily.columns.index("trading_day")])
    trips = tuple(r for r in trades.rows if str(r[trades.columns.index("exit_ts")]).startswith(day))
    results["daily_pnl"] = replace(daily, rows=daily.rows[:1])
    results["trade_list"] = replace(trades, rows=trips)
    page = render_report(results, source="one day")
    equity = next(svg for svg in charts(page) if "Equity and drawdown" in svg.get("aria-label", ""))
    assert "by round trip, exit time UTC (one day: no daily curve)" in equity.get("aria-label", "")
    curve = next(e for e in equity.iter() if e.get("class") == "series" and e.get("fill") == "none")
    assert len(curve.get("points", "").split()) == len(trips) + 1  # from zero at the first entry
    exits = [e.findtext(f"{NS}title") or "" for e in equity.iter() if e.get("class") == "marker"]
    assert len(exits) == len(trips) and exits[-1].endswith("equity -18.52")  # the day's net, trip by trip
    results["trade_list"] = QueryResult("trade_list", trades.columns, ())
    assert "one trading day and no trade list" in render_report(results, source="one day, no trips")


def test_model_scores_rows_put_each_score_beside_its_baseline() -> None:
    rows = model_scores_rows(SCORES)
    assert rows[0][:2] == ("range_gbt", 0.63) and rows[0][2] == 0.51  # a range model: the range baseline
    assert ("regime vote", 0.61, 0.5) in rows and ("trend vote", 0.57, 0.6) in rows


def test_from_athena_csvs_there_is_no_price_chart_but_everything_else(
    athena: LocalAthena, tmp_path: Path
) -> None:
    for result in athena.run_all().values():
        write_csv(result, tmp_path)
    page = render_report(read_csv_folder(tmp_path), source="csv")
    assert "no bars for a price chart" in page
    assert len(charts(page)) == 6 and "<td>Net (USD)</td><td>-217.04</td>" in page


def test_an_empty_lake_gives_a_page_of_messages(tmp_path: Path) -> None:
    athena = LocalAthena(FolderLake(tmp_path))
    page = render_report(athena.run_all(), source="empty", panel=price_panel(athena))
    assert charts(page) == []
    assert "trade_statistics: no rows (no records in the lake for this query)" in page


def test_report_command_from_a_backtest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bt.html"
    assert main(["report", "--backtest", "--synthetic-days", "1", "--seed", "5", "--out", str(out)]) == 0
    page = out.read_text()
    assert len(charts(page)) == 7 and "backtest-truth" in page  # no --model: no out-of-sample chart
    # The tear sheet: the ratios, a monthly table and every round trip with its times and exit reason.
    for figure in ("Sharpe (annualised, daily)", "Sortino (annualised, daily)", "Profit factor", "Calmar"):
        assert f"<td>{figure}" in page
    assert '<table class="monthly"><tr><th>Year</th><th>Jan</th>' in page
    trips = re.search(r"Trade list \((\d+) round trips\)", page)
    assert trips is not None and int(trips.group(1)) > 0
    trade_list = page[page.index('<table class="trade-list">') :].split("</table>")[0]
    assert trade_list.count("<tr>") == int(trips.group(1)) + 1  # a header and a row per round trip
    assert "<th>Entry (UTC)</th><th>Exit (UTC)</th><th>Held</th>" in trade_list
    assert "report written to" in capsys.readouterr().out


def test_report_command_refuses_a_missing_csv_folder(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert main(["report", "--csv-dir", str(tmp_path / "none"), "--out", str(tmp_path / "x.html")]) == 2
    assert "no such folder" in caplog.text


CHROMIUM = shutil.which("chromium")


def _require_chromium() -> str:
    # No skip: `make test` installs Debian's chromium when it is missing (the Makefile's `browser` target).
    assert CHROMIUM is not None, "Debian package chromium not installed: run `make browser` (root) first"
    return CHROMIUM


def _chromium(url: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            _require_chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            *flags,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_the_console_check_catches_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>missing();</script></body></html>")
    assert any(
        "missing is not defined" in line for line in _console(_chromium(bad.as_uri(), "--dump-dom").stderr)
    )


@pytest.mark.slow
def test_in_a_headless_browser_the_page_loads_every_chart_without_console_errors(
    page: str, tmp_path: Path
) -> None:
    html = tmp_path / "report.html"
    html.write_text(page)
    dom = _chromium(html.as_uri(), "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _console(dom.stderr) == []
    assert dom.stdout.count('class="chart"') == 8  # every chart is in the rendered document
    shot = tmp_path / "report.png"
    result = _chromium(html.as_uri(), f"--screenshot={shot}", "--window-size=1000,4000", "--hide-scrollbars")
    assert result.returncode == 0 and _console(result.stderr) == []
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", header[16:24]) == (1000, 4000)
    assert shot.stat().st_size > 50_000  # charts drawn, not a blank page


def test_report_command_draws_a_held_out_evaluation_in_the_model_section(
    athena: LocalAthena, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for result in athena.run_all().values():
        write_csv(result, tmp_path)
    evaluation = tmp_path / "eval.json"
    scores = {
        "models": {"trend_mlp": {"accuracy": 0.676, "auc": 0.673}},
        "hemispheres": {"trend": {"accuracy": 0.684, "baseline": 0.592}},
        "vote": {"accuracy": 0.638, "baseline": 0.518},
    }
    evaluation.write_text(json.dumps({"model": "v1", "scores": scores}))
    out = tmp_path / "eval.html"
    assert (
        main(["report", "--csv-dir", str(tmp_path), "--evaluation", str(evaluation), "--out", str(out)]) == 0
    )
    page = out.read_text()
    assert "trend_mlp: accuracy 0.676, baseline 0.592" in page and "regime vote: accuracy 0.638" in page
    evaluation.write_text('{"model": "v1"}')
    assert (
        main(["report", "--csv-dir", str(tmp_path), "--evaluation", str(evaluation), "--out", str(out)]) == 2
    )
    assert "not an `evaluate --json` report" in caplog.text


def test_regime_shading_is_placed_by_the_market_clock_not_the_functions(tmp_path: Path) -> None:
    # The demo's decisions were computed on the wall clock (months after its virtual bars) and the shading,
    # placed by `computed_at`, drew nothing: a decision covers the interval after its window's end.
    wall = at("11-25T09:00:00")
    late = [replace(d, computed_at=wall, valid_until=wall + timedelta(minutes=6)) for d in decisions()]
    write_records(tmp_path, regimes=late, bars=bars())
    panel = price_panel(LocalAthena(FolderLake(tmp_path)), symbol="CL")
    assert panel is not None
    shaded = [(datetime.fromtimestamp(a, UTC), (b - a) / 60, r) for a, b, r in panel.regimes]
    assert [(t.strftime("%H:%M"), minutes, r) for t, minutes, r in shaded] == [
        ("14:20", 5.0, "range"),
        ("14:40", 5.0, "range"),
        ("15:00", 5.0, "trend"),
        ("15:05", 5.0, "range"),
    ]
