"""The one module that imports the IB client library: ``ib_async``, else the archived ``ib_insync``.

``ib_async`` (ib-api-reloaded) is the maintained fork of ``ib_insync`` (archived in 2024) with
the same API. ``OPTIONS_SCALPER_IB_LIB=ib_insync`` forces the fallback (the test suite runs a
second pass with it); ``LIBRARY`` says which one was taken.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

ENV_VAR = "OPTIONS_SCALPER_IB_LIB"
_CHOICES = ("ib_async", "ib_insync")


class IBLibraryMissing(ImportError):
    """Neither ib_async nor ib_insync is installed."""


def _load() -> tuple[str, ModuleType]:
    wanted = os.environ.get(ENV_VAR, "").strip()
    if wanted and wanted not in _CHOICES:
        raise IBLibraryMissing(f"{ENV_VAR}={wanted!r}: use ib_async or ib_insync")
    order = (wanted,) if wanted else _CHOICES
    for name in order:
        try:
            return name, importlib.import_module(name)
        except ImportError:
            continue
    raise IBLibraryMissing(
        f"{' or '.join(order)} is not installed: pip install 'options-scalper-bt[ibkr]' (ib_async)"
    )


LIBRARY, _lib = _load()

IB: Any = _lib.IB
Contract: Any = _lib.Contract
Index: Any = _lib.Index
Stock: Any = _lib.Stock
Option: Any = _lib.Option
LimitOrder: Any = _lib.LimitOrder
ExecutionFilter: Any = _lib.ExecutionFilter
RequestError: Any = (
    getattr(_lib, "RequestError", None) or importlib.import_module(f"{LIBRARY}.wrapper").RequestError
)
util: Any = _lib.util
VERSION: str = getattr(_lib, "__version__", "?")

__all__ = [
    "ENV_VAR",
    "IB",
    "LIBRARY",
    "VERSION",
    "Contract",
    "ExecutionFilter",
    "IBLibraryMissing",
    "Index",
    "LimitOrder",
    "Option",
    "RequestError",
    "Stock",
    "util",
]
