"""Send JSON records in batches, retrying throttled ones, and hand back what could not be sent.

Kinesis `put_records` and Firehose `put_record_batch` answer per record: a throttled record comes back with
an error code and is retried (with a short backoff) up to `attempts` times; a whole call failing (endpoint
unreachable, credentials, service error) returns everything unsent, for the spool.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)

# One call: the records -> the per-record error codes (None = accepted).
BatchCall = Callable[[list[str]], list[str | None]]


def send_batches(
    lines: list[str],
    call: BatchCall,
    *,
    max_batch: int,
    attempts: int = 4,
    backoff_s: float = 0.05,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Send `lines` in batches of at most `max_batch`; returns the lines that were not accepted."""
    unsent: list[str] = []
    for start in range(0, len(lines), max_batch):
        batch = lines[start : start + max_batch]
        for attempt in range(attempts):
            try:
                errors = call(batch)
            except (BotoCoreError, ClientError) as exc:
                log.warning("batch of %d not sent: %s", len(batch), exc)
                return unsent + lines[start:]  # the cloud is unreachable: keep the rest for the spool
            batch = [line for line, err in zip(batch, errors, strict=True) if err is not None]
            if not batch:
                break
            codes = sorted({e for e in errors if e})
            log.info(
                "%d record(s) refused (%s), attempt %d/%d",
                len(batch),
                ", ".join(codes),
                attempt + 1,
                attempts,
            )
            if attempt + 1 < attempts:
                sleep(backoff_s * 2**attempt)
        unsent += batch
    return unsent
