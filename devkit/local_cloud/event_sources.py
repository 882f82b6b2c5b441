"""The template's event sources, played locally: Kinesis -> function (the event source mapping), Kinesis ->
Firehose (the archive's source), and EventBridge schedules -> function, on a clock that may be virtual.

Everything is read from the deployed stack (mappings, rules, delivery streams), not listed here.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3

from devkit.local_cloud.handlers import BoundFunction
from devkit.local_cloud.sam_translate import ACCOUNT_ID, REGION
from devkit.local_cloud.schedule import Schedule

log = logging.getLogger(__name__)
GET_RECORDS_LIMIT = 10_000


@dataclass
class ShardReader:
    """One shard of a stream, read once; its records fan out to the mapping and the archive."""

    stream_arn: str
    shard_id: str
    iterator: str | None

    def read(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        kinesis = boto3.client("kinesis")
        while self.iterator:
            page = kinesis.get_records(ShardIterator=self.iterator, Limit=GET_RECORDS_LIMIT)
            self.iterator = page.get("NextShardIterator")
            records.extend(page["Records"])
            if not page["Records"] or page.get("MillisBehindLatest", 0) == 0:
                break
        return records


def _lambda_record(record: dict[str, Any], reader: ShardReader) -> dict[str, Any]:
    """A Kinesis record as Lambda hands it to a function."""
    arrival = record["ApproximateArrivalTimestamp"]
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(record["Data"]).decode(),
            "approximateArrivalTimestamp": arrival.timestamp() if isinstance(arrival, datetime) else arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{reader.shard_id}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "awsRegion": REGION,
        "eventSourceARN": reader.stream_arn,
    }


@dataclass
class KinesisMapping:
    """An event source mapping: batches, partial-batch retries from the checkpoint, the on-failure queue."""

    function: BoundFunction
    batch_size: int
    max_retries: int
    on_failure_arn: str | None
    pending: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0

    def deliver(self, records: list[dict[str, Any]]) -> int:
        """Hand new records (Lambda-shaped) to the function; returns how many were settled."""
        self.pending.extend(records)
        settled = 0
        while self.pending:
            batch = self.pending[: self.batch_size]
            try:
                response = self.function.invoke({"Records": batch}) or {}
                failures = [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]
            except Exception:  # a raising handler fails the whole batch, as in Lambda
                log.exception("%s raised on a batch of %d", self.function.logical_id, len(batch))
                failures = [batch[0]["kinesis"]["sequenceNumber"]]
            if not failures:
                settled += len(batch)
                self.pending = self.pending[len(batch) :]
                self.attempts = 0
                continue
            seqs = [r["kinesis"]["sequenceNumber"] for r in batch]
            checkpoint = min(seqs.index(s) for s in failures if s in seqs) if set(failures) & set(seqs) else 0
            settled += checkpoint
            self.pending = self.pending[checkpoint:]
            self.attempts += 1
            if self.attempts <= self.max_retries:
                return settled  # retried at the next poll, from the checkpoint
            self._give_up(self.pending[: self.batch_size])
            settled += min(len(self.pending), self.batch_size)
            self.pending = self.pending[self.batch_size :]
            self.attempts = 0
        return settled

    def _give_up(self, batch: list[dict[str, Any]]) -> None:
        log.error(
            "%s: dropping %d records after %d retries", self.function.logical_id, len(batch), self.max_retries
        )
        if not self.on_failure_arn:
            return
        queue_name = self.on_failure_arn.rsplit(":", 1)[-1]
        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        first, last = batch[0], batch[-1]
        info = {
            "requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": self.function.arn},
            "KinesisBatchInfo": {
                "shardId": first["eventID"].split(":", 1)[0],
                "startSequenceNumber": first["kinesis"]["sequenceNumber"],
                "endSequenceNumber": last["kinesis"]["sequenceNumber"],
                "batchSize": len(batch),
                "streamArn": first["eventSourceARN"],
            },
        }
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(info))


@dataclass
class ArchiveStream:
    """A Firehose delivery stream whose source is the Kinesis stream (moto's Firehose does not pull)."""

    name: str
    delimiter: bytes

    def forward(self, records: list[dict[str, Any]]) -> None:
        firehose = boto3.client("firehose")
        for start in range(0, len(records), 500):  # PutRecordBatch's limit
            chunk = records[start : start + 500]
            firehose.put_record_batch(
                DeliveryStreamName=self.name, Records=[{"Data": r["Data"] + self.delimiter} for r in chunk]
            )


def _delimiter(description: dict[str, Any]) -> bytes:
    for dest in description.get("Destinations", []):
        processing = dest.get("ExtendedS3DestinationDescription", {}).get("ProcessingConfiguration", {})
        for proc in processing.get("Processors", []):
            if proc["Type"] == "AppendDelimiterToRecord":
                params = {p["ParameterName"]: p["ParameterValue"] for p in proc.get("Parameters", [])}
                text = str(params.get("Delimiter", "\\n"))
                return text.encode().decode("unicode_escape").encode()  # the template writes "\\n"
    return b""


@dataclass
class StreamSource:
    """A Kinesis stream with its readers, the mappings that consume it and the archive it feeds."""

    arn: str
    readers: list[ShardReader]
    mappings: list[KinesisMapping]
    archives: list[ArchiveStream]

    def pump(self) -> int:
        """Read what arrived; archive it; deliver it. Returns the records read."""
        read = 0
        for reader in self.readers:
            records = reader.read()
            read += len(records)
            if not records:
                for mapping in self.mappings:  # retries of an earlier failure
                    if mapping.pending:
                        mapping.deliver([])
                continue
            for archive in self.archives:
                archive.forward(records)
            shaped = [_lambda_record(r, reader) for r in records]
            for mapping in self.mappings:
                mapping.deliver(shaped)
        return read


def stream_sources(functions: dict[str, BoundFunction]) -> list[StreamSource]:
    """Every Kinesis stream that a mapping or a Firehose stream of the deployment reads."""
    by_arn = {f.arn: f for f in functions.values()}
    lam, kinesis, firehose = boto3.client("lambda"), boto3.client("kinesis"), boto3.client("firehose")
    sources: dict[str, StreamSource] = {}

    def source(arn: str, position: str) -> StreamSource:
        if arn not in sources:
            name = arn.rsplit("/", 1)[-1]
            shards = kinesis.list_shards(StreamName=name)["Shards"]
            kind = "LATEST" if position == "LATEST" else "TRIM_HORIZON"
            readers = [
                ShardReader(
                    arn,
                    s["ShardId"],
                    kinesis.get_shard_iterator(StreamName=name, ShardId=s["ShardId"], ShardIteratorType=kind)[
                        "ShardIterator"
                    ],
                )
                for s in shards
            ]
            sources[arn] = StreamSource(arn, readers, [], [])
        return sources[arn]

    for esm in lam.list_event_source_mappings()["EventSourceMappings"]:
        arn = esm["EventSourceArn"]
        if ":kinesis:" not in arn or esm["FunctionArn"] not in by_arn:
            continue
        on_failure = esm.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        mapping = KinesisMapping(
            by_arn[esm["FunctionArn"]],
            int(esm.get("BatchSize", 100)),
            int(esm.get("MaximumRetryAttempts", 2)),
            on_failure,
        )
        source(arn, str(esm.get("StartingPosition", "TRIM_HORIZON"))).mappings.append(mapping)
    for name in firehose.list_delivery_streams()["DeliveryStreamNames"]:
        description = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
        origin = (
            description.get("Source", {}).get("KinesisStreamSourceDescription", {}).get("KinesisStreamARN")
        )
        if origin:
            source(origin, "TRIM_HORIZON").archives.append(ArchiveStream(name, _delimiter(description)))
    return list(sources.values())


@dataclass
class ScheduledTarget:
    """An EventBridge schedule rule and the function it invokes."""

    rule_arn: str
    schedule: Schedule
    function: BoundFunction
    constant_input: str | None

    def event(self, at: datetime) -> dict[str, Any]:
        if self.constant_input:
            payload: dict[str, Any] = json.loads(self.constant_input)
            return payload
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT_ID,
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [self.rule_arn],
            "detail": {},
        }


