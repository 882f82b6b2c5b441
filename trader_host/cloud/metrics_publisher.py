"""CloudWatchMetrics: the host's metric datums, buffered, sent to CloudWatch off the event loop.

`record` only appends to bounded buffers (the loop calls it); `flush` writes the EMF lines of the metrics no
alarm reads to the log (metric_log.py) and does the PutMetricData calls of the alarmed ones
(host_metrics.PER_SYMBOL), in a CloudJob's worker thread. CloudWatch being down never stops trading: a
failed call is logged and counted (`not_sent`, itself a metric once a call gets through), its datums go
back to the buffer for the next flush, and when the buffer is full the oldest datums are dropped and
counted. A datum CloudWatch refuses as malformed is reported and set aside, never retried forever.

`MetricsJob` samples on the event loop when it starts (the sampler reads the loop's own objects) and
sends from the worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from trader_host.cloud.bar_publisher import KinesisBarPublisher
from trader_host.cloud.host_metrics import NAMESPACE, PER_SYMBOL, Datum, HostMetricsSampler
from trader_host.cloud.journal_shipper import JournalShipper
from trader_host.cloud.metric_log import MetricLog
from trading_engine.cloud_job import CloudJob

log = logging.getLogger(__name__)
MAX_DATUMS_PER_CALL = 1000  # PutMetricData's limit
MAX_BUFFERED = 20_000  # about 1.5 days of minute samples while CloudWatch is away
METRICS_EVERY_S = 60.0  # CloudWatch's standard resolution: one sample a minute
# Errors worth another try (with any 5xx); any other client error means the datums themselves are wrong.
RETRYABLE = frozenset({"Throttling", "ThrottlingException", "InternalServiceFault", "ServiceUnavailable"})
PUT_METRICS = frozenset(m.value for m in PER_SYMBOL)


class CloudWatchMetrics:
    """Buffered PutMetricData to one namespace for the alarmed metrics, EMF log lines for the others."""

    def __init__(
        self,
        client: Any,
        namespace: str = NAMESPACE,
        *,
        max_buffered: int = MAX_BUFFERED,
        lines: MetricLog | None = None,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.lines = lines or MetricLog()
        self._buffer: deque[Datum] = deque()
        self._lock = threading.Lock()  # record (loop) and flush (worker) both touch the buffer
        self.max_buffered = max_buffered
        self.sent = 0
        self.not_sent = 0  # failed calls
        self.dropped = 0  # datums lost to a full buffer or refused as malformed

    def record(self, datums: list[Datum]) -> None:
        """Queue `datums` (no I/O); past `max_buffered` the oldest go, counted."""
        self.lines.record([d for d in datums if d["MetricName"] not in PUT_METRICS])
        datums = [d for d in datums if d["MetricName"] in PUT_METRICS]
        with self._lock:
            self._buffer.extend(datums)
            overflow = len(self._buffer) - self.max_buffered
            for _ in range(max(0, overflow)):
                self._buffer.popleft()
            if overflow > 0:
                self.dropped += overflow
        if overflow > 0:
            log.warning("metrics buffer full: dropped the %d oldest datum(s)", overflow)

    def pending(self) -> int:
        return len(self._buffer)

    def flush(self) -> int:
        """Write the EMF lines, then send the buffer in calls of at most 1000 datums; stop at the first
        failure. Returns the datums sent."""
        self.lines.flush()
        sent = 0
        while True:
            with self._lock:
                batch = [self._buffer.popleft() for _ in range(min(MAX_DATUMS_PER_CALL, len(self._buffer)))]
            if not batch:
                return sent
            try:
                self.client.put_metric_data(Namespace=self.namespace, MetricData=batch)
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
                self.not_sent += 1
                if code in RETRYABLE or status >= 500:  # CloudWatch's trouble, not the datums'
                    self._requeue(batch, exc)
                else:
                    self.dropped += len(batch)
                    log.error("CloudWatch refused %d datum(s) (%s), set aside: %s", len(batch), code, exc)
                return sent
            except ParamValidationError as exc:  # malformed before it left: another try cannot help
                self.not_sent += 1
                self.dropped += len(batch)
                log.error("%d malformed datum(s) set aside (%s): %s", len(batch), exc, batch[:3])
                return sent
            except BotoCoreError as exc:  # unreachable, timed out: keep them for the next flush
                self.not_sent += 1
                self._requeue(batch, exc)
                return sent
            sent += len(batch)
            self.sent += len(batch)

    def _requeue(self, batch: list[Datum], exc: Exception) -> None:
        log.warning("metrics not sent (%d waiting, trading goes on): %s", len(batch) + self.pending(), exc)
        with self._lock:
            self._buffer.extendleft(reversed(batch))  # back in front, in their order


class SpoolLength:
    """How many bars wait in a spool file: `refresh` counts them (blocking, in the worker), `count` is the
    last count (read on the loop without I/O)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0

    def refresh(self) -> None:
        try:
            if os.stat(self.path).st_size == 0:
                self.count = 0
                return
            with self.path.open("rb") as fh:
                self.count = sum(1 for _ in fh)
        except FileNotFoundError:
            self.count = 0
        except OSError as exc:  # the count is only a metric: keep the last one
            log.warning("bar spool %s unreadable for the backlog metric: %s", self.path, exc)


