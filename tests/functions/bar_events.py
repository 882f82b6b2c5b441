"""Kinesis-shaped events built from Bar records, as the stream would deliver them to ingest_bars."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from regime.contracts import Bar

STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/local"


def kinesis_event(bars: Sequence[Bar], first_sequence: int = 1) -> dict[str, Any]:
    """One Kinesis batch carrying `bars` in order (partition key = symbol, as the contract says)."""
    return {
        "Records": [
            {
                "kinesis": {
                    "partitionKey": bar.symbol,
                    "sequenceNumber": f"{first_sequence + i:056d}",
                    "data": base64.b64encode(bar.to_json().encode()).decode(),
                    "approximateArrivalTimestamp": bar.ts.timestamp() + 60,
                },
                "eventSource": "aws:kinesis",
                "eventSourceARN": STREAM_ARN,
            }
            for i, bar in enumerate(bars)
        ]
    }
