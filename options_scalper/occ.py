"""OCC/OSI option symbols: format, parse (scalar and vectorized), root -> underlying.

An OCC symbol is ``ROOT YYMMDD C|P SSSSSSSS``: a 1-6 character root, the expiry,
the right, and the strike in thousandths of a dollar (8 digits). It comes
compact (``TSLA240105C00250000``) or OSI-padded to a 6-character root
(``TSLA  240105C00250000``, 21 characters), which is what OPRA data from
DataBento carries.

The root is not always the underlying: SPX dailies and weeklies trade as
``SPXW`` (PM-settled) beside the AM-settled monthly ``SPX``. ``ROOT_MAP`` says
which underlying and settlement style each special root has; any other root is
its own underlying, PM-settled.

Pure: no I/O, no backtrader. ``parse_occ_array`` uses pyarrow compute kernels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from options_scalper.model import OptionRight, ScalperError

Settlement = Literal["AM", "PM"]

# Root -> (underlying, settlement). Roots not listed map to themselves, PM.
ROOT_MAP: dict[str, tuple[str, Settlement]] = {
    "SPX": ("SPX", "AM"),
    "SPXW": ("SPX", "PM"),
    "SPXPM": ("SPX", "PM"),
    "NDX": ("NDX", "AM"),
    "NDXP": ("NDX", "PM"),
    "RUT": ("RUT", "AM"),
    "RUTW": ("RUT", "PM"),
    "XSP": ("XSP", "PM"),
    "XND": ("XND", "PM"),
    "VIX": ("VIX", "AM"),
    "VIXW": ("VIX", "AM"),
    "DJX": ("DJX", "AM"),
    "MRUT": ("MRUT", "PM"),
}

OSI_ROOT_WIDTH = 6
_TAIL_LEN = 15  # YYMMDD + C/P + 8 strike digits
_MAX_STRIKE_MILLS = 99_999_999

# Anchored on the fixed 15-character tail, so a root may contain digits (adjusted roots).
_OCC_PATTERN = r"^(?P<root>[A-Z][A-Z0-9]{0,5})(?P<pad> *)(?P<ymd>\d{6})(?P<right>[CP])(?P<strike>\d{8})$"
_OCC_RE = re.compile(_OCC_PATTERN)


class InvalidSymbolError(ScalperError, ValueError):
    """A string is not an OCC/OSI option symbol."""


@dataclass(frozen=True)
class OccSymbol:
    """One parsed option symbol; ``strike`` in dollars, ``expiry`` the calendar date."""

    root: str
    underlying: str
    settlement: Settlement
    expiry: date
    right: OptionRight
    strike: float

    @property
    def compact(self) -> str:
        return format_occ(self.root, self.expiry, self.right, self.strike)

    @property
    def padded(self) -> str:
        return format_occ(self.root, self.expiry, self.right, self.strike, padded=True)


def underlying_of_root(root: str) -> str:
    """Return the underlying a root trades on (``SPXW`` -> ``SPX``; others -> themselves)."""
    return ROOT_MAP.get(root, (root, "PM"))[0]


def settlement_of_root(root: str) -> Settlement:
    """Return ``"AM"`` or ``"PM"`` for a root (unlisted roots are PM-settled)."""
    return ROOT_MAP.get(root, (root, "PM"))[1]


def format_occ(root: str, expiry: date, right: OptionRight, strike: float, *, padded: bool = False) -> str:
    """Format an OCC symbol: compact ``TSLA240105C00250000`` or OSI-padded ``TSLA  240105C...``.

    ``strike`` is in dollars and is rounded to the nearest thousandth.
    """
    if not root or len(root) > OSI_ROOT_WIDTH or not root.isalnum() or root != root.upper():
        raise InvalidSymbolError(
            f"occ.format_occ: root {root!r} must be 1-6 upper-case letters/digits; pass e.g. 'TSLA'"
        )
    mills = round(float(strike) * 1000)
    if not 0 <= mills <= _MAX_STRIKE_MILLS:
        raise InvalidSymbolError(
            f"occ.format_occ: strike {strike!r} does not fit 8 digits of thousandths; use 0 <= strike < 100000"
        )
    letter = OptionRight(right).value
    head = root.ljust(OSI_ROOT_WIDTH) if padded else root
    return f"{head}{expiry:%y%m%d}{letter}{mills:08d}"


def parse_occ(symbol: str) -> OccSymbol:
    """Parse one compact or OSI-padded OCC symbol; raise ``InvalidSymbolError`` if malformed."""
    if not isinstance(symbol, str):
        raise InvalidSymbolError(
            f"occ.parse_occ: {symbol!r} is not a string; pass e.g. 'TSLA240105C00250000'"
        )
    m = _OCC_RE.match(symbol.rstrip())
    if m is None or not _padding_ok(m.group("root"), m.group("pad")):
        raise InvalidSymbolError(
            f"occ.parse_occ: {symbol!r} is not an OCC symbol; expected e.g. 'TSLA240105C00250000' "
            f"or 'TSLA  240105C00250000'"
        )
    ymd = m.group("ymd")
    try:
        expiry = date(2000 + int(ymd[:2]), int(ymd[2:4]), int(ymd[4:6]))
    except ValueError as exc:
        raise InvalidSymbolError(f"occ.parse_occ: {symbol!r} has an invalid expiry date {ymd!r}") from exc
    root = m.group("root")
    underlying, settlement = ROOT_MAP.get(root, (root, "PM"))
    return OccSymbol(
        root=root,
        underlying=underlying,
        settlement=settlement,
        expiry=expiry,
        right=OptionRight(m.group("right")),
        strike=int(m.group("strike")) / 1000.0,
    )


def _padding_ok(root: str, pad: str) -> bool:
    return not pad or len(root) + len(pad) == OSI_ROOT_WIDTH


# --- vectorized -----------------------------------------------------------------------------

PARSED_ARROW_SCHEMA = pa.schema(
    [
        ("symbol", pa.string()),  # compact; null where invalid
        ("root", pa.string()),
        ("underlying", pa.string()),
        ("expiry", pa.date32()),
        ("option_type", pa.string()),
        ("strike", pa.float64()),
        ("valid", pa.bool_()),
    ]
)


def parse_occ_unique_arrow(values: pa.Array | pa.ChunkedArray) -> pa.Table:
    """Parse an Arrow string array element-wise (meant for UNIQUE values) into ``PARSED_ARROW_SCHEMA``.

    Invalid entries (and nulls) get ``valid=False`` and nulls elsewhere. Work is vectorized
    pyarrow compute; the only Python loops run over distinct roots and distinct expiry dates.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    trimmed = pc.utf8_rtrim_whitespace(values)
    parts = pc.extract_regex(trimmed, _OCC_PATTERN)
    root = pc.struct_field(parts, "root")
    pad = pc.struct_field(parts, "pad")
    ymd = pc.struct_field(parts, "ymd")
    right = pc.struct_field(parts, "right")
    strike_digits = pc.struct_field(parts, "strike")

    pad_len = pc.utf8_length(pad)
    pad_ok = pc.or_(
        pc.equal(pad_len, 0),
        pc.equal(pc.add(pc.utf8_length(root), pad_len), OSI_ROOT_WIDTH),
    )
    matched = pc.and_(pc.is_valid(parts), pad_ok)

    expiry = _expiry_from_ymd(ymd, matched)
    valid = pc.fill_null(pc.and_(matched, pc.is_valid(expiry)), False)

    root = pc.if_else(valid, root, pa.scalar(None, pa.string()))
    right = pc.if_else(valid, right, pa.scalar(None, pa.string()))
    strike_mills = pc.if_else(valid, strike_digits, pa.scalar(None, pa.string())).cast(pa.int64())
    strike = pc.divide(strike_mills.cast(pa.float64()), 1000.0)
    expiry = pc.if_else(valid, expiry, pa.scalar(None, pa.date32()))
    underlying = _map_roots(root)
    compact = pc.binary_join_element_wise(
        root, pc.if_else(valid, ymd, pa.scalar(None, pa.string())), right, strike_digits, ""
    )
    return pa.Table.from_arrays(
        [compact, root, underlying, expiry, right, strike, valid], schema=PARSED_ARROW_SCHEMA
    )


