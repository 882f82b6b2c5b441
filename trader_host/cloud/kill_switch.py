"""SsmKillSwitch: the operator's kill switch, an SSM String parameter holding "on" or "off".

"on" (also true/1/kill/halt, any case) engages it: the session flattens and stops for good. A parameter
that does not exist is "off". A failed read keeps the last known state (it does not stop trading on a
network hiccup) and is logged; the switch is read again at the next poll.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)
ENGAGED_VALUES = frozenset({"on", "true", "1", "kill", "halt"})


class SsmKillSwitch:
    """Implements the session's KillSwitch port."""

    def __init__(self, client: Any, parameter: str, poll_interval_s: float = 5.0) -> None:
        self.client = client
        self.parameter = parameter
        self.poll_interval_s = poll_interval_s
        self.state = False

    def engaged(self, now: float) -> bool:
        """Read the parameter; True while it says "on"."""
        try:
            value = self.client.get_parameter(Name=self.parameter)["Parameter"]["Value"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
                return self._set(False, "parameter not found")
            log.warning("kill switch %s unreadable, keeping %s: %s", self.parameter, self.state, exc)
            return self.state
        except BotoCoreError as exc:
            log.warning("kill switch %s unreadable, keeping %s: %s", self.parameter, self.state, exc)
            return self.state
        return self._set(str(value).strip().lower() in ENGAGED_VALUES, repr(value))

    def _set(self, state: bool, why: str) -> bool:
        if state != self.state:
            log.warning("kill switch %s is now %s (%s)", self.parameter, "ENGAGED" if state else "off", why)
        self.state = state
        return state
