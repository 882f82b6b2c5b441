"""The broker port: what strategy, execution and risk need from any broker, simulated or real.

Events are small immutable tuples; prices are whole ticks of the traded contract (the adapter converts
from and to the broker's floats with the ContractSpec), times are epoch seconds on the broker's clock.
An adapter delivers every event through `next_event`, in time order; a request (place, cancel, status)
returns at once and its outcome arrives later as events, as it does with a real broker.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple, Protocol

from regime.contracts import Side


class OrderType(StrEnum):
    LIMIT = "LMT"
    MARKET = "MKT"


class BrokerOrderState(StrEnum):
    """The broker's view of an order, as a status report gives it."""

    WORKING = "working"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    UNKNOWN = "unknown"  # the broker never received it


class OrderRequest(NamedTuple):
    order_id: str
    symbol: str
    side: Side
    qty: int
    order_type: OrderType
    limit: int | None = None  # ticks; None for a market order


class OpenOrder(NamedTuple):
    """An order the broker still works, as it reports it at a reconcile (ours or a previous process's)."""

    request: OrderRequest
    filled_qty: int


class Tick(NamedTuple):
    """Top of book and the last trade."""

    ts: float
    bid: int
    ask: int
    last: int
    size: int


class MinuteBar(NamedTuple):
    """A completed 1-minute bar, delivered once its minute is over; `minute`: epoch minute of its start."""

    minute: int
    open: int
    high: int
    low: int
    close: int
    volume: int

    @property
    def end(self) -> float:
        return (self.minute + 1) * 60.0


class OrderAccepted(NamedTuple):
    ts: float
    order_id: str


class OrderRejected(NamedTuple):
    ts: float
    order_id: str
    reason: str


class OrderCancelled(NamedTuple):
    """Confirmation that the rest of an order is dead; `filled_qty` is what it executed before."""

    ts: float
    order_id: str
    filled_qty: int


class Execution(NamedTuple):
    """One fill, with its commission (broker + exchange) in USD; `execution_id` is unique per broker."""

    ts: float
    execution_id: str
    order_id: str
    side: Side
    qty: int
    price: int
    commission_usd: Decimal


class OrderStatus(NamedTuple):
    """Answer to a status request: the order's state and every execution it has had."""

    ts: float
    order_id: str
    state: BrokerOrderState
    filled_qty: int
    executions: tuple[Execution, ...]


class ConnectionChanged(NamedTuple):
    ts: float
    connected: bool


class FeedEnded(NamedTuple):
    """No more market data will come (end of a simulation's data); orders are still served."""

    ts: float


MarketEvent = Tick | MinuteBar
OrderEvent = OrderAccepted | OrderRejected | OrderCancelled | Execution | OrderStatus
BrokerEvent = (
    Tick
    | MinuteBar
    | OrderAccepted
    | OrderRejected
    | OrderCancelled
    | Execution
    | OrderStatus
    | ConnectionChanged
    | FeedEnded
)


class BrokerUnavailable(ConnectionError):
    """A request made while the broker is disconnected; nothing was sent."""


class BrokerPort(Protocol):
    """One interface to a broker for one account; the sim and the IB adapter both implement it."""

    def now(self) -> float:
        """Current time on the broker's clock (virtual in a simulation), epoch seconds."""
        ...

    async def connect(self) -> None:
        """Open the session; market data and order events start flowing."""
        ...

    async def close(self) -> None:
        """Close the session."""
        ...

    async def next_event(self, until: float | None = None) -> BrokerEvent | None:
        """The next event, or None once the clock reaches `until` with nothing to deliver."""
        ...

    async def place_order(self, request: OrderRequest) -> None:
        """Send an order; raises BrokerUnavailable if it could not be sent."""
        ...

    async def cancel_order(self, order_id: str) -> None:
        """Ask to cancel the rest of an order; raises BrokerUnavailable if it could not be sent."""
        ...

    async def request_status(self, order_id: str) -> None:
        """Ask for an order's status; the answer arrives as an OrderStatus event."""
        ...

    async def positions(self) -> dict[str, int]:
        """Net position per symbol, as the broker books it."""
        ...

    async def open_orders(self) -> list[OpenOrder]:
        """Every order the broker still works for this account, whoever sent it."""
        ...

    async def executions(self) -> list[Execution]:
        """The account's executions the broker still reports (IB: the current day's), oldest first."""
        ...

    async def recent_bars(self, count: int) -> list[MinuteBar]:
        """The last `count` completed 1-minute bars (to warm the strategy up after a restart)."""
        ...
