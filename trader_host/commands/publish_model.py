"""`regime-trader publish-model`: a trained ensemble into a stack's models bucket, and the pointer at it.

So that a deployed stack does not start on the layer's synthetic fallback model. The stack is named as `run`
names it: the local cloud's state file or a deployed stack's name.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from trader_host.commands.user_error import UserError


def register(p: argparse.ArgumentParser) -> None:
    """The subcommand's arguments."""
    p.add_argument(
        "--stack",
        required=True,
        help="the stack: a state file (build/local-cloud/state.json) or a deployed stack's name",
    )
    p.add_argument(
        "--model", type=Path, required=True, help="ensemble.onnx, or the folder `train --out` wrote"
    )
    p.add_argument(
        "--symbol",
        help="the symbol it decides for (default: the one it was trained on, or the stack's only one)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from regime.inference import RegimeModel
    from trader_host.cloud.aws import AwsAccess
    from trader_host.cloud.model_publisher import publish_model
    from trader_host.cloud.stack_outputs import describe_stack, served_symbols

    model, report = _model_files(args.model)
    trained_on = RegimeModel.load(model).metadata.training_range.get("symbols", [])
    stack = describe_stack(args.stack, flag="--stack")
    access = AwsAccess.of(stack.environment)  # a local endpoint's, handed to boto3, never exported
    if missing := access.missing_setup():
        raise UserError(missing)
    served = served_symbols(stack.parameters)
    symbol = args.symbol or _only(trained_on) or _only(list(served))
    if symbol is None:
        raise UserError(
            f"--model {model}: trained on {trained_on or 'unnamed symbols'}; name one with --symbol"
        )
    if served and symbol not in served:
        raise UserError(f"--stack {args.stack} serves {','.join(served)}, not {symbol}")
    missing_outputs = [k for k in ("ModelsBucketName", "ModelPointerParameterName") if k not in stack.outputs]
    if missing_outputs:
        raise UserError(f"--stack {args.stack}: no output {', '.join(missing_outputs)}")
    done = publish_model(
        model,
        symbol,
        stack.outputs["ModelsBucketName"],
        stack.outputs["ModelPointerParameterName"],
        json.loads(report.read_text()) if report else None,
        access,
    )
    was = f" (was {done.replaced})" if done.replaced else " (it had none: the fallback model until now)"
    print(
        f"published {done.version} for {done.symbol}: s3://{stack.outputs['ModelsBucketName']}/{done.key}; "
        f"{stack.outputs['ModelPointerParameterName']} points at it{was}"
    )
    return 0


def _model_files(path: Path) -> tuple[Path, Path | None]:
    """ensemble.onnx and its evaluation.json (when `train` wrote one beside it)."""
    model = path / "ensemble.onnx" if path.is_dir() else path
    if not model.is_file():
        raise UserError(
            f"--model {path}: no such file" + (" (no ensemble.onnx in it)" if path.is_dir() else "")
        )
    report = model.parent / "evaluation.json"
    return model, report if report.is_file() else None


def _only(symbols: list[str]) -> str | None:
    return symbols[0] if len(symbols) == 1 else None
