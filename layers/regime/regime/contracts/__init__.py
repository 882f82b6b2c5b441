"""One definition per data contract, imported by every side that reads or writes it."""

from regime.contracts.bar import Bar, BarError, BarSource
from regime.contracts.model_metadata import ModelMetadata
from regime.contracts.model_pointer import ModelPointer, PointerEntry, PointerError
from regime.contracts.order_records import (
    OrderFinalState,
    OrderOutcome,
    RiskEvent,
    RiskEventKind,
    TradeRecord,
)
from regime.contracts.regime_item import Regime, RegimeItem
from regime.contracts.trade_records import ExitReason, Fill, Role, RoundTrip, Side

__all__ = [
    "Bar",
    "BarError",
    "BarSource",
    "ExitReason",
    "Fill",
    "ModelMetadata",
    "ModelPointer",
    "OrderFinalState",
    "OrderOutcome",
    "PointerEntry",
    "PointerError",
    "Regime",
    "RegimeItem",
    "RiskEvent",
    "RiskEventKind",
    "Role",
    "RoundTrip",
    "Side",
    "TradeRecord",
]
