from __future__ import annotations

import subprocess
import sys
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from options_scalper.model import OptionRight, ScalperError
from options_scalper.occ import (
    InvalidSymbolError,
    OccSymbol,
    format_occ,
    parse_occ,
    parse_occ_array,
    settlement_of_root,
    underlying_of_root,
)


@pytest.mark.parametrize(
    ("root", "expiry", "right", "strike", "padded", "expected"),
    [
        ("TSLA", date(2024, 1, 5), OptionRight.CALL, 250.0, False, "TSLA240105C00250000"),
        ("TSLA", date(2024, 1, 5), OptionRight.CALL, 250.0, True, "TSLA  240105C00250000"),
        ("F", date(2024, 1, 19), OptionRight.PUT, 2.5, True, "F     240119P00002500"),
        ("SPXW", date(2024, 3, 15), OptionRight.PUT, 4750.0, False, "SPXW240315P04750000"),
        ("BRKB", date(2025, 12, 19), OptionRight.CALL, 412.5, False, "BRKB251219C00412500"),
        ("QQQ", date(2024, 1, 5), OptionRight.CALL, 400.0004, False, "QQQ240105C00400000"),
        ("AAPL", date(2024, 1, 5), OptionRight.CALL, 187.4996, False, "AAPL240105C00187500"),
    ],
)
def test_format_occ_known_symbols_match(root, expiry, right, strike, padded, expected):
    assert format_occ(root, expiry, right, strike, padded=padded) == expected


def test_format_occ_accepts_letter_for_right():
    assert format_occ("TSLA", date(2024, 1, 5), "P", 250) == "TSLA240105P00250000"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("root", "strike"), [("toolongroot", 1.0), ("", 1.0), ("tsla", 1.0), ("TSLA", -1.0), ("TSLA", 100_000.0)]
)
def test_format_occ_bad_input_raises(root, strike):
    with pytest.raises(InvalidSymbolError):
        format_occ(root, date(2024, 1, 5), OptionRight.CALL, strike)


@pytest.mark.parametrize(
    ("symbol", "root", "underlying", "settlement", "expiry", "right", "strike"),
    [
        ("TSLA240105C00250000", "TSLA", "TSLA", "PM", date(2024, 1, 5), OptionRight.CALL, 250.0),
        ("TSLA  240105C00250000", "TSLA", "TSLA", "PM", date(2024, 1, 5), OptionRight.CALL, 250.0),
        ("F     240119P00002500", "F", "F", "PM", date(2024, 1, 19), OptionRight.PUT, 2.5),
        ("F240119P00002500", "F", "F", "PM", date(2024, 1, 19), OptionRight.PUT, 2.5),
        ("SPXW  240315P04750000", "SPXW", "SPX", "PM", date(2024, 3, 15), OptionRight.PUT, 4750.0),
        ("SPX   240315P04750000", "SPX", "SPX", "AM", date(2024, 3, 15), OptionRight.PUT, 4750.0),
        ("NDXP240315C18000000", "NDXP", "NDX", "PM", date(2024, 3, 15), OptionRight.CALL, 18000.0),
        ("RUTW240315C02000000", "RUTW", "RUT", "PM", date(2024, 3, 15), OptionRight.CALL, 2000.0),
        ("XSP240315C00500000", "XSP", "XSP", "PM", date(2024, 3, 15), OptionRight.CALL, 500.0),
        ("BRKB  251219C00412500", "BRKB", "BRKB", "PM", date(2025, 12, 19), OptionRight.CALL, 412.5),
        ("TSLA1 240105C00250000", "TSLA1", "TSLA1", "PM", date(2024, 1, 5), OptionRight.CALL, 250.0),
        ("SPY240105C00470000\r", "SPY", "SPY", "PM", date(2024, 1, 5), OptionRight.CALL, 470.0),
    ],
)
def test_parse_occ_compact_and_padded_parse_fields(
    symbol, root, underlying, settlement, expiry, right, strike
):
    parsed = parse_occ(symbol)
    assert parsed == OccSymbol(root, underlying, settlement, expiry, right, strike)
    assert parsed.compact == symbol.replace(" ", "").strip()
    assert len(parsed.padded) == 21


