"""The regime function's models: loaded once per container and source, bad ones remembered, with fallback.

The pointer (`regime.contracts.ModelPointer`, read through the one Parameters provider) names an S3 key per
symbol. A model that fails to load or to run is remembered as bad for that key (a new version gets a new
key), and the model packaged in the layer serves instead (`ModelFallback`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import BotoCoreError, ClientError

from regime.contracts import ModelPointer, PointerError
from regime.inference import ModelError, RegimeModel
from regime_aws import SERVICE
from regime_aws.clients import client, pointer_provider
from regime_aws.decision_settings import Settings

logger = Logger(child=True, service=SERVICE)
metrics = Metrics()  # Powertools' metric set is shared: the handler's log_metrics flushes these


def model_fault(exc: BaseException) -> bool:
    """Errors that say the model itself is unusable (onnxruntime's own types are not ValueError)."""
    return isinstance(exc, ModelError) or type(exc).__module__.startswith("onnxruntime")


class ModelStore:
    """Models by source (S3 key or layer path), and sources found unusable, with why."""

    def __init__(self) -> None:
        self._loaded: dict[str, RegimeModel] = {}
        self.bad: dict[str, str] = {}
        self.problem = ""

    def clear(self) -> None:
        self._loaded.clear()
        self.bad.clear()

    def mark_bad(self, source: str, exc: BaseException) -> None:
        """Remember `source` as unusable for the life of the container (a new version gets a new key)."""
        self.bad[source] = f"{type(exc).__name__}: {exc}"
        self._loaded.pop(source, None)
        logger.error("model unusable, remembered as bad", extra={"source": source, "error": self.bad[source]})

    def candidates(self, symbol: str, settings: Settings) -> Iterator[tuple[RegimeModel, str]]:
        """The pointed model, then the layer's: (model, source) for each that loads; bad ones are skipped.

        Once the caller stops iterating, `self.problem` says why the pointed model did not serve (if so).
        """
        self.problem = ""
        key = self._pointed_key(symbol, settings)
        if key is not None:
            source = f"s3://{settings.models_bucket}/{key}"
            loaded = self._load(source, lambda: _s3_bytes(settings.models_bucket, key))
            if isinstance(loaded, RegimeModel):
                yield loaded, source
                loaded = self.bad.get(source, "failed to run")
            self.problem = f"model {source} unusable: {loaded}"
        if self.problem:
            metrics.add_metric(name="ModelFallback", unit=MetricUnit.Count, value=1)
            logger.warning(
                "falling back to the layer model", extra={"symbol": symbol, "problem": self.problem}
            )
        layer = settings.layer_model
        if not layer.exists():
            self.problem = f"{self.problem + '; ' if self.problem else ''}no layer model at {layer}"
            return
        loaded = self._load(str(layer), layer.read_bytes)
        if isinstance(loaded, str):
            self.problem = f"{self.problem + '; ' if self.problem else ''}layer model unusable: {loaded}"
            return
        yield loaded, str(layer)
        # Reached only when the layer's model failed to run too.
        self.problem = (
            f"{self.problem + '; ' if self.problem else ''}layer model unusable: {self.bad.get(str(layer))}"
        )

    def _pointed_key(self, symbol: str, settings: Settings) -> str | None:
        try:
            value = pointer_provider().get(settings.pointer_parameter, max_age=settings.pointer_max_age)
            entry = ModelPointer.from_json(str(value)).entry(symbol)
        except (GetParameterError, PointerError) as exc:
            self.problem = f"pointer unusable: {exc}"
            return None
        return entry.key if entry else None

    def _load(self, source: str, read: Callable[[], bytes]) -> RegimeModel | str:
        """The model of `source` (loaded once), or why there is none."""
        if source in self.bad:
            return self.bad[source]
        if source not in self._loaded:
            try:
                data = read()
            except (ClientError, BotoCoreError, OSError) as exc:
                return f"unreadable: {exc}"  # unreachable: not the model's fault, retry later
            try:
                self._loaded[source] = RegimeModel.load(data)
            except Exception as exc:  # truncated, corrupt, not an ensemble: onnxruntime raises its own types
                self.mark_bad(source, exc)
                return self.bad[source]
        return self._loaded[source]


def _s3_bytes(bucket: str, key: str) -> bytes:
    body = client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    try:
        data: bytes = body.read()
    finally:
        body.close()
    return data


MODELS = ModelStore()