class MetricsJob(CloudJob):
    """A sample every `every_s` of broker time, taken on the loop; a send at most every `send_every_s` wall
    seconds, in the worker. On the broker's clock the job wakes the loop itself, so the heartbeat goes on
    when no tick comes (the daily break, the weekend): its silence then means the host is down. In a replay
    (`wakes_loop=False`) it samples on the first event after each wall `every_s` instead."""

    def __init__(
        self,
        sampler: HostMetricsSampler,
        metrics: CloudWatchMetrics,
        every_s: float = METRICS_EVERY_S,
        *,
        send_every_s: float = METRICS_EVERY_S,
        before_send: Callable[[], None] | None = None,
        wakes_loop: bool = True,
    ) -> None:
        # A replay on a virtual clock has no quiet hours to report through: there the job rides on the
        # events, on the wall clock, and never adds an event of its own to the session.
        super().__init__("metrics", self._send, every_s, wall=not wakes_loop)
        self.sampler = sampler
        self.metrics = metrics
        self.send_every_s = send_every_s
        self.before_send = before_send  # blocking reads for the next sample (the bar spool's length)
        self._send_at = float("-inf")  # monotonic

    def deadline(self) -> float | None:
        # The first sample rides on the first event: waking the loop before it would hand the session an
        # empty event ahead of the market's first one.
        return None if self.next_at == float("-inf") else super().deadline()

    def start(self, now: float, executor: Executor) -> asyncio.Future[object]:
        self.metrics.record(self.sampler.sample(now, datetime.now(UTC)))
        if time.monotonic() >= self._send_at:
            self._send_at = time.monotonic() + self.send_every_s
            return super().start(now, executor)
        self.next_at = self._clock(now) + self.every_s  # sampled only: the buffer waits for the next send
        self.task = asyncio.get_running_loop().create_future()
        self.task.set_result(0)
        return self.task

    def final(self, now: float) -> object:
        """The last sample and flush at the end of the session (the loop no longer trades then)."""
        self.metrics.record(self.sampler.sample(now, datetime.now(UTC)))
        return self._send(now)

    def _send(self, now: float) -> int:
        if self.before_send is not None:
            self.before_send()
        return self.metrics.flush()


def host_metrics_job(
    cloudwatch: Any,
    symbol: str,
    started_at: float,
    shipper: JournalShipper,
    bars: KinesisBarPublisher,
    *,
    wakes_loop: bool = True,
    metric_lines: Path | None = None,
) -> MetricsJob:
    """The live host's metrics job (`regime-trader run` wires it; attach the session before it runs).
    `wakes_loop=False` for a replay on a virtual clock; `metric_lines`: the EMF lines to this file, not
    stdout."""
    metrics = CloudWatchMetrics(cloudwatch, lines=MetricLog(path=metric_lines))
    spool = SpoolLength(bars.spool.path)
    sampler = HostMetricsSampler(
        symbol,
        started_at,
        journal_backlog=shipper.backlog_bytes,
        bar_backlog=lambda: bars.pending() + spool.count,
        not_sent=lambda: metrics.not_sent,
    )
    return MetricsJob(sampler, metrics, before_send=spool.refresh, wakes_loop=wakes_loop)
