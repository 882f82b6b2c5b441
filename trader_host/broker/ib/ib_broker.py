"""IbBroker: the broker port over an IB Gateway (or TWS), through ib_insync.

Connection: connect with a growing backoff; 326 (client id in use) moves to the next id, up to
`client_id_tries`, then stops with a clear error; a paper account unless `live` (then a loud log line).
A lost socket (gateway restart, the daily logoff) reconnects in the background and subscribes again.
The port's ConnectionChanged says whether trading is possible: the socket is up and synced; IB's link is
up (1100 down; 1101/1102 up, 1101 with subscriptions renewed); every data farm is up (2103/2105/2157 one
is down, 2104/2106/2158 it is back); ticks flow (none for `silent_after_s` while the market is open:
resubscribed, and down until the next tick). The session makes no entry while it is down and reconciles
when it comes back.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from trader_host.broker.ib import parsing
from trader_host.broker.ib.clock import BrokerClock, WallClock
from trader_host.broker.ib.config import IbConfig
from trader_host.broker.ib.data import MarketDataFeed
from trader_host.broker.ib.execution import OrderRouter
from trader_host.broker.ib.ib_api import IB, Contract
from trader_host.broker.ib.instrument_provider import trading_month
from trading_engine.broker.port import (
    BrokerEvent,
    BrokerUnavailable,
    ConnectionChanged,
    Execution,
    MinuteBar,
    OpenOrder,
    OrderRequest,
)
from trading_engine.instruments import ContractSpec

log = logging.getLogger(__name__)
STATUS_MIN_INTERVAL_S = 1.0  # an order's status is fetched (reqExecutions) at most this often


class ClientIdsInUse(ConnectionError):
    """Every client id we may use is taken by another API client of this gateway."""


class LiveAccountRefused(ConnectionError):
    """The gateway is logged in to a live account and the host was not started with --live."""


class IbBroker:
    """Implements BrokerPort against IB Gateway / TWS."""

    def __init__(self, config: IbConfig, spec: ContractSpec, clock: BrokerClock | None = None) -> None:
        config.check()
        self.config, self.spec = config, spec
        self.clock: BrokerClock = clock or WallClock()
        self.ib = IB()  # type: ignore[no-untyped-call]
        self.ib.RaiseRequestErrors = True  # a failed request raises (162 is retried, others surface)
        if self.clock.virtual:
            self.ib.client.MaxRequests = 0  # ib_insync's wall-clock throttle means nothing in virtual time
        self.client_id = config.client_id
        self.contract: Contract | None = None
        self.reconnects = 0
        self._queue: deque[BrokerEvent] = deque()
        self._arrived = asyncio.Event()
        self._time = 0.0
        self._synced = self._link = self._flowing = False
        self._farms_down: set[str] = set()
        self._usable = False
        self._closing = False
        self._reconnect: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self._connect_failed: asyncio.Future[str] | None = None
        self._fatal: BaseException | None = None  # a reconnect that cannot succeed: raised to the session
        self._status_answered: dict[str, float] = {}
        self._status_due: dict[str, float] = {}
        self.feed = MarketDataFeed(self.ib, config, spec, self.now, self._push)
        self.feed.on_tick_resumed = self._tick_resumed
        self.orders = OrderRouter(self.ib, config, spec, self.now, self._push)
        self.ib.errorEvent += self._on_error
        self.ib.disconnectedEvent += self._on_disconnected
        self.ib.client.apiError += self._on_api_error

    # -- BrokerPort ------------------------------------------------------------------------------------------
    def now(self) -> float:
        self._time = max(self._time, self.clock.now())
        return self._time

    async def connect(self) -> None:
        try:
            await self._open()
        except BaseException:
            self.ib.disconnect()  # type: ignore[no-untyped-call]  # nothing half-open outlives a failed start
            raise

    async def close(self) -> None:
        self._closing = True
        pending = [*self._tasks, *([self._reconnect] if self._reconnect is not None else [])]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self.feed.unsubscribe()
        self.ib.disconnect()  # type: ignore[no-untyped-call]

    async def next_event(self, until: float | None = None) -> BrokerEvent | None:
        while True:
            if self._queue:
                return self._queue.popleft()
            if self._fatal is not None:
                raise self._fatal
            await self._due_work()
            if self._queue:
                continue
            now = self.now()
            if until is not None and now >= until:
                return None
            wake = min((t for t in (until, *self._deadlines()) if t is not None), default=None)
            self._arrived.clear()
            arrived = asyncio.ensure_future(self._arrived.wait())
            idle = asyncio.ensure_future(self.clock.idle(wake))
            done, pending = await asyncio.wait({arrived, idle}, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            if idle in done and wake is not None:
                self._time = max(self._time, wake)

    async def place_order(self, request: OrderRequest) -> None:
        self._require("place", request.order_id)
        if request.symbol != self.spec.symbol or self.contract is None:
            raise ValueError(
                f"order {request.order_id}: this adapter trades {self.spec.symbol}, not {request.symbol}"
            )
        self.orders.place(request, self.contract)

    async def cancel_order(self, order_id: str) -> None:
        self._require("cancel", order_id)
        self.orders.cancel(order_id)

    async def request_status(self, order_id: str) -> None:
        self._require("status request", order_id)
        due = self._status_answered.get(order_id, -STATUS_MIN_INTERVAL_S) + STATUS_MIN_INTERVAL_S
        if self.now() < due:  # asked again at once: answer no faster than IB would let us ask
            self._status_due[order_id] = due
            return
        await self._answer_status(order_id)

    async def _answer_status(self, order_id: str) -> None:
        self._status_due.pop(order_id, None)
        self._status_answered[order_id] = self.now()
        self._push(await self.orders.status(order_id))

    async def positions(self) -> dict[str, int]:
        self._require("positions", "")
        held = await self.ib.reqPositionsAsync()
        total = sum(int(p.position) for p in held if p.contract.symbol == self.spec.symbol)
        return {self.spec.symbol: total}

    async def open_orders(self) -> list[OpenOrder]:
        self._require("open orders", "")
        return await self.orders.open_orders()

    async def executions(self) -> list[Execution]:
        self._require("executions", "")
        return await self.orders.refresh_executions()

    async def recent_bars(self, count: int) -> list[MinuteBar]:
        self._require("historical bars", "")
        return self.feed.recent(count)

    # -- connection ------------------------------------------------------------------------------------------
    async def _open(self) -> None:
        cfg = self.config
        wait = cfg.backoff_initial_s
        while True:
            try:
                await self._connect_some_id()
                break
            except (ClientIdsInUse, LiveAccountRefused):
                raise
            except (OSError, TimeoutError, ConnectionError) as exc:
                log.warning("IB gateway %s:%d: connect failed (%s); retrying in %.1fs", cfg.host, cfg.port,
                            exc or type(exc).__name__, wait)  # fmt: skip
                await asyncio.sleep(wait)
                wait = min(wait * 2, cfg.backoff_max_s)
        self._check_account()
        position = 0
        if self.contract is not None:
            position = (await self.positions()).get(self.spec.symbol, 0)
        self.contract = await trading_month(self.ib, cfg, self.now(), self.contract, position)
        await self.feed.subscribe(self.contract)
        self._synced = self._link = self._flowing = True
        self._farms_down.clear()
        self._update()

    async def _connect_some_id(self) -> None:
        cfg = self.config
        for k in range(cfg.client_id_tries):
            client_id = cfg.client_id + k
            loop = asyncio.get_running_loop()
            self._connect_failed = failed = loop.create_future()
            attempt = asyncio.ensure_future(
                self.ib.connectAsync(
                    cfg.host, cfg.port, client_id, cfg.connect_timeout_s, account=cfg.account
                )
            )
            await asyncio.wait({attempt, failed}, return_when=asyncio.FIRST_COMPLETED)
            self._connect_failed = None
            if attempt.done() and attempt.exception() is None:
                failed.cancel()
                self.client_id = client_id
                log.info("connected to IB %s:%d as client %d", cfg.host, cfg.port, client_id)
                return
            attempt.cancel()
            await asyncio.gather(attempt, return_exceptions=True)
            self.ib.disconnect()  # type: ignore[no-untyped-call]
            why = failed.result() if failed.done() else repr(attempt.exception())
            if why != "326":
                raise ConnectionError(why)
            log.warning("client id %d is in use at %s:%d (326): trying %d", client_id, cfg.host, cfg.port,
                        client_id + 1)  # fmt: skip
        last = cfg.client_id + cfg.client_id_tries - 1
        raise ClientIdsInUse(
            f"IB {cfg.host}:{cfg.port}: client ids {cfg.client_id}..{last} are all in use (326); "
            "stop the other API client or pass another --client-id"
        )

    def _check_account(self) -> None:
        accounts = self.ib.managedAccounts()
        account = self.config.account or (accounts[0] if accounts else "")
        if account not in accounts:
            self.ib.disconnect()  # type: ignore[no-untyped-call]
            raise LiveAccountRefused(
                f"account {account!r} is not managed by this login ({', '.join(accounts)})"
            )
        self.orders.account = account
        paper = account.startswith("D")  # IB paper accounts are DU..., demo DF...
        if not paper and not self.config.live:
            self.ib.disconnect()  # type: ignore[no-untyped-call]
            raise LiveAccountRefused(f"account {account!r} is a live account: pass --live to trade it")
        if not paper:
            log.warning("LIVE TRADING on account %s: orders are real and cost real money", account)

    def _on_disconnected(self) -> None:
        self._synced = False
        self.feed.forget()
        self._update()
        if self._closing or (self._reconnect is not None and not self._reconnect.done()):
            return
        if self.contract is None:
            return  # the first connect has its own loop
        log.warning("IB connection lost: reconnecting")
        self._reconnect = asyncio.ensure_future(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        await asyncio.sleep(self.config.backoff_initial_s)
        try:
            await self._open()
            self.reconnects += 1
        except Exception as exc:  # the session gets it from next_event: flatten, halt, say why
            log.exception("IB reconnect failed for good")
            self._fatal = exc
            self._arrived.set()

    async def _resubscribe(self) -> None:
        """1101: IB restored the link but dropped the market data subscriptions."""
        try:
            if self.contract is not None:
                self.feed.forget()
                await self.feed.subscribe(self.contract)
        except Exception as exc:
            log.exception("IB: subscribing again after 1101 failed")
            self._fatal = exc
            self._arrived.set()

    def _on_api_error(self, message: str) -> None:
        if self._connect_failed is not None and not self._connect_failed.done():
            self._connect_failed.set_result(message)

    def _on_error(self, req_id: int, code: int, text: str, contract: object) -> None:
        if code == parsing.CLIENT_ID_IN_USE:
            if self._connect_failed is not None and not self._connect_failed.done():
                self._connect_failed.set_result("326")
        elif code == parsing.CONNECTIVITY_LOST:
            log.warning("IB: connectivity lost (1100): %s", text)
            self._link = False
        elif code in (parsing.RESTORED, parsing.RESTORED_DATA_LOST):
            log.warning("IB: connectivity restored (%d): %s", code, text)
            self._link = True
            if code == parsing.RESTORED_DATA_LOST:
                task = asyncio.ensure_future(self._resubscribe())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        elif code in parsing.DATA_FARMS:
            farm, up = parsing.DATA_FARMS[code]
            if up:
                self._farms_down.discard(farm)
            else:
                log.warning("IB: %s farm down (%d): %s", farm, code, text)
                self._farms_down.add(farm)
        elif (
            code in parsing.ORDER_ERRORS
            and req_id > 0
            and not self.orders.rejected(req_id, f"IB {code}: {text}")
        ):
            log.warning("IB order error %d for unknown order %d: %s", code, req_id, text)
        self._update()

    def _tick_resumed(self) -> None:
        if not self._flowing:
            log.info("ticks flow again")
            self._flowing = True
            self._update()

    def _update(self) -> None:
        usable = self._synced and self._link and not self._farms_down and self._flowing
        if usable != self._usable:
            self._usable = usable
            self._push(ConnectionChanged(self.now(), usable))

    # -- deadlines -------------------------------------------------------------------------------------------
    def _deadlines(self) -> list[float]:
        out = [*self.orders.pending_cancels.values(), *self._status_due.values()]
        if self._synced and self.feed.ticker is not None:
            out.append(self.feed.last_tick_at + self.config.silent_after_s)
        return out

    async def _due_work(self) -> None:
        now = self.now()
        if (
            self._synced
            and self.feed.ticker is not None
            and now >= self.feed.last_tick_at + self.config.silent_after_s
        ):
            if self.spec.session.is_open(now):
                log.warning(
                    "no tick for %.0fs: the stream is silent; resubscribing", self.config.silent_after_s
                )
                self._flowing = False
                self._update()
                self.feed.resubscribe_ticks()
            else:
                self.feed.last_tick_at = now  # the market is closed: silence is expected, look again later
        if self.orders.pending_cancels and self.ib.isConnected():
            await self.orders.confirm_cancels()
        for order_id in [o for o, at in self._status_due.items() if at <= now]:
            if self.ib.isConnected():
                await self._answer_status(order_id)

    def _require(self, what: str, order_id: str) -> None:
        if not self.ib.isConnected():
            raise BrokerUnavailable(f"IB disconnected: {what} {order_id} not sent".rstrip())

    def _push(self, event: BrokerEvent) -> None:
        self._queue.append(event)
        self._arrived.set()
