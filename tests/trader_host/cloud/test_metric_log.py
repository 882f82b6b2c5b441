"""The EMF lines of the metrics no alarm reads: one line a sample, the fleet-wide dimension, the symbol and
the broker notices' names as fields, latencies split at EMF's 100 values, a broken stdout costs nothing."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from trader_host.cloud.host_metrics import NAMESPACE, HostMetric, dimensions
from trader_host.cloud.metric_log import MAX_VALUES, MetricLog, emf_lines

WALL = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def datum(metric: HostMetric, unit: str, **value: object) -> dict[str, object]:
    return {"MetricName": metric.value, "Dimensions": dimensions("MCL"), "Timestamp": WALL, "Unit": unit,
            **value}  # fmt: skip


def test_one_line_a_sample_with_the_symbol_and_notices_as_fields() -> None:
    notice = datum(HostMetric.BROKER_NOTICES, "Count", Value=2.0)
    notice["Dimensions"] = [*dimensions("MCL"), {"Name": "notice", "Value": "1100 connectivity lost"}]
    (text,) = emf_lines(
        [
            datum(HostMetric.FILLS, "Count", Value=3.0),
            datum(HostMetric.BROKER_NOTICES, "Count", Value=2.0),
            notice,
        ]
    )
    line = json.loads(text)
    assert line["_aws"]["Timestamp"] == int(WALL.timestamp() * 1000)
    assert line["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": NAMESPACE,
            "Dimensions": [["service"]],
            "Metrics": [
                {"Name": "HostFills", "Unit": "Count"},
                {"Name": "HostBrokerNotices", "Unit": "Count"},
            ],
        }
    ]
    assert line["symbol"] == "MCL" and line["HostFills"] == 3.0 and line["HostBrokerNotices"] == 2.0
    assert line["notices"] == {"1100 connectivity lost": 2.0}


def test_latencies_are_every_value_in_lines_of_at_most_a_hundred() -> None:
    values = [float(v) for v in range(150)]
    counts = [2.0] * 150  # each latency seen twice: 300 values
    lines = [json.loads(t) for t in emf_lines([datum(HostMetric.TICK_TO_ORDER, "Microseconds",
                                                     Values=values, Counts=counts)])]  # fmt: skip
    got = [v for line in lines for v in line[HostMetric.TICK_TO_ORDER.value]]
    assert len(lines) == 3 and all(len(line[HostMetric.TICK_TO_ORDER.value]) <= MAX_VALUES for line in lines)
    assert sorted(got) == sorted(v for v in values for _ in range(2))


def test_a_broken_stream_drops_the_lines_counted_and_raises_nothing() -> None:
    stream = io.StringIO()
    log = MetricLog(stream)
    log.record([datum(HostMetric.FILLS, "Count", Value=1.0)])
    assert log.flush() == 1 and json.loads(stream.getvalue())["HostFills"] == 1.0
    stream.close()
    log.record([datum(HostMetric.FILLS, "Count", Value=1.0)])
    assert log.flush() == 0 and log.dropped == 1 and log.pending() == 0


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_no_lines() -> None:
    terminal = Terminal()
    log = MetricLog(terminal)
    log.record([datum(HostMetric.FILLS, "Count", Value=1.0)])
    assert log.flush() == 0 and log.skipped == 1 and log.dropped == 0 and terminal.getvalue() == ""


def test_a_file_gets_the_lines_appended_and_an_unwritable_one_costs_nothing(tmp_path: Path) -> None:
    path = tmp_path / "metrics.emf.jsonl"
    log = MetricLog(Terminal(), path=path)  # the file wins over the stream, a terminal included
    for fills in (1.0, 2.0):
        log.record([datum(HostMetric.FILLS, "Count", Value=fills)])
        assert log.flush() == 1
    assert [json.loads(line)["HostFills"] for line in path.read_text().splitlines()] == [1.0, 2.0]
    gone = MetricLog(path=tmp_path / "no-such-folder" / "m.jsonl")
    gone.record([datum(HostMetric.FILLS, "Count", Value=1.0)])
    assert gone.flush() == 0 and gone.dropped == 1 and gone.pending() == 0


def test_a_malformed_datum_is_set_aside_counted_never_raised() -> None:
    log = MetricLog(io.StringIO())
    log.record([{"MetricName": HostMetric.FILLS.value, "Value": "three"}])  # no dimensions, no number
    assert log.dropped == 1 and log.pending() == 0 and log.flush() == 0
