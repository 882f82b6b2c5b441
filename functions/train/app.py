"""train: read the bar archive, train a challenger, compare it with the incumbent on the same recent bars,
publish it, and promote it only when it is not worse on measures a constant guess cannot win.

Per symbol: the archived bars of the last `days` days (Firehose writes bars/YYYY/MM/DD/HH/, one JSON bar per
line) are split by bar time: the last `holdout_days` are held out, the rest trains the challenger (the core's
`train_ensemble`: walk-forward evaluation, then a fit on all of it). On the held-out bars, challenger and
incumbent (the model the pointer names) are scored side by side (`holdout_scores`):
- per hemisphere (trend, range), ROC AUC and log loss of the mean probability against the labels;
- the net ticks per round trip of the host's own backtest (trading_engine.backtest) traded on each model's
  5-minute decisions, fees included.

The rule (`should_promote`): forced; or every hemisphere's AUC above 0.5 (what any constant guess scores) and,
when there is an incumbent, no hemisphere's AUC lower nor log loss higher than the incumbent's by more than
TOLERANCE, and net USD per round trip not lower (each model's held-out backtest written as the evidence
record the live gate reads, `held_out_record`, and the two records compared on the same span). Vote
accuracy is not used: it is dominated by the base rate (an always-"range" guess beat a model with real
signal on the MCL file). The model promoted is the one evaluated, trained without the held-out weeks. The
comparison is recorded in the model's metadata (oos_scores.holdout), in its report, and in the symbol's
promotion history (models/<symbol>/promotions/), with both evidence records.

Event (all optional, strictly typed, unknown fields refused): {"symbols": ["CL"], "days": 28,
"holdout_days": 7, "end": "2026-02-27", "force_promote": false, "config": {"gbt_iterations": 150, ...}}.
Container image function: scikit-learn lives only here.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from regime.bar_series import BarSeries
from regime.contracts import Bar, BarError, ModelPointer, PointerEntry, PointerError
from regime.contracts.evidence import Evidence
from regime.contracts.model_metadata import METADATA_KEY
from regime.inference import RegimeModel
from regime.labels import LabelSpec
from regime.promotion import held_out_record, holdout_scores, should_promote
from regime.training import TrainedEnsemble, train_ensemble
from regime_aws.clients import client, pointer_provider
from regime_aws.symbols import configured_symbols
from regime_aws.tracing import function_tracer
from regime_aws.train_event import ConfigOverrides, Request, TrainEventError

# Service and namespace: POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE (the template's Globals).
logger = Logger()
metrics = Metrics()
tracer = function_tracer()  # X-Ray, when the template's Tracing parameter is Active
__all__ = ["ConfigOverrides", "TrainEventError", "lambda_handler", "should_promote"]


@dataclass(frozen=True, slots=True)
class Settings:
    symbols: tuple[str, ...]
    data_lake_bucket: str
    models_bucket: str
    pointer_parameter: str

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            configured_symbols(),
            env["DATA_LAKE_BUCKET"],
            env["MODELS_BUCKET"],
            env["MODEL_POINTER_PARAMETER"],
        )


def read_pointer(name: str) -> ModelPointer:
    """The pointer as stored now, and nothing left in the provider's cache (max_age 0): promotion rewrites
    it, and a reader sharing the provider in one process (the local cloud) must not get this copy back."""
    return ModelPointer.from_json(str(pointer_provider().get(name, force_fetch=True, max_age=0)))


def archived_bars(bucket: str, symbol: str, first: date, last: date) -> tuple[list[Bar], int]:
    """Bars of `symbol` archived between two dates (inclusive), and how many lines were unreadable."""
    s3 = client("s3")
    bars: list[Bar] = []
    bad = 0
    day = first
    while day <= last:
        prefix = f"bars/{day:%Y/%m/%d}/"
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode("utf-8", "replace")
                for line in body.splitlines():
                    if not line.strip():
                        continue
                    try:
                        bar = Bar.from_json(line)
                    except (BarError, ValueError, OverflowError):
                        bad += 1
                        continue
                    if bar.symbol == symbol:
                        bars.append(bar)
        day += timedelta(days=1)
    return bars, bad


def backtest_ticks(model: RegimeModel, series: BarSeries) -> dict[str, float]:
    """The host's backtest of `series` traded on `model`'s decisions: round trips and net ticks per trip."""
    from trading_engine.backtest.regime_choices import ml_timeline
    from trading_engine.backtest.runner import run_backtest
    from trading_engine.broker.sim.market_tape import MarketTape
    from trading_engine.config import HostConfig
    from trading_engine.fees import fee_schedule
    from trading_engine.instruments import CONTRACTS, SYNTHETIC_SESSION, ContractSpec

    known = CONTRACTS.get(series.symbol.upper())
    # A symbol without a contract spec (synthetic tests) trades on CL's grid and the synthetic calendar.
    spec = known or ContractSpec(
        series.symbol, "SIM", CONTRACTS["CL"].tick_size, CONTRACTS["CL"].tick_value_usd, SYNTHETIC_SESSION
    )
    config = HostConfig()
    tape = MarketTape.from_bars(series, spec, config.sim.spread_ticks)
    result, _ = run_backtest(
        model.version,
        tape,
        spec,
        config,
        fee_schedule(config.fees.schedule, spec.symbol),
        ml_timeline(series, model)[0],
    )
    trips = result.trades
    net_ticks = float(result.net_usd) / float(spec.tick_value_usd) / trips if trips else 0.0
    return {"round_trips": float(trips), "net_ticks_per_trip": net_ticks, "net_usd": float(result.net_usd)}


def holdout_records(
    models: dict[str, RegimeModel],
    scores: dict[str, dict[str, float]],
    symbol: str,
    held: tuple[datetime, datetime],
    training: tuple[datetime, datetime] | None,
) -> dict[str, Evidence]:
    """Each model's held-out backtest (the host's default strategy config) as the evidence record the live
    gate reads; the promotion rule compares the challenger's with the incumbent's."""
    from trading_engine.config import HostConfig, strategy_hash

    config_hash = strategy_hash(HostConfig())
    return {
        name: held_out_record(
            scores[name],
            symbol=symbol,
            model_version=model.version,
            strategy_config_hash=config_hash,
            test_span=held,
            selection_span=training if name == "challenger" else None,
        )
        for name, model in models.items()
    }


# ---------------------------------------------------------------- publish
def with_holdout(trained: TrainedEnsemble, comparison: dict[str, Any]) -> bytes:
    """The ONNX bytes with the held-out comparison written into the metadata's oos_scores."""
    import onnx

    proto = onnx.load_model_from_string(trained.onnx_bytes)
    for prop in proto.metadata_props:
        if prop.key == METADATA_KEY:
            meta = json.loads(prop.value)
            meta["oos_scores"]["holdout"] = comparison
            prop.value = json.dumps(meta, sort_keys=True)
    return bytes(proto.SerializeToString())


