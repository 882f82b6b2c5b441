"""Pure parts of the local cloud: intrinsic functions and schedule expressions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devkit.local_cloud.intrinsics import UnresolvedReference, condition_values, resolve
from devkit.local_cloud.schedule import Schedule, ScheduleError


def no_atts(name: str, attr: str) -> str | None:
    return None


def test_sub_resolves_refs_attributes_and_keeps_escapes() -> None:
    atts = {("Bucket", "Arn"): "arn:aws:s3:::b"}
    value = {"Fn::Sub": "s3://${Bucket}/x/${!hour}/ ${Bucket.Arn} ${AWS::Region}"}
    out = resolve(value, {"Bucket": "b", "AWS::Region": "us-east-1"}, lambda n, a: atts.get((n, a)))
    assert out == "s3://b/x/${hour}/ arn:aws:s3:::b us-east-1"


def test_partial_resolution_leaves_unknowns_and_strict_refuses_them() -> None:
    value = {"Key": [{"Ref": "Known"}, {"Ref": "Unknown"}, {"Fn::GetAtt": ["Thing", "Arn"]}]}
    assert resolve(value, {"Known": "k"}, no_atts, partial=True) == {
        "Key": ["k", {"Ref": "Unknown"}, {"Fn::GetAtt": ["Thing", "Arn"]}]
    }
    with pytest.raises(UnresolvedReference, match="Unknown"):
        resolve(value, {"Known": "k"}, no_atts)


def test_join_of_a_list_parameter() -> None:
    assert resolve({"Fn::Join": [",", {"Ref": "Symbols"}]}, {"Symbols": ["CL", "MCL"]}, no_atts) == "CL,MCL"
    assert resolve({"Fn::Join": ["-", ["a", {"Ref": "B"}]]}, {"B": "b"}, no_atts) == "a-b"


def at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def test_every_five_minutes_on_the_clock() -> None:
    s = Schedule.parse("cron(0/5 * * * ? *)")
    assert list(s.due(at(15, 20, 3), at(15, 20, 16))) == [at(15, 20, 5), at(15, 20, 10), at(15, 20, 15)]
    assert list(s.due(at(15, 20, 5), at(15, 20, 5))) == []  # (after, until]: not twice


def test_weekly_on_saturday_evening() -> None:
    s = Schedule.parse("cron(0 23 ? * SAT *)")
    assert list(s.due(at(12, 0, 0), at(19, 0, 0))) == [at(17, 23, 0)]  # 2026-01-17 is a Saturday


def test_rate_and_ranges() -> None:
    assert list(Schedule.parse("rate(10 minutes)").due(at(15, 9, 55), at(15, 10, 21))) == [
        at(15, 10, 0),
        at(15, 10, 10),
        at(15, 10, 20),
    ]
    s = Schedule.parse("cron(30 13-14 ? * MON-FRI *)")
    assert list(s.due(at(16, 0, 0), at(19, 23, 0))) == [
        at(16, 13, 30),
        at(16, 14, 30),
        at(19, 13, 30),
        at(19, 14, 30),
    ]


@pytest.mark.parametrize("expression", ["every 5 minutes", "cron(0/5 * * *)", "cron(x * * * ? *)"])
def test_unreadable_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ScheduleError, match=r"cron|schedule"):
        Schedule.parse(expression)


def test_conditions_are_evaluated_on_the_parameters_and_an_unknown_function_is_refused() -> None:
    conditions = {
        "On": {"Fn::Equals": [{"Ref": "Tracing"}, "Active"]},
        "Off": {"Fn::Not": [{"Condition": "On"}]},
        "Both": {"Fn::And": [{"Condition": "On"}, {"Fn::Equals": ["a", "a"]}]},
    }
    assert condition_values(conditions, {"Tracing": "Active"}) == {"On": True, "Off": False, "Both": True}
    off = {"On": False, "Off": True, "Both": False}
    assert condition_values(conditions, {"Tracing": "PassThrough"}) == off
    with pytest.raises(UnresolvedReference, match="Fn::If"):
        condition_values({"X": {"Fn::If": ["On", True, False]}}, {})
