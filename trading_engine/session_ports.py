"""The ports a TradingSession plugs its edges into: the kill switch, the record sink (the journal), the bar
sink (the cloud's bar stream) and an event observer (the live monitor's tap).

The host's adapters implement them; the engine never imports an adapter.
"""

from __future__ import annotations

from typing import Protocol

from regime.contracts import Bar, TradeRecord
from trading_engine.broker.port import BrokerEvent


class KillSwitch(Protocol):
    poll_interval_s: float
    state: bool  # the last answer

    def engaged(self, now: float) -> bool:
        """Ask the switch (blocking); True once the operator has pulled it."""
        ...


class RecordSink(Protocol):
    def put(self, records: list[TradeRecord]) -> None:
        """Keep `records` durably (the journal); raises OSError when it cannot."""
        ...


class BarSink(Protocol):
    batch_size: int
    interval_s: float

    def publish(self, bar: Bar) -> None: ...

    def pending(self) -> int: ...

    def flush(self) -> None: ...


class EventObserver(Protocol):
    def observe(self, event: BrokerEvent | None, now: float) -> None:
        """Called after each handled event (no I/O, no await: the live monitor's tap)."""
        ...
