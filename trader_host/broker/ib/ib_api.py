"""The one place that imports the IB client library.

ib_insync is archived upstream; its maintained fork ib_async has the same names. To switch, replace
`ib_insync` by `ib_async` in the imports below (and the pin in pyproject.toml / requirements/dev.lock):
nothing else in the adapter imports the library.
"""

from __future__ import annotations

from ib_insync import (
    IB,
    BarData,
    BarDataList,
    CommissionReport,
    Contract,
    ContractDetails,
    ExecutionFilter,
    Fill,
    Future,
    LimitOrder,
    MarketOrder,
    Order,
    OrderState,
    OrderStatus,
    Ticker,
    Trade,
)
from ib_insync import Execution as IbExecution
from ib_insync.decoder import Decoder
from ib_insync.wrapper import RequestError

_LIBRARY = IB.__module__.split(".")[0]
LIBRARY_LOGGERS = tuple(f"{_LIBRARY}.{name}" for name in ("client", "wrapper", "Decoder", "ib"))

__all__ = [
    "IB",
    "LIBRARY_LOGGERS",
    "BarData",
    "BarDataList",
    "CommissionReport",
    "Contract",
    "ContractDetails",
    "Decoder",
    "ExecutionFilter",
    "Fill",
    "Future",
    "IbExecution",
    "LimitOrder",
    "MarketOrder",
    "Order",
    "OrderState",
    "OrderStatus",
    "RequestError",
    "Ticker",
    "Trade",
]