def _expiry_from_ymd(ymd: pa.Array, matched: pa.Array) -> pa.Array:
    ymd = pc.if_else(matched, ymd, pa.scalar(None, pa.string()))
    enc = pc.dictionary_encode(ymd)
    dates: list[date | None] = []
    for text in enc.dictionary.to_pylist():
        try:
            dates.append(date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6])))
        except ValueError:
            dates.append(None)
    return pc.take(pa.array(dates, type=pa.date32()), enc.indices)


def _map_roots(root: pa.Array) -> pa.Array:
    enc = pc.dictionary_encode(root)
    mapped = [underlying_of_root(r) for r in enc.dictionary.to_pylist()]
    return pc.take(pa.array(mapped, type=pa.string()), enc.indices)


def parse_occ_array(
    symbols: Iterable[str] | pd.Series | np.ndarray | pa.Array | pa.ChunkedArray,
) -> pd.DataFrame:
    """Parse many symbols at once; return one row per input, in input order.

    Columns: ``symbol`` (compact OCC; the input unchanged where ``valid`` is False),
    ``root``, ``underlying``, ``expiry`` (python ``datetime.date`` objects, None where
    invalid), ``option_type`` (``'C'``/``'P'``), ``strike`` (float64 dollars, NaN where
    invalid), ``valid`` (bool). Only the distinct symbols are parsed; results are mapped
    back through dictionary codes, so a 5M-row day costs about as much as its ~20k
    distinct contracts plus a few vectorized takes.
    """
    arr = _to_arrow_strings(symbols)
    enc = arr if pa.types.is_dictionary(arr.type) else pc.dictionary_encode(arr)
    uniq = enc.dictionary.cast(pa.string())
    parsed = parse_occ_unique_arrow(uniq)
    shown = pc.if_else(parsed.column("valid"), parsed.column("symbol"), uniq)
    parsed = parsed.set_column(0, "symbol", shown)
    rows = parsed.take(enc.indices)  # null inputs -> all-null rows
    out = rows.to_pandas()
    out["valid"] = out["valid"].fillna(False).astype(bool)
    return out


def _to_arrow_strings(symbols: object) -> pa.Array:
    if isinstance(symbols, pa.ChunkedArray):
        symbols = (
            symbols.cast(symbols.type.value_type) if pa.types.is_dictionary(symbols.type) else symbols
        ).combine_chunks()
    if isinstance(symbols, pa.Array):
        arr = symbols
    elif isinstance(symbols, pd.Series | pd.Index):
        arr = pa.array(symbols, from_pandas=True)
    elif isinstance(symbols, np.ndarray):
        arr = pa.array(symbols.astype(object), type=pa.string(), from_pandas=True)
    elif isinstance(symbols, Iterable):
        arr = pa.array(list(symbols), type=pa.string(), from_pandas=True)
    else:
        raise InvalidSymbolError(
            f"occ.parse_occ_array: expected a sequence of strings, got {type(symbols).__name__}"
        )
    if pa.types.is_dictionary(arr.type):
        return arr
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    return arr
