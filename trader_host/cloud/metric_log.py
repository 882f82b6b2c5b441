"""The host's metrics no alarm reads, as CloudWatch embedded metric format (EMF) lines in its log.

A custom metric costs 0.30 USD a month for each set of dimension values: with `symbol` as a dimension every
metric is paid once per symbol. Only the metrics an alarm reads (`host_metrics.PER_SYMBOL`) are sent with
PutMetricData under their symbol; the others are written here, one JSON line per sample, to the host's
stdout, which systemd appends to host.log and the CloudWatch agent ships to the host's log group
(infra/host/cloudwatch-agent.json). CloudWatch Logs extracts an EMF line's metrics under the `service`
dimension only: one metric for the whole fleet whatever the number of symbols (the fleet's fills, rejects,
disconnects, broker notices, tick-to-order percentiles), while the line keeps `symbol`, and each broker
notice's name under `notices`, as plain fields Logs Insights queries per symbol:

    fields @timestamp, HostFills, HostNetPnl | filter symbol = "CL" | sort @timestamp desc
"""

from __future__ import annotations

import itertools
import json
import logging
import sys
import threading
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from trader_host.cloud.host_metrics import NAMESPACE, SERVICE, Datum

log = logging.getLogger(__name__)
MAX_VALUES = 100  # EMF's limit on the values of one metric in one line
MAX_LINES = 5_000  # about 3 days of minute samples if stdout blocks

Line = dict[str, Any]


def emf_lines(datums: Iterable[Datum]) -> list[str]:
    """The EMF lines of one sample's datums (PutMetricData's shape): one line with every metric, and one
    more per further MAX_VALUES values of a metric sent as Values/Counts (the latencies). A datum with a
    dimension beyond service and symbol (a broker notice's name) becomes a field of the line, not a metric."""
    datums = list(datums)
    if not datums:
        return []
    stamp = int(min(d["Timestamp"] for d in datums).timestamp() * 1000)  # EMF's: ms since the epoch
    symbol = next(x["Value"] for x in datums[0]["Dimensions"] if x["Name"] == "symbol")
    first: dict[str, tuple[str, float | list[float]]] = {}
    more: list[tuple[str, str, list[float]]] = []
    notices: dict[str, float] = {}
    for d in datums:
        extra = {
            x["Name"]: x["Value"] for x in d.get("Dimensions", []) if x["Name"] not in ("service", "symbol")
        }
        if extra:
            notices[" ".join(str(v) for v in extra.values())] = float(d["Value"])
            continue
        if "Values" not in d:
            first[d["MetricName"]] = (d["Unit"], float(d["Value"]))
            continue
        values = [v for v, c in zip(d["Values"], d["Counts"], strict=True) for _ in range(int(c))]
        chunks = [list(c) for c in itertools.batched(values, MAX_VALUES)]
        if chunks:
            first[d["MetricName"]] = (d["Unit"], chunks[0])
            more.extend((d["MetricName"], d["Unit"], c) for c in chunks[1:])
    head = _line(stamp, symbol, first)
    if notices:
        head["notices"] = notices
    lines = [head] + [_line(stamp, symbol, {name: (unit, chunk)}) for name, unit, chunk in more]
    return [json.dumps(line, separators=(",", ":")) for line in lines]


def _line(stamp: int, symbol: str, metrics: dict[str, tuple[str, float | list[float]]]) -> Line:
    return {
        "_aws": {
            "Timestamp": stamp,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["service"]],  # symbol stays a field: one metric for every host
                    "Metrics": [{"Name": name, "Unit": unit} for name, (unit, _) in metrics.items()],
                }
            ],
        },
        "service": SERVICE,
        "symbol": symbol,
        **{name: value for name, (_, value) in metrics.items()},
    }


class MetricLog:
    """EMF lines buffered on the loop (`record`), written to a stream by the metrics job's worker (`flush`).

    The stream is the process's stdout unless given (looked up at each flush, so a test can capture it); a
    terminal gets none (an interactive run: nothing ships them there). With `path` the lines are appended to
    that file instead (`run --metric-lines`: the demo keeps them in its state folder). A write that fails
    (stdout gone, disk full) is logged and its lines dropped and counted: trading goes on."""

    def __init__(
        self, stream: TextIO | None = None, *, path: Path | None = None, max_lines: int = MAX_LINES
    ) -> None:
        self.stream = stream
        self.path = path
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._lock = threading.Lock()
        self.written = 0
        self.dropped = 0
        self.skipped = 0  # lines not written because the stream is a terminal

    def record(self, datums: list[Datum]) -> None:
        """Queue the EMF lines of one sample's datums (no I/O); past `max_lines` the oldest go, counted."""
        try:
            lines = emf_lines(datums)
        except (KeyError, TypeError, ValueError, StopIteration) as exc:  # a malformed datum: set aside, said
            self.dropped += len(datums)
            log.error("%d malformed metric datum(s) set aside (%r): %s", len(datums), exc, datums[:3])
            return
        with self._lock:
            overflow = max(0, len(self._lines) + len(lines) - (self._lines.maxlen or 0))
            self.dropped += overflow
            self._lines.extend(lines)

    def pending(self) -> int:
        return len(self._lines)

    def flush(self) -> int:
        """Write every buffered line; returns how many."""
        with self._lock:
            lines = list(self._lines)
            self._lines.clear()
        if not lines:
            return 0
        if self.path is not None:
            try:
                with self.path.open("a") as out:
                    return self._write(out, lines)
            except OSError as exc:  # the file cannot be opened: the lines are lost, said
                self.dropped += len(lines)
                log.warning("%d metric line(s) not written to %s: %s", len(lines), self.path, exc)
                return 0
        stream = self.stream or sys.stdout
        # Nothing ships a terminal's lines: they would only bury the run's own output.
        if _is_terminal(stream):
            if not self.skipped:
                log.info("EMF metric lines are not written to a terminal (on the host, stdout is host.log)")
            self.skipped += len(lines)
            return 0
        return self._write(stream, lines)

    def _write(self, stream: TextIO, lines: list[str]) -> int:
        written = 0
        try:
            for line in lines:
                # one write a line: stderr's log lines share the file, and an append is whole per write
                stream.write(line + "\n")
                stream.flush()
                written += 1
        except (OSError, ValueError) as exc:  # a closed or broken stdout: the lines are lost, said once
            self.dropped += len(lines) - written
            log.warning("%d metric line(s) not written: %s", len(lines) - written, exc)
        self.written += written
        return written


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):  # closed: the write says so
        return False
