"""Answers the local endpoint cannot give by itself (throttling), injected where the SDK sends requests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse

EVENTS = Path(__file__).resolve().parents[2] / "events"


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@contextmanager
def server_errors(
    client: Any, operation: str, code: str, times: int, when: Callable[[bytes], bool] | None = None
) -> Iterator[list[int]]:
    """Make the endpoint answer `operation` with HTTP 400 `code` for the next `times` calls.

    `when` picks the requests to refuse by their body (e.g. one table or one symbol); the others pass.
    The SDK's own retry logic then runs for real; yields a list whose length counts the refused calls.
    """
    refused: list[int] = []

    def answer(request: Any, **_: Any) -> AWSResponse | None:
        if len(refused) >= times:
            return None
        if when is not None and not when(bytes(request.body or b"")):
            return None
        refused.append(1)
        body = f'{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"simulated {code}"}}'.encode()
        return AWSResponse(request.url, 400, {"x-amzn-ErrorType": code}, _Body(body))  # type: ignore[arg-type]

    event = f"before-send.{client.meta.service_model.endpoint_prefix}.{operation}"
    client.meta.events.register(event, answer)
    try:
        yield refused
    finally:
        client.meta.events.unregister(event, answer)


@contextmanager
def unprocessed(client: Any, operation: str, table: str, keep: list[int]) -> Iterator[list[int]]:
    """A throttled table: for the n-th call of `operation` (BatchWriteItem, BatchGetItem), DynamoDB hands
    back all but the first `keep[n]` of its requests as unprocessed (they were written or read all the same:
    a retry sends them again, idempotently); past the list, none. Yields the sizes of the calls made."""
    sizes: list[int] = []
    sent: list[Any] = []

    def remember(params: dict[str, Any], **_: Any) -> None:
        sent.append(json.loads(json.dumps(params["RequestItems"])))

    def answer(parsed: dict[str, Any], **_: Any) -> None:
        request = sent[-1][table]
        n = len(sizes)
        if operation == "BatchWriteItem":
            sizes.append(len(request))
            if n < len(keep):
                parsed["UnprocessedItems"] = {table: request[keep[n] :]} if request[keep[n] :] else {}
        else:
            sizes.append(len(request["Keys"]))
            if n < len(keep) and request["Keys"][keep[n] :]:
                parsed["UnprocessedKeys"] = {table: {**request, "Keys": request["Keys"][keep[n] :]}}

    client.meta.events.register(f"provide-client-params.dynamodb.{operation}", remember)
    client.meta.events.register(f"after-call.dynamodb.{operation}", answer)
    try:
        yield sizes
    finally:
        client.meta.events.unregister(f"provide-client-params.dynamodb.{operation}", remember)
        client.meta.events.unregister(f"after-call.dynamodb.{operation}", answer)
