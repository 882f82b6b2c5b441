"""The one type for a user's mistake on the command line: `regime-trader` prints it on one line, exits 2."""

from __future__ import annotations


class UserError(ValueError):
    """A mistake in what the user typed or pointed at (a flag, a file, a model); the message names it."""


def input_errors() -> tuple[type[BaseException], ...]:
    """Every exception type that means the input was wrong, wherever it is raised (imported on failure only:
    the model's type pulls in onnxruntime)."""
    from regime.contracts.bar import BarError
    from regime.inference import ModelError
    from trading_engine.config import ConfigError
    from trading_engine.instruments import UnknownInstrument
    from trading_engine.sweep.grid import GridError

    return (UserError, BarError, ModelError, ConfigError, UnknownInstrument, GridError)
