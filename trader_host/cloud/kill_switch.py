"""SsmKillSwitch: the operator's kill switch, an SSM String parameter holding "on" or "off".

It fails closed: anything but the exact value "off" engages it (the session flattens and stops for good),
and a value other than "on" says so loudly: a mistyped `yes` or `Off` stops trading rather than letting it
run on unnoticed. A parameter that does not exist is "off" (a stack without the switch). A failed read keeps
the last known state (it does not stop trading on a network hiccup) and is logged; the switch is read again
at the next poll.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)
OFF, ON = "off", "on"


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
        text = str(value)
        if text not in (OFF, ON):
            log.error(
                "kill switch %s holds %r, which is not 'off': ENGAGED (only the exact value 'off' lets the "
                "host trade; set 'on' or 'off')",
                self.parameter,
                text,
            )
        return self._set(text != OFF, repr(text))

    def _set(self, state: bool, why: str) -> bool:
        if state != self.state:
            log.warning("kill switch %s is now %s (%s)", self.parameter, "ENGAGED" if state else "off", why)
        self.state = state
        return state
