"""A handler that reports every record as failed: drives the local event source mapping's retry path."""

from __future__ import annotations

from typing import Any

CALLS: list[int] = []


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    CALLS.append(len(event["Records"]))
    return {
        "batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in event["Records"]]
    }