def publish(
    body: bytes, trained: TrainedEnsemble, symbol: str, bucket: str, comparison: dict[str, Any]
) -> str:
    """Write the model, its report and its line of promotion history; returns the model's key."""
    version = trained.metadata.version
    key = f"models/{symbol}/ensemble-{version}.onnx"
    s3 = client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    metadata = {**json.loads(trained.metadata.to_json())}
    metadata["oos_scores"]["holdout"] = comparison
    report = {"metadata": metadata, "evaluation": trained.evaluation, "promotion": comparison}
    s3.put_object(
        Bucket=bucket, Key=key.removesuffix(".onnx") + ".json", Body=json.dumps(report, default=str).encode()
    )
    s3.put_object(
        Bucket=bucket,
        Key=f"models/{symbol}/promotions/{version}.json",
        Body=json.dumps(
            {"symbol": symbol, "version": version, "key": key, **comparison}, default=str
        ).encode(),
    )
    return key


def _finite(scores: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in scores.items() if isinstance(v, float) and math.isfinite(v)}


def _incumbent_bytes(bucket: str, key: str, symbol: str) -> bytes | None:
    """The pointed model's bytes; None if its object is gone. Any other S3 failure is raised: a transient
    error fails the run (and its retry) rather than promote a challenger that was never compared."""
    try:
        body = client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
            raise
        logger.warning("incumbent missing", extra={"symbol": symbol, "key": key})
        return None
    data: bytes = body.read()
    return data


