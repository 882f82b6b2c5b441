"""Unprocessed DynamoDB items are sent again after jittered, growing, bounded waits; what is still
unprocessed after the bound is handed back to the caller, never dropped. A real local table (moto server);
DynamoDB's throttling, which the local endpoint never does, is injected into the SDK's parsed answers."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from regime_aws.batch_calls import Backoff, Refused, get_all, write_all
from tests.functions.endpoint_faults import unprocessed

TABLE = "batch-calls"


@pytest.fixture
def dynamodb(moto_reset: str) -> Any:
    ddb = boto3.client("dynamodb")
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return ddb


def puts(n: int) -> list[dict[str, Any]]:
    return [{"PutRequest": {"Item": {"k": {"S": f"k{i:02d}"}}}} for i in range(n)]


def test_unprocessed_items_go_again_after_full_jitter_waits_until_written(dynamodb: Any) -> None:
    waits: list[float] = []
    draws = iter([0.5, 0.25, 1.0])
    backoff = Backoff(attempts=5, base_s=0.1, cap_s=0.3, sleep=waits.append, draw=lambda: next(draws))
    with unprocessed(dynamodb, "BatchWriteItem", TABLE, keep=[10, 5, 5]) as sizes:
        left = write_all(dynamodb, TABLE, puts(25), backoff)
    assert left == [] and sizes == [25, 15, 10, 5]  # each call sends what the last left unprocessed
    # a random share of a ceiling that doubles (0.1, 0.2, 0.4) and is capped (0.3)
    assert waits == pytest.approx([0.5 * 0.1, 0.25 * 0.2, 1.0 * 0.3])
    stored = dynamodb.scan(TableName=TABLE)["Items"]
    assert sorted(i["k"]["S"] for i in stored) == [f"k{i:02d}" for i in range(25)]


def test_items_still_unprocessed_after_the_bound_are_handed_back(dynamodb: Any) -> None:
    waits: list[float] = []
    backoff = Backoff(attempts=3, base_s=0.05, cap_s=1.0, sleep=waits.append)  # the real dice
    with unprocessed(dynamodb, "BatchWriteItem", TABLE, keep=[0, 0, 0, 0]) as sizes:
        left = write_all(dynamodb, TABLE, puts(4), backoff)
    assert sizes == [4, 4, 4]  # three calls, then it stops
    assert left == puts(4)  # every one of them, for the caller to report
    assert len(waits) == 2 and 0 <= waits[0] < 0.05 and 0 <= waits[1] < 0.1
    assert len(set(waits)) == 2  # jittered: not the same wait twice


def test_unread_keys_are_read_again_and_counted_past_the_bound(dynamodb: Any) -> None:
    write_all(dynamodb, TABLE, puts(6))
    request = {"Keys": [{"k": {"S": f"k{i:02d}"}} for i in range(6)], "ConsistentRead": True}
    waits: list[float] = []
    with unprocessed(dynamodb, "BatchGetItem", TABLE, keep=[2, 2]) as sizes:
        items, unread = get_all(dynamodb, TABLE, request, Backoff(sleep=waits.append))
    assert sizes == [6, 4, 2] and unread == 0 and len(waits) == 2
    assert len({i["k"]["S"] for i in items}) == 6
    with unprocessed(dynamodb, "BatchGetItem", TABLE, keep=[0] * 5):
        _, unread = get_all(dynamodb, TABLE, request, Backoff(attempts=2, sleep=waits.append))
    assert unread == 6


def test_a_request_the_table_cannot_hold_is_refused_without_retries(dynamodb: Any) -> None:
    waits: list[float] = []
    bad = [{"PutRequest": {"Item": {"k": {"N": "1"}}}}]  # the key is a string attribute
    with pytest.raises(Refused):
        write_all(dynamodb, TABLE, bad, Backoff(sleep=waits.append))
    assert waits == []