def scheduled_targets(functions: dict[str, BoundFunction]) -> list[ScheduledTarget]:
    """Every schedule rule of the deployment that targets one of its functions."""
    by_arn = {f.arn: f for f in functions.values()}
    events = boto3.client("events")
    targets: list[ScheduledTarget] = []
    for rule in events.list_rules()["Rules"]:
        expression = rule.get("ScheduleExpression")
        if not expression or rule.get("State") != "ENABLED":
            continue
        for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]:
            if target["Arn"] in by_arn:
                targets.append(
                    ScheduledTarget(
                        rule["Arn"], Schedule.parse(expression), by_arn[target["Arn"]], target.get("Input")
                    )
                )
    return targets


def fire_due(
    targets: list[ScheduledTarget], after: datetime, until: datetime
) -> list[tuple[str, datetime, Any]]:
    """Invoke every target due in (after, until], in time order; returns (function, time, result)."""
    due = sorted((t, target) for target in targets for t in target.schedule.due(after, until))
    results: list[tuple[str, datetime, Any]] = []
    for at, target in due:
        try:
            results.append((target.function.logical_id, at, target.function.invoke(target.event(at))))
        except Exception as exc:  # an async invocation's error is logged (its DLQ), never the clock's
            log.exception("%s failed at %s", target.function.logical_id, at)
            results.append((target.function.logical_id, at, exc))
    return results
