"""The template's functions bound to their in-process handlers, with the environment the stack gave them.

A function's module comes from its CodeUri (zip) or its Dockerfile's folder (image), its handler from the
template, and its environment variables from the deployed function's configuration on the local endpoint:
the handler sees exactly what it would see in Lambda.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import boto3

from devkit.local_cloud.endpoint import environment
from devkit.local_cloud.sam_translate import ACCOUNT_ID, REGION
from devkit.local_cloud.stack import LocalStack, physical_ids
from infra.template_yaml import load_template

DEFAULT_HANDLER = "app.lambda_handler"


@dataclass(frozen=True)
class LocalContext:
    """The parts of Lambda's context object the handlers (and Powertools) read."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""
    function_version: str = "$LATEST"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass(frozen=True)
class BoundFunction:
    """One function of the stack, callable in-process."""

    logical_id: str
    name: str
    module: str
    handler: str
    memory_mb: int
    env: dict[str, str]

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.name}"

    def load(self) -> Callable[[dict[str, Any], Any], Any]:
        func: Callable[[dict[str, Any], Any], Any] = getattr(
            importlib.import_module(self.module), self.handler
        )
        return func

    def invoke(self, event: dict[str, Any]) -> Any:
        """Call the handler as Lambda would: its environment set, a fresh request id."""
        context = LocalContext(self.name, self.memory_mb, str(uuid.uuid4()))
        with environment(self.env):
            return self.load()(event, context)


def _module_and_handler(resource: dict[str, Any]) -> tuple[str, str]:
    props = resource.get("Properties", {})
    if props.get("PackageType") == "Image":
        folder = PurePosixPath(resource["Metadata"]["Dockerfile"]).parent
        command = props.get("ImageConfig", {}).get("Command", [DEFAULT_HANDLER])
        handler = str(command[0])
    else:
        folder = PurePosixPath(str(props["CodeUri"]).rstrip("/"))
        handler = str(props.get("Handler", DEFAULT_HANDLER))
    module_file, func = handler.rsplit(".", 1)
    return ".".join((*folder.parts, module_file)), func


def bind_functions(stack: LocalStack) -> dict[str, BoundFunction]:
    """Every AWS::Serverless::Function of template.yaml, keyed by logical id."""
    return bind_physical(stack.physical)


def bind_running(stack_name: str) -> dict[str, BoundFunction]:
    """The functions of a stack already deployed on the endpoint (a running local cloud's)."""
    return bind_physical(physical_ids(stack_name))


def bind_physical(physical: Mapping[str, str]) -> dict[str, BoundFunction]:
    """The template's functions bound to the deployed ones named in `physical` (logical id -> name)."""
    sam = load_template()
    lam = boto3.client("lambda")
    bound: dict[str, BoundFunction] = {}
    for logical_id, resource in sam["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        name = physical[logical_id]
        config = lam.get_function_configuration(FunctionName=name)
        env = {k: str(v) for k, v in config.get("Environment", {}).get("Variables", {}).items()}
        module, func = _module_and_handler(resource)
        bound[logical_id] = BoundFunction(
            logical_id, name, module, func, int(config.get("MemorySize", 512)), env
        )
    return bound
