"""CSV text for DataBento-layout files, written atomically, optionally through zstd.

Formatting is vectorised with pyarrow: prices through a cents -> text table,
timestamps through per-minute tables, so no Python runs per row.
"""

from __future__ import annotations

import io
import os
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import zstandard

from feeds.synthetic.sessions import NS_PER_MIN
from feeds.synthetic.spec import SyntheticDataError

TsFormat = Literal["iso", "int"]
PriceFormat = Literal["decimal", "fixed"]
Layout = Literal["databento", "seed"]
TS_FORMATS: tuple[str, ...] = ("iso", "int")
PRICE_FORMATS: tuple[str, ...] = ("decimal", "fixed")
LAYOUTS: tuple[str, ...] = ("databento", "seed")

UNDEF_PRICE = 9_223_372_036_854_775_807  # DataBento's "no price" in fixed-point CSV
UNDEF_TIMESTAMP = 18_446_744_073_709_551_615
_ZSTD_LEVEL_STREAM = 3  # large files: fast, bounded memory
_ZSTD_LEVEL_ONE_SHOT = 9  # small files: one frame that records its size, compressed harder
_ONE_SHOT_LIMIT = 32 * 1024 * 1024


@lru_cache(maxsize=8)
def _cents_table(decimals: int, size: int) -> pa.Array:
    pad = "0" * (decimals - 2)
    return pa.array([f"{c // 100}.{c % 100:02d}{pad}" for c in range(size)], type=pa.string())


def price_column(cents: np.ndarray, price_format: str, *, decimals: int = 9) -> pa.Array:
    """Cents (``-1`` = empty) as DataBento prints them: ``1.250000000`` or fixed-point ``1250000000``."""
    missing = cents < 0
    if price_format == "fixed":
        values = np.where(missing, UNDEF_PRICE, cents.astype(np.int64) * 10_000_000)
        return pa.array(values, type=pa.int64())
    top = int(cents.max()) + 1 if cents.size else 1
    size = 1 << max(10, (top - 1).bit_length())
    idx = pa.array(np.where(missing, 0, cents), type=pa.int64(), mask=missing)
    return pc.take(_cents_table(decimals, size), idx)


def iso_column(ns: np.ndarray) -> pa.Array:
    """Nanoseconds since the epoch as ``2024-01-03T14:31:00.000000000Z`` (for small arrays)."""
    ts = pa.array(ns.astype(np.int64), type=pa.timestamp("ns", tz="UTC"))
    return pc.strftime(ts, format="%Y-%m-%dT%H:%M:%SZ")


def ts_column(ns: np.ndarray, ts_format: str) -> pa.Array:
    if ts_format == "int":
        return pa.array(ns.astype(np.uint64), type=pa.uint64())
    return iso_column(ns)


class DayClock:
    """Timestamps of one session's rows: per-minute tables, so 5M rows format in a few takes."""

    def __init__(self, bar_start_ns: np.ndarray, frac_ns: np.ndarray, ts_format: str) -> None:
        self.bar_start_ns = bar_start_ns
        self.frac_ns = frac_ns
        self.ts_format = ts_format
        if ts_format == "iso":
            self._recv = iso_column(bar_start_ns + NS_PER_MIN)
            secs = (bar_start_ns[:, None] + np.arange(60)[None, :] * 1_000_000_000).ravel()
            self._prefix = pc.utf8_slice_codeunits(iso_column(secs), 0, 20)  # 'YYYY-MM-DDTHH:MM:SS.'
            self._frac = pa.array([f"{v:09d}Z" for v in frac_ns.tolist()], type=pa.string())

    def recv(self, minute: np.ndarray) -> pa.Array:
        """``ts_recv``: the END of each row's minute."""
        if self.ts_format == "int":
            return pa.array((self.bar_start_ns[minute] + NS_PER_MIN).astype(np.uint64), type=pa.uint64())
        return pc.take(self._recv, pa.array(minute, type=pa.int64()))

    def event(self, minute: np.ndarray, sec: np.ndarray, frac_idx: np.ndarray) -> pa.Array:
        """``ts_event``: the last update inside the minute."""
        if self.ts_format == "int":
            ns = self.bar_start_ns[minute] + sec * 1_000_000_000 + self.frac_ns[frac_idx]
            return pa.array(ns.astype(np.uint64), type=pa.uint64())
        head = pc.take(self._prefix, pa.array(minute * 60 + sec, type=pa.int64()))
        tail = pc.take(self._frac, pa.array(frac_idx, type=pa.int64()))
        return pc.binary_join_element_wise(head, tail, "")


def check_formats(layout: str, ts_format: str, price_format: str) -> None:
    for name, value, allowed in (
        ("layout", layout, LAYOUTS),
        ("ts_format", ts_format, TS_FORMATS),
        ("price_format", price_format, PRICE_FORMATS),
    ):
        if value not in allowed:
            raise SyntheticDataError(f"{name}={value!r} is unknown; use one of {list(allowed)}")


class CsvSink:
    """Write a CSV file (header + arrow tables) atomically, zstd-compressed when ``compress``.

    Small files become one zstd frame that records its size; large ones stream in
    bounded memory. The file appears under its final name only on a clean ``close``.
    """

    def __init__(self, path: Path, columns: tuple[str, ...], *, compress: bool) -> None:
        self.path = path
        self.columns = columns
        self.compress = compress
        self.rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self._fh = open(self._tmp, "wb")  # noqa: SIM115 - closed in close()/abort()
        header = (",".join(columns) + "\n").encode()
        self._pending: list[bytes] = [header] if compress else []
        self._pending_bytes = len(header)
        if not compress:
            self._fh.write(header)
        self._stream: zstandard.ZstdCompressionWriter | None = None
        self._options = pcsv.WriteOptions(include_header=False, quoting_style="none", batch_size=1 << 16)

    def write(self, table: pa.Table) -> None:
        if table.column_names != list(self.columns):
            raise SyntheticDataError(
                f"{self.path.name}: columns {table.column_names} != {list(self.columns)}"
            )
        if table.num_rows == 0:
            return
        buf = io.BytesIO()
        pcsv.write_csv(table, buf, self._options)
        self.rows += table.num_rows
        self._emit(buf.getvalue())

    def _emit(self, data: bytes) -> None:
        if not self.compress:
            self._fh.write(data)
            return
        if self._stream is None:
            self._pending.append(data)
            self._pending_bytes += len(data)
            if self._pending_bytes <= _ONE_SHOT_LIMIT:
                return
            self._stream = zstandard.ZstdCompressor(level=_ZSTD_LEVEL_STREAM).stream_writer(
                self._fh, closefd=False
            )
            for chunk in self._pending:
                self._stream.write(chunk)
            self._pending = []
            return
        self._stream.write(data)

    def close(self) -> Path:
        if self.compress and self._stream is None:
            self._fh.write(
                zstandard.ZstdCompressor(level=_ZSTD_LEVEL_ONE_SHOT).compress(b"".join(self._pending))
            )
        elif self._stream is not None:
            self._stream.flush(zstandard.FLUSH_FRAME)
        self._pending = []
        self._fh.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        self._fh.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> CsvSink:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.abort()
