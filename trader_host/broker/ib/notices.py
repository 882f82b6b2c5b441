"""IB's notices (error callbacks that are not an order's): what each means for trading, named for the logs.

Pure: a code and its text in, a Notice out. The adapter acts on the effect, logs the name and counts it per
name (the host's metrics publish the counts). Codes: https://interactivebrokers.github.io/tws-api/message_codes.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto


class Effect(Enum):
    LINK_DOWN = auto()  # IB's servers unreachable: no trading until restored
    LINK_UP = auto()
    LINK_UP_DATA_LOST = auto()  # restored, but the market data subscriptions are gone
    FARM_DOWN = auto()  # one data farm (by name) is down
    FARM_UP = auto()
    TICKS_DOWN = auto()  # the tick stream stopped for a reason IB names: down until ticks flow again
    BARS_DOWN = auto()  # the bar stream (keepUpToDate history) ended: resubscribe with backoff
    PORT_RESET = auto()  # the API port moved: this host cannot follow it
    INFO = auto()


@dataclass(frozen=True, slots=True)
class Notice:
    code: int
    name: str  # for the logs and the metrics' counts, e.g. "1100 connectivity lost"
    effect: Effect
    farm: str = ""  # FARM_DOWN / FARM_UP: the farm's name from the text (usfuture, ushmds, secdefnj ...)
    warn: bool = True  # worth a WARNING line (an OK farm is not)


_FIXED = {
    1100: ("connectivity lost", Effect.LINK_DOWN),
    1101: ("restored, data lost", Effect.LINK_UP_DATA_LOST),
    1102: ("restored", Effect.LINK_UP),
    1300: ("socket port reset", Effect.PORT_RESET),
    2110: ("server connectivity broken", Effect.LINK_DOWN),
    10197: ("competing live session", Effect.TICKS_DOWN),
    354: ("market data not subscribed", Effect.TICKS_DOWN),
    420: ("real-time query pacing", Effect.TICKS_DOWN),
}
_FARMS_DOWN = {2103: "market data farm broken", 2105: "HMDS farm broken", 2157: "sec-def farm broken"}
_FARMS_UP = {
    2104: "market data farm OK",
    2106: "HMDS farm OK",
    2158: "sec-def farm OK",
    2107: "HMDS farm inactive",  # inactive but available on demand: as good as up
    2108: "market data farm inactive",
}
HISTORICAL_DATA_ERROR = 162


def classify(code: int, text: str) -> Notice | None:
    """The notice `code` with `text` stands for; None for codes that are not notices (order errors ...)."""
    if code in _FIXED:
        name, effect = _FIXED[code]
        return Notice(code, f"{code} {name}", effect)
    if code in _FARMS_DOWN or code in _FARMS_UP:
        farm = text.rsplit(":", 1)[-1].strip() if ":" in text else str(code)
        down = code in _FARMS_DOWN
        name = _FARMS_DOWN[code] if down else _FARMS_UP[code]
        return Notice(code, f"{code} {name}", Effect.FARM_DOWN if down else Effect.FARM_UP, farm, warn=down)
    if code == HISTORICAL_DATA_ERROR:
        return Notice(code, f"162 {historical_error_kind(text)}", Effect.BARS_DOWN)
    return None


def historical_error_kind(text: str) -> str:
    """162 covers several failures, told apart by the text only."""
    low = text.lower()
    if "pacing violation" in low:
        return "pacing violation"
    if "permission" in low:
        return "no market data permissions"
    if "query cancelled" in low or "query canceled" in low:
        return "query cancelled"
    if "no data" in low:
        return "no data"
    return "historical data error"


def new_port(text: str) -> int | None:
    """1300's new API port ("... Please reconnect on the new port - 4003")."""
    found = re.search(r"new port\D*(\d+)", text)
    return int(found.group(1)) if found else None
