"""Turn analysis results into plain JSON values: the one place that knows how."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time
from enum import Enum
from typing import Any


def to_jsonable(obj: Any) -> Any:
    """Return ``obj`` as plain JSON values.

    Non-finite floats (``inf``, ``NaN``) become ``None`` (JSON ``null``); numpy
    scalars and arrays become Python numbers and lists; dates and times become
    ISO-8601 strings; enums their value; mapping keys strings; tuples and sets lists.
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int) and not isinstance(obj, Enum):
        return int(obj)
    if isinstance(obj, float):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, Enum):
        return to_jsonable(obj.value)
    if isinstance(obj, datetime | date | time):
        return obj.isoformat()
    if isinstance(obj, Mapping):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in obj]
    item = getattr(obj, "item", None)  # numpy scalar
    if callable(item) and getattr(obj, "shape", None) == ():
        return to_jsonable(item())
    tolist = getattr(obj, "tolist", None)  # numpy array
    if callable(tolist):
        return to_jsonable(tolist())
    raise TypeError(f"cannot make a {type(obj).__name__} JSON-friendly: {obj!r}")
