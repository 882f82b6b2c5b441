"""IbConfig: where the gateway is, who we are to it, what we trade and how patient we are."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace

PAPER_PORTS = (4002, 7497)  # IB Gateway and TWS paper ports
LIVE_PORTS = (4001, 7496)


@dataclass(frozen=True, slots=True)
class IbConfig:
    host: str = "127.0.0.1"
    port: int = 4002
    client_id: int = 1
    client_id_tries: int = 3  # 326 (client id in use): try the next ids, then give up with a clear error
    account: str = ""  # empty: the only managed account
    live: bool = False  # paper by default; a live account needs this flag (and says so in the log)
    symbol: str = "CL"
    exchange: str = "NYMEX"
    currency: str = "USD"
    roll_days: int = 5  # trade the next month this many days before the front month's last trade date
    carry_across_roll: bool = False  # False: keep the old month while a position is open in it
    connect_timeout_s: float = 10.0
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    history_retries: int = 5  # 162 pacing violations on the bar request, retried with backoff
    history_backoff_s: float = 2.0
    silent_after_s: float = 30.0  # no tick for this long: the feed is stale, resubscribe, no entries
    bar_silent_after_s: float = 180.0  # no bar update for this long (IB sends one every few seconds): down
    cancel_grace_s: float = 2.0  # a "Cancelled" waits this long for executions that crossed it
    warmup_duration: str = "1 D"  # the bar request's history (also the strategy's warm-up)
    # How long each request kind may go unanswered (wall-clock seconds); queries are asked `request_attempts`
    # times before the error reaches the session.
    contract_details_timeout_s: float = 10.0
    positions_timeout_s: float = 10.0
    open_orders_timeout_s: float = 10.0
    executions_timeout_s: float = 10.0
    history_timeout_s: float = 60.0  # IB's historical data farm is slow on a cold start
    request_attempts: int = 3

    def check(self) -> None:
        """Raise ValueError naming the first bad field."""
        if not 0 < self.port < 65536:
            raise ValueError(f"ib.port must be a TCP port, got {self.port}")
        if self.client_id < 0:
            raise ValueError(f"ib.client_id must be >= 0, got {self.client_id}")
        for name in ("client_id_tries", "history_retries", "request_attempts"):
            if getattr(self, name) < 1:
                raise ValueError(f"ib.{name} must be >= 1, got {getattr(self, name)}")
        if self.roll_days < 0:
            raise ValueError(f"ib.roll_days must be >= 0, got {self.roll_days}")
        if self.cancel_grace_s < 0:
            raise ValueError(f"ib.cancel_grace_s must be >= 0, got {self.cancel_grace_s}")
        timeouts = [f for f in self.__dataclass_fields__ if f.endswith("_timeout_s")]
        for name in ("backoff_initial_s", "backoff_max_s", "silent_after_s", "bar_silent_after_s", *timeouts):
            if not getattr(self, name) > 0:
                raise ValueError(f"ib.{name} must be positive, got {getattr(self, name)}")
        if self.port in LIVE_PORTS and not self.live:
            raise ValueError(f"port {self.port} is a live-trading port: pass --live to trade a live account")


def add_ib_arguments(parser: argparse.ArgumentParser) -> None:
    """--host, --port, --client-id, --live (used with --broker ib)."""
    d = IbConfig()
    parser.add_argument("--host", default=d.host, help="IB Gateway / TWS host (--broker ib)")
    parser.add_argument(
        "--port", type=int, default=d.port, help="API port (4002 paper gateway, 7497 paper TWS)"
    )
    parser.add_argument(
        "--client-id", type=int, default=d.client_id, help="API client id (326: the next is tried)"
    )
    parser.add_argument("--live", action="store_true", help="allow a live (real money) account")


def config_from_args(args: argparse.Namespace, symbol: str, base: IbConfig | None = None) -> IbConfig:
    """The command line's connection over `base` (the defaults; tests and the bench tune the limits)."""
    config = replace(base or IbConfig(), host=args.host, port=args.port, client_id=args.client_id,
                     live=args.live, symbol=symbol)  # fmt: skip
    config.check()
    return config
