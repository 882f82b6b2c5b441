"""DynamoDB's batch calls, with what they leave unprocessed sent again after a jittered exponential back-off.

A throttled partition makes BatchWriteItem hand back UnprocessedItems (BatchGetItem: UnprocessedKeys) in a
call that succeeded, which the SDK's own retries never see. Each further call waits a random time in
[0, min(cap, base * 2**n)] ("full jitter": writers throttled together spread out instead of retrying
together); after `attempts` calls what is left is returned, for the caller to report (a batch item failure,
a symbol's failure), never dropped.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

# A request the table refuses as invalid (an item it cannot hold): no retry can help.
REFUSALS = frozenset({"ValidationException", "SerializationException"})


class Refused(Exception):
    """The table refused the request as invalid: a retry cannot help."""


def error_code(exc: Exception) -> str:
    """The AWS error code of a ClientError ('' for anything else)."""
    return str(exc.response.get("Error", {}).get("Code", "")) if isinstance(exc, ClientError) else ""


@dataclass(frozen=True, slots=True)
class Backoff:
    """How often and how long to wait before sending unprocessed items again (the clock and the dice are
    seams for the tests)."""

    attempts: int = 5  # calls in all, the first included
    base_s: float = 0.05
    cap_s: float = 1.0  # the longest wait: the whole bound stays far under the functions' timeouts
    sleep: Callable[[float], None] = time.sleep
    draw: Callable[[], float] = random.random  # uniform in [0, 1)

    def wait(self, retry: int) -> None:
        """Wait before retry number `retry` (0 for the first): full jitter on an exponential ceiling."""
        self.sleep(self.draw() * min(self.cap_s, self.base_s * 2**retry))


BACKOFF = Backoff()


def write_all(
    client: Any, table: str, requests: list[dict[str, Any]], backoff: Backoff = BACKOFF
) -> list[dict[str, Any]]:
    """BatchWriteItem of `requests` (at most 25); returns the ones still unprocessed after the bound.

    Raises Refused when the table refuses the request as invalid; any other ClientError or BotoCoreError
    (the SDK's retries spent) propagates."""
    pending = requests
    for attempt in range(backoff.attempts):
        if attempt:
            backoff.wait(attempt - 1)
        try:
            response = client.batch_write_item(RequestItems={table: pending})
        except ClientError as exc:
            if error_code(exc) in REFUSALS:
                raise Refused(str(exc)) from exc
            raise
        pending = response.get("UnprocessedItems", {}).get(table, [])
        if not pending:
            return []
    return pending


def get_all(
    client: Any, table: str, request: dict[str, Any], backoff: Backoff = BACKOFF
) -> tuple[list[dict[str, Any]], int]:
    """BatchGetItem of `request` ({"Keys": [...], ...}, at most 100 keys): the items read, and how many keys
    are still unread after the bound. Raises Refused or propagates errors as `write_all` does."""
    items: list[dict[str, Any]] = []
    pending: dict[str, Any] = {table: request}
    for attempt in range(backoff.attempts):
        if attempt:
            backoff.wait(attempt - 1)
        try:
            response = client.batch_get_item(RequestItems=pending)
        except ClientError as exc:
            if error_code(exc) in REFUSALS:
                raise Refused(str(exc)) from exc
            raise
        items.extend(response.get("Responses", {}).get(table, []))
        pending = response.get("UnprocessedKeys") or {}
        if not pending:
            return items, 0
    return items, len(pending.get(table, {}).get("Keys", []))