def train_symbol(
    symbol: str, request: Request, settings: Settings, pointer: ModelPointer
) -> tuple[dict[str, Any], PointerEntry | None]:
    """Train, compare, publish and maybe promote one symbol; returns the result and the new pointer entry."""
    first = request.end - timedelta(days=request.days - 1)
    bars, bad = archived_bars(settings.data_lake_bucket, symbol, first, request.end)
    if bad:
        logger.warning("unreadable archived lines", extra={"symbol": symbol, "lines": bad})
    if not bars:
        return {"promoted": False, "reason": f"no archived bars between {first} and {request.end}"}, None
    bars.sort(key=lambda b: b.ts)
    split = bars[-1].ts - timedelta(days=request.holdout_days)
    train_bars, held = [b for b in bars if b.ts <= split], [b for b in bars if b.ts > split]
    try:
        trained = train_ensemble(
            BarSeries.from_bars(train_bars),
            request.config,
            source={
                "archive": f"s3://{settings.data_lake_bucket}/bars/",
                "first_day": str(first),
                "last_day": str(request.end),
                "holdout_from": split.isoformat(),
            },
        )
    except ValueError as exc:  # too few or too fragmented bars for the feature window
        return {"promoted": False, "bars": len(bars), "reason": str(exc)}, None
    challenger = RegimeModel.load(trained.onnx_bytes, threads=0)
    models = {"challenger": challenger}
    try:
        entry = pointer.entry(symbol)
    except PointerError as exc:
        logger.warning(
            "pointer entry unusable: treated as no incumbent", extra={"symbol": symbol, "error": str(exc)}
        )
        entry = None
    if entry is not None:
        incumbent_bytes = _incumbent_bytes(settings.models_bucket, entry.key, symbol)
        try:
            if incumbent_bytes is not None:
                models["incumbent"] = RegimeModel.load(incumbent_bytes, threads=0)
        except Exception as exc:  # a corrupt incumbent cannot defend its place; onnxruntime has its own types
            logger.warning(
                "incumbent unusable", extra={"symbol": symbol, "key": entry.key, "error": str(exc)}
            )
    holdout = BarSeries.from_bars(held)
    scores = holdout_scores(models, holdout, LabelSpec.from_dict(trained.metadata.label_spec))
    for name, model in models.items():
        scores[name].update(backtest_ticks(model, holdout))
    records = holdout_records(models, scores, symbol, (split, bars[-1].ts), trained.metadata.training_span())
    promoted, why = should_promote(
        scores["challenger"],
        scores.get("incumbent"),
        request.force_promote,
        (records["challenger"], records["incumbent"]) if "incumbent" in records else None,
    )
    comparison: dict[str, Any] = {
        "holdout": {"from": split.isoformat(), "to": bars[-1].ts.isoformat(), "bars": len(held)},
        "challenger": scores["challenger"],
        "incumbent": {**scores["incumbent"], "version": entry.version if entry else ""}
        if "incumbent" in scores
        else None,
        "promoted": promoted,
        "rule": why,
        "decided_at": datetime.now(UTC).isoformat(),
    }
    # The challenger's held-out result as the record `regime-trader run` checks before live money (it has
    # no deflated Sharpe: one backtest of one configuration, so it never opens the gate alone).
    comparison["evidence"] = json.loads(records["challenger"].to_json())
    if "incumbent" in records:
        comparison["incumbent_evidence"] = json.loads(records["incumbent"].to_json())
    key = publish(with_holdout(trained, comparison), trained, symbol, settings.models_bucket, comparison)
    for name in ("trend_auc", "range_auc", "net_ticks_per_trip"):
        value = scores["challenger"].get(name, float("nan"))
        metrics.add_metric(
            name=f"Holdout_{name}", unit=MetricUnit.NoUnit, value=value if math.isfinite(value) else 0.0
        )
    new_entry = (
        PointerEntry(
            key, trained.metadata.version, datetime.now(UTC).isoformat(), _finite(scores["challenger"])
        )
        if promoted
        else None
    )
    result = {
        "promoted": promoted,
        "reason": why,
        "key": key,
        "version": trained.metadata.version,
        "bars": len(bars),
        "scores": scores,
    }
    return result, new_entry


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Train every requested symbol; write the pointer once, after all of them."""
    metrics.add_metric(name="TrainRequested", unit=MetricUnit.Count, value=1)
    settings = Settings.from_env()
    request = Request.from_event(event if event is not None else {}, settings.symbols)
    pointer = read_pointer(settings.pointer_parameter)
    results: dict[str, Any] = {}
    updated = pointer
    for symbol in request.symbols:
        results[symbol], entry = train_symbol(symbol, request, settings, pointer)
        if entry is not None:
            updated = updated.with_entry(symbol, entry)
        logger.info(
            "trained", extra={"symbol": symbol, **{k: v for k, v in results[symbol].items() if k != "scores"}}
        )
    if updated is not pointer:
        pointer_provider().set(settings.pointer_parameter, updated.to_json(), overwrite=True)
    metrics.add_metric(
        name="ModelsPromoted", unit=MetricUnit.Count, value=sum(r["promoted"] for r in results.values())
    )
    return {"results": results}
