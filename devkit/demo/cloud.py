"""DemoCloud: a moto server this process owns, template.yaml deployed on it, the model published to it.

Used as a context manager: on exit (normal, failure or Ctrl-C) the AWS environment variables it set are
restored and the server process is stopped, so nothing it started outlives it.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from devkit.local_cloud.cloud import LocalCloud
from devkit.local_cloud.endpoint import DUMMY_CREDENTIALS, MotoServer
from regime_aws.container import cold_start

AWS_VARIABLES = ("AWS_ENDPOINT_URL", *DUMMY_CREDENTIALS)
REGIME_FUNCTION = "RegimeFunction"
QUIET_FUNCTIONS = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}


@dataclass
class DemoCloud:
    """The running local cloud; `outputs_file` is what `run --stack-outputs` reads."""

    server: MotoServer
    cloud: LocalCloud
    outputs_file: Path
    _saved_env: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def start(cls, workdir: Path, symbol: str = "CL") -> DemoCloud:
        """Start the server and deploy the stack for `symbol` (the caller must `close`).

        The stack serves the symbols of its `Symbols` parameter, as `sam deploy` would be told: ingest refuses
        bars of any other symbol and the regime function decides for these only.
        """
        saved = {k: os.environ.get(k) for k in AWS_VARIABLES}
        server = MotoServer.start()
        try:
            # Dummy credentials always: a real profile must never be offered to the local endpoint.
            os.environ.update(AWS_ENDPOINT_URL=server.url, **DUMMY_CREDENTIALS)
            _fresh_containers()
            # Schedules limited to the regime function: the weekly training is not part of a trading day.
            cloud = LocalCloud.deploy(parameters={"Symbols": symbol}, include={REGIME_FUNCTION})
            # The host's clock is virtual: waiting for a bar in flight would wait on the wall clock.
            cloud.override_env(REGIME_FUNCTION, BAR_WAIT_SECONDS="0")
            for logical_id in cloud.functions:
                # The functions' JSON logs and metrics would bury the demo's own progress lines.
                cloud.override_env(logical_id, **QUIET_FUNCTIONS)
            workdir.mkdir(parents=True, exist_ok=True)
            outputs = workdir / "stack-outputs.json"
            outputs.write_text(json.dumps(cloud.stack.described(server.url), indent=2))
        except BaseException:
            server.stop()
            _restore(saved)
            raise
        return cls(server, cloud, outputs, saved)

    def publish_model(self, symbol: str, model: Path) -> str:
        """Make `model` the one the regime function uses for `symbol`, as `publish-model` does; returns its
        version."""
        from trader_host.cloud.model_publisher import publish_model

        outputs = self.cloud.stack.outputs
        return publish_model(
            model, symbol, outputs["ModelsBucketName"], outputs["ModelPointerParameterName"]
        ).version

    @property
    def bucket(self) -> str:
        return self.cloud.stack.outputs["DataLakeBucketName"]

    def close(self) -> None:
        """Stop the server and restore the environment (idempotent)."""
        if self.server.process.poll() is None:
            self.server.stop()
        _restore(self._saved_env)
        _fresh_containers()  # the containers died with the endpoint: no client of theirs may outlive it

    def __enter__(self) -> DemoCloud:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _fresh_containers() -> None:
    """Forget the function modules already imported: the next invocation imports them anew, in its own
    environment, as a new Lambda container would (a cold start).

    The handlers cache their boto3 clients (and the pointer's provider) per container; in a process that
    talked to another endpoint before, those would still point there.
    """
    for name in [m for m in sys.modules if m.startswith("functions.") and m.endswith(".app")]:
        del sys.modules[name]
    cold_start()  # what the handlers share through the layer: clients, pointer provider, models, windows


def _restore(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
