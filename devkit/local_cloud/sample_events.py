"""`python -m devkit.local_cloud.sample_events`: write the sample events of `events/` that chain.

- events/ingest_bars.json: a Kinesis batch of the WINDOW_MINUTES minutes of CL bars before the sample
  boundary (synthetic, a stretch the fallback model calls a regime), with what a real stream brings along:
  one bar twice, two out of order, one whose high is below its low, one record that is not JSON;
- events/regime.json: EventBridge's scheduled event for that boundary (its `time` is the 5-minute boundary).

Ingested first, they give the regime function a full window: a decision (trend or range), not `nothing`.
The files are committed; a test checks they are what this module writes.
"""

from __future__ import annotations

import base64
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from infra.template_yaml import REPO, load_template
from regime.contracts import Bar
from regime.synthetic import synthetic_days

EVENTS = REPO / "events"
SYMBOL = "CL"
BOUNDARY = datetime(2026, 1, 15, 20, 5, tzinfo=UTC)  # a Thursday, inside CL's session
# Where in synthetic day SEED the window is cut: a stretch the fallback models (the test suite's quick
# one, and `python -m infra.layer_model`'s) call a trend, a few minutes either side too.
SEED, START = 5, 401
ACCOUNT, REGION = "123456789012", "us-east-1"
STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/regime-trader-BarStream"
RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/regime-trader-RegimeFunctionEveryFiveMinutes"


def window_minutes() -> int:
    """The regime function's window (the template's WindowMinutes default)."""
    return int(load_template()["Parameters"]["WindowMinutes"]["Default"])


def window_bars() -> list[Bar]:
    """The window's bars, one a minute, the last one the minute before BOUNDARY."""
    n = window_minutes()
    bars = synthetic_days(1, seed=SEED, symbol=SYMBOL).bars.to_bars()[START : START + n]
    first = BOUNDARY - timedelta(minutes=n)
    return [replace(b, ts=first + timedelta(minutes=i)) for i, b in enumerate(bars)]


def _record(seq: int, data: bytes, arrival: datetime) -> dict[str, Any]:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": SYMBOL,
            "sequenceNumber": f"4959033{seq:049d}",
            "data": base64.b64encode(data).decode(),
            "approximateArrivalTimestamp": arrival.timestamp(),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{seq}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/ingest",
        "awsRegion": REGION,
        "eventSourceARN": STREAM_ARN,
    }


def ingest_event() -> dict[str, Any]:
    """The window's bars as a Kinesis batch, with a duplicate, a swap and two records to set aside."""
    bars = window_bars()
    payloads = [b.to_json().encode() for b in bars]
    payloads[10], payloads[11] = payloads[11], payloads[10]  # out of order: stored by minute all the same
    # After bar 20: bar 20 again, bar 20 with its high below its low (quarantined; the good copy is kept),
    # and a record that is not JSON (quarantined).
    broken = json.dumps({**bars[20].to_dict(), "high": round(bars[20].low - 0.5, 2)}).encode()
    payloads[21:21] = [payloads[20], broken, b"not json at all"]
    arrival = bars[0].ts + timedelta(minutes=1)
    return {"Records": [_record(i + 1, p, arrival + timedelta(seconds=i)) for i, p in enumerate(payloads)]}


def regime_event() -> dict[str, Any]:
    """EventBridge's scheduled event for BOUNDARY (what the regime function's schedule sends)."""
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": BOUNDARY.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [RULE_ARN],
        "detail": {},
    }


def _one_record_a_line(event: dict[str, Any]) -> str:
    records = ",\n".join(json.dumps(r) for r in event["Records"])
    return f'{{"Records": [\n{records}\n]}}\n'


def sample_files() -> dict[Path, str]:
    """Each sample file and its text."""
    return {
        EVENTS / "ingest_bars.json": _one_record_a_line(ingest_event()),
        EVENTS / "regime.json": json.dumps(regime_event(), indent=2) + "\n",
    }


def main() -> int:
    for path, text in sample_files().items():
        path.write_text(text)
        print(f"{path.relative_to(REPO)}: {len(text) / 1e3:.1f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
