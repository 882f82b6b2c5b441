"""TradingSession: the async loop that joins a broker port, the pure Trader, a regime source and the sinks.

One loop: wait for the next broker event (or the next deadline: an order timeout, a cloud job), hand it to
the trader, send the commands it returns, journal its records. Cloud I/O never runs here: each duty is a
CloudJob in a worker thread (`inline_cloud` awaits it, for virtual clocks where waiting costs no market
time; otherwise it runs beside the ticks). On the end of the data, on `stop` or on the kill switch the
session flattens and waits (bounded) until no order lives. Any exception escaping the loop, a job or the
journal flattens too, halts entries, is logged with its reason and leaves `failure` set (exit non-zero).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from regime.contracts import Bar, BarSource, TradeRecord
from trading_engine.broker.port import (
    BrokerEvent,
    BrokerPort,
    BrokerUnavailable,
    ConnectionChanged,
    FeedEnded,
    MinuteBar,
    Tick,
)
from trading_engine.cloud_job import CloudJob
from trading_engine.execution.commands import CancelOrder, Command, PlaceOrder, QueryOrder
from trading_engine.instruments import utc
from trading_engine.regime_source import RegimeSource
from trading_engine.restart import ReconcileError, reconcile
from trading_engine.session_ports import BarSink, EventObserver, KillSwitch, RecordSink
from trading_engine.trader import Trader

log = logging.getLogger(__name__)
FINAL_FLUSH_TIMEOUT_S = 30.0
STOP_GRACE_S = 10.0  # a stop during the start's reconcile lets it finish this long (its requests are bounded)
LATENCY_SAMPLES = 200_000  # about two days of ticks


class Stopped(Exception):
    """The stop event was set while the session waited."""


async def _unless_stopped[T](
    aw: Coroutine[Any, Any, T] | asyncio.Future[T], stop: asyncio.Future[Any], *, cancel: bool = True
) -> T:
    """`aw`'s result, or Stopped as soon as `stop` is done (`aw` cancelled unless `cancel` is False).

    A coroutine runs eagerly: one that ends without waiting (most broker events on a virtual clock) costs no
    trip through the event loop."""
    task = (
        aw if isinstance(aw, asyncio.Future) else asyncio.eager_task_factory(asyncio.get_running_loop(), aw)
    )
    if not task.done():
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled from outside: the work ends with us
            task.cancel()
            raise
    if task.done():
        return task.result()
    if cancel:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    raise Stopped


class TradingSession:
    """Runs one Trader against one broker until the data ends, `stop` is set or the kill switch halts it."""

    def __init__(
        self,
        broker: BrokerPort,
        trader: Trader,
        regime: RegimeSource,
        *,
        kill_switch: KillSwitch | None = None,
        records: RecordSink | None = None,
        bars: BarSink | None = None,
        bar_source: BarSource = BarSource.SIM,
        jobs: Sequence[CloudJob] = (),
        final_jobs: Sequence[CloudJob] = (),
        inline_cloud: bool = True,
        live: bool = False,
        wall_clock_jobs: bool = True,
    ) -> None:
        self.broker = broker
        self.trader = trader
        self.regime = regime
        self.kill_switch = kill_switch
        self.records = records
        self.bars = bars
        self.bar_source = bar_source
        self.inline_cloud = inline_cloud
        self.live = live  # reconcile with the broker at start and after reconnects; warm the strategy up
        self.jobs = list(jobs)
        self.final_jobs = list(final_jobs)  # run once more at the end (ship what is left)
        if kill_switch is not None:
            self.jobs.append(
                CloudJob(
                    "kill-switch", kill_switch.engaged, kill_switch.poll_interval_s, wall=wall_clock_jobs
                )
            )
        if bars is not None:
            flush = CloudJob(
                "bars",
                lambda now: bars.flush(),
                bars.interval_s,
                ready=lambda: bars.pending() >= bars.batch_size,
                wall=wall_clock_jobs,
            )
            self.jobs.append(flush)
            self.final_jobs.append(flush)
        self.events = 0
        self.stop_at: float | None = None  # broker time at which to stop (flatten and close)
        self.failure: str | None = None
        # Per-tick decision time (event in, commands sent), the latest ones only: the host runs for weeks.
        self.tick_latency_s: deque[float] = deque(maxlen=LATENCY_SAMPLES)
        self.tick_to_order_s: deque[float] = deque(maxlen=LATENCY_SAMPLES)  # ticks that placed an order
        self.tick_orders = 0  # how many such ticks in all (the metrics read the new ones)
        self.unjournaled: list[TradeRecord] = []
        self.observer: EventObserver | None = None  # the live monitor, when one is attached
        self.stop_grace_s = STOP_GRACE_S
        self._executor = ThreadPoolExecutor(max_workers=max(1, len(self.jobs)), thread_name_prefix="cloud")

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Trade until the end of the data (sim), `stop`, a kill or a failure; then flatten and close.

        `stop` is obeyed at every stage: while connecting (nothing to flatten), while starting (the start's
        requests are bounded: given STOP_GRACE_S to finish so that the position is known, then flattened),
        and while waiting for the broker's next event.
        """
        stop = stop or asyncio.Event()
        stopped = asyncio.ensure_future(stop.wait())  # done once a stop comes, whatever waits then
        try:
            await self._run(stop, stopped)
        finally:
            stopped.cancel()

    async def _run(self, stop: asyncio.Event, stopped: asyncio.Future[Any]) -> None:
        try:
            await _unless_stopped(self.broker.connect(), stopped)
        except Stopped:
            log.warning("stopped while connecting to the broker: nothing was traded")
            await self._close()
            return
        except Exception as exc:  # one that no retry can heal (the adapter retries the others)
            self.failure = f"connect: {exc}"
            log.error("FAILURE while connecting to the broker: %s", exc)
            await self._close()
            return
        try:
            await self._trade(stop, stopped)
        finally:
            await self._close()

    async def _trade(self, stop: asyncio.Event, stopped: asyncio.Future[Any]) -> None:
        broker, trader = self.broker, self.trader
        try:
            try:
                if self.live and not await self._started(stopped):
                    return
                while not stop.is_set():
                    if self.stop_at is not None and broker.now() >= self.stop_at:
                        log.info("stopping at %.3f as asked", broker.now())
                        break
                    try:  # the adapters' next_event is cancel-safe: a stop loses no event
                        event = await _unless_stopped(broker.next_event(self._until()), stopped)
                    except Stopped:
                        break
                    if event is None and self._until() is None:
                        break
                    await self._handle(event)
                    if isinstance(event, FeedEnded) or trader.kill_reason is not None:
                        break
            except ReconcileError as exc:
                self._fail(f"reconcile: {exc}")
                return  # the books disagree: sending anything would be a guess
            except Exception as exc:
                log.exception("trading loop failed")
                self._fail(f"{type(exc).__name__}: {exc}")
            await self._shutdown()
        except Exception as exc:
            log.exception("shutdown failed")
            self._fail(f"shutdown: {type(exc).__name__}: {exc}")
        finally:
            await self._final_flush()

    async def _started(self, stop: asyncio.Future[Any]) -> bool:
        """Warm up and reconcile; False if a stop came and the start could not finish in `stop_grace_s`."""
        start = asyncio.ensure_future(self._start_live())
        try:
            await _unless_stopped(start, stop, cancel=False)
            return True
        except Stopped:
            log.warning("stopped while starting: the reconcile may finish (at most %gs)", self.stop_grace_s)
        done, _ = await asyncio.wait({start}, timeout=self.stop_grace_s)
        if done:
            start.result()  # its failure is the session's
            return True
        start.cancel()
        await asyncio.gather(start, return_exceptions=True)
        log.error(
            "stopped before the reconcile finished: the broker's position is unknown and nothing was sent; "
            "check the account (journal position %d)",
            self.trader.position,
        )
        return False

    async def _close(self) -> None:
        await self.broker.close()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _fail(self, reason: str) -> None:
        """Record the first failure and halt: no more entries, the position is closed at market."""
        if self.failure is None:
            self.failure = reason
            log.error("FAILURE, flattening and halting: %s", reason)
        self.trader.halt(self.broker.now(), f"failure: {reason}")

    async def _start_live(self) -> None:
        broker, trader = self.broker, self.trader
        warmup = await broker.recent_bars(trader.config.strategy.lookback_bars)
        trader.warm_up(warmup)
        now = broker.now()
        log.info("strategy warmed up with %d bar(s); reconciling with the broker", len(warmup))
        await self._send(await reconcile(broker, trader, now, at_start=True))
        self._journal(now)

    def _until(self) -> float | None:
        deadline = self.trader.next_deadline()
        for job in self.jobs:
            wake = job.deadline()
            if wake is not None:
                deadline = wake if deadline is None else min(deadline, wake)
        return deadline

    async def _handle(self, event: BrokerEvent | None) -> None:
        trader, now = self.trader, self.broker.now()
        self.events += 1
        await self._run_jobs(now)
        started = time.perf_counter()
        commands: list[Command] = []
        ks = self.kill_switch
        if ks is not None and ks.state and trader.kill_reason is None:
            commands += trader.kill(now, "kill switch")
        if isinstance(event, MinuteBar) and self.bars is not None:
            self.bars.publish(self._bar_record(event))
        regime = self.regime
        commands += trader.on_event(
            event, now, regime.regime_at(now), regime.decision_at(now), regime.confidence_at(now)
        )
        places = isinstance(event, Tick) and any(isinstance(c, PlaceOrder) for c in commands)
        await self._send(commands)
        if isinstance(event, Tick):
            elapsed = time.perf_counter() - started
            self.tick_latency_s.append(elapsed)
            if places:
                self.tick_to_order_s.append(elapsed)
                self.tick_orders += 1
        if self.observer is not None:
            self.observer.observe(event, now)
        self._journal(now)
        if isinstance(event, ConnectionChanged) and event.connected and self.live:
            await self._send(await reconcile(self.broker, trader, now, at_start=False))
            self._journal(now)

    async def _run_jobs(self, now: float) -> None:
        for job in self.jobs:
            error = job.collect(now)
            if error is not None:
                self._job_failed(job, error)
            if job.due(now):
                future = job.start(now, self._executor)
                if self.inline_cloud:
                    await asyncio.wait([future])
                    error = job.collect(now)
                    if error is not None:
                        self._job_failed(job, error)

    def _job_failed(self, job: CloudJob, error: BaseException) -> None:
        log.error("cloud job %s failed", job.name, exc_info=error)
        self._fail(f"{job.name}: {type(error).__name__}: {error}")

    def _journal(self, now: float) -> None:
        """Make the trader's new records durable; a failed write keeps them in memory and halts."""
        if self.records is None:
            return
        records = self.unjournaled + self.trader.take_records()
        if not records:
            return
        try:
            self.records.put(records)
        except OSError as exc:
            self.unjournaled = records
            self._fail(f"journal write failed ({exc}); {len(records)} record(s) held in memory")
            return
        self.unjournaled = []

    async def _send(self, commands: list[Command]) -> None:
        broker, trader = self.broker, self.trader
        while commands:
            command = commands.pop(0)
            try:
                if isinstance(command, PlaceOrder):
                    await broker.place_order(command.request)
                elif isinstance(command, CancelOrder):
                    await broker.cancel_order(command.order_id)
                elif isinstance(command, QueryOrder):
                    await broker.request_status(command.order_id)
            except BrokerUnavailable as exc:
                # A lost place is a rejected order; a lost cancel or query is retried by the status timer.
                log.warning("%s not sent: %s", type(command).__name__, exc)
                if isinstance(command, PlaceOrder):
                    commands += trader.send_failed(command.request.order_id, broker.now(), str(exc))

    async def _shutdown(self) -> None:
        """Flatten and wait for every order to reach a final state, at most shutdown_timeout_s."""
        broker, trader = self.broker, self.trader
        now = broker.now()
        end = now + trader.config.risk.shutdown_timeout_s
        await self._send(trader.shutdown(now))
        self._journal(now)
        while not trader.is_idle and broker.now() < end:
            deadline = trader.next_deadline()
            until = end if deadline is None else min(deadline, end)
            await self._handle(await broker.next_event(until))
        if trader.is_idle:
            log.info("session closed flat at %.3f", broker.now())
        else:
            log.error(
                "session closed with position %d and %d live order(s) after %.0fs",
                trader.position,
                len(trader.working_orders()),
                trader.config.risk.shutdown_timeout_s,
            )

    async def _final_flush(self) -> None:
        """Ship what is left (bars, journal), bounded in time; on failure the data stays on disk."""
        if self.unjournaled:
            log.critical(
                "%d record(s) could not be journaled; they are at the broker and come back at the next "
                "start's reconcile: %s",
                len(self.unjournaled),
                "; ".join(r.to_json() for r in self.unjournaled),
            )
        pending = [job.task for job in self.jobs if job.task is not None]
        if pending:
            await asyncio.wait(pending, timeout=FINAL_FLUSH_TIMEOUT_S)
        loop = asyncio.get_running_loop()
        now = self.broker.now()
        for job in self.final_jobs:
            try:
                await asyncio.wait_for(
                    loop.run_in_executor(self._executor, job.action, now), FINAL_FLUSH_TIMEOUT_S
                )
            except Exception as exc:  # the data is still on disk: the next start ships it
                log.error("final %s failed (kept on disk for the next start): %s", job.name, exc)

    def _bar_record(self, bar: MinuteBar) -> Bar:
        spec = self.trader.spec
        return Bar(
            symbol=spec.symbol,
            ts=utc(bar.minute * 60.0),
            open=float(spec.price(bar.open)),
            high=float(spec.price(bar.high)),
            low=float(spec.price(bar.low)),
            close=float(spec.price(bar.close)),
            volume=bar.volume,
            source=self.bar_source,
        )
