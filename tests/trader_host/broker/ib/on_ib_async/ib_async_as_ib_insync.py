"""A pytest plugin: `ib_insync` imports resolve to ib_async, its maintained fork (the README's swap)."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import ib_async

sys.modules["ib_insync"] = ib_async
for _module in pkgutil.iter_modules(ib_async.__path__):
    sys.modules[f"ib_insync.{_module.name}"] = importlib.import_module(f"ib_async.{_module.name}")


def pytest_report_header() -> str:
    from trader_host.broker.ib.ib_api import IB

    return f"IB client library: {IB.__module__.split('.')[0]} {ib_async.__version__}"