@pytest.mark.parametrize(
    "symbol",
    [
        "BAD",
        "",
        "TSLA240105X00250000",  # right must be C/P
        "TSLA240105C0025000",  # 7 strike digits
        "TSLA 240105C00250000",  # padded but not to 6
        "tsla240105C00250000",  # lower case
        "TSLA240230C00250000",  # Feb 30th
        "TSLA241305C00250000",  # month 13
        "TOOLONG240105C00250000",  # 7-char root
        "240105C00250000",  # no root
    ],
)
def test_parse_occ_malformed_raises_value_error_quoting_symbol(symbol):
    with pytest.raises(ValueError, match=repr(symbol).replace("\\", "\\\\")) as info:
        parse_occ(symbol)
    assert isinstance(info.value, InvalidSymbolError)
    assert isinstance(info.value, ScalperError)
    assert "\n" not in str(info.value)


def test_parse_occ_non_string_raises():
    with pytest.raises(InvalidSymbolError):
        parse_occ(12345)  # type: ignore[arg-type]


def test_root_maps_explicit_and_default():
    assert underlying_of_root("SPXW") == "SPX"
    assert settlement_of_root("SPXW") == "PM"
    assert settlement_of_root("SPX") == "AM"
    assert underlying_of_root("NDXP") == "NDX"
    assert underlying_of_root("TSLA") == "TSLA"
    assert settlement_of_root("TSLA") == "PM"


def test_parse_occ_array_matches_scalar_parse_and_keeps_order():
    symbols = [
        "TSLA240105C00250000",
        "BAD",
        "SPXW  240315P04750000",
        None,
        "TSLA  240105C00250000",
        "F     240119P00002500",
        "TSLA240230C00250000",
        "TSLA 240105C00250000",
    ]
    df = parse_occ_array(symbols)
    assert list(df.columns) == ["symbol", "root", "underlying", "expiry", "option_type", "strike", "valid"]
    assert len(df) == len(symbols)
    assert df["valid"].tolist() == [True, False, True, False, True, True, False, False]
    assert df["strike"].dtype == np.float64
    for i, sym in enumerate(symbols):
        if not df["valid"].iloc[i]:
            assert np.isnan(df["strike"].iloc[i])
            assert df["expiry"].iloc[i] is None
            continue
        ref = parse_occ(sym)  # type: ignore[arg-type]
        row = df.iloc[i]
        assert row["symbol"] == ref.compact
        assert row["root"] == ref.root
        assert row["underlying"] == ref.underlying
        assert row["expiry"] == ref.expiry
        assert isinstance(row["expiry"], date)
        assert row["option_type"] == ref.right.value
        assert row["strike"] == ref.strike
    assert df["symbol"].iloc[1] == "BAD"  # invalid input shown unchanged


@pytest.mark.parametrize("kind", ["list", "series", "ndarray", "arrow", "chunked", "dictionary"])
def test_parse_occ_array_accepts_common_containers(kind):
    raw = ["TSLA240105C00250000", "TSLA  240105P00255000", "TSLA240105C00250000"]
    inp: object
    if kind == "list":
        inp = raw
    elif kind == "series":
        inp = pd.Series(raw)
    elif kind == "ndarray":
        inp = np.array(raw, dtype=object)
    elif kind == "arrow":
        inp = pa.array(raw)
    elif kind == "chunked":
        inp = pa.chunked_array([raw[:1], raw[1:]])
    else:
        inp = pa.array(raw).dictionary_encode()
    df = parse_occ_array(inp)
    assert df["symbol"].tolist() == ["TSLA240105C00250000", "TSLA240105P00255000", "TSLA240105C00250000"]
    assert df["strike"].tolist() == [250.0, 255.0, 250.0]


def test_parse_occ_array_empty_returns_typed_empty_frame():
    df = parse_occ_array([])
    assert len(df) == 0
    assert df["valid"].dtype == bool


def test_parse_occ_array_many_rows_parses_unique_once():
    syms = [
        format_occ("TSLA", date(2024, 1, 5), r, 200 + k, padded=True) for k in range(50) for r in OptionRight
    ]
    idx = np.random.default_rng(1).integers(0, len(syms), 20_000)
    df = parse_occ_array(pa.array(np.array(syms, dtype=object)[idx]))
    assert df["valid"].all()
    expected = np.array([parse_occ(s).strike for s in syms])[idx]
    np.testing.assert_array_equal(df["strike"].to_numpy(), expected)


def test_occ_module_imports_no_backtrader():
    code = "import sys, options_scalper.occ; assert 'backtrader' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
