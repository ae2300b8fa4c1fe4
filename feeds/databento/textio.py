"""Low-level text access to DataBento CSV files: decompression, chunking, format sniffing.

A file is ``.csv`` or ``.csv.zst`` (zstd, one or several frames); the compression
is recognised by its magic bytes, not its name. Text is handed out in chunks
that end on a line boundary, so a 5M-row day never sits in memory at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import pyarrow as pa
import zstandard

from options_scalper.model import ScalperError

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"
INT64_MAX = 9_223_372_036_854_775_807  # DataBento's "undefined price"
UINT32_MAX = 4_294_967_295
INT32_MAX = 2_147_483_647
FIXED_PRICE_SCALE = 1e9
_READ_BYTES = 1 << 22  # compressed bytes per read
_PEEK_READ_BYTES = 1 << 15  # compressed bytes per read while peeking at the head
SAMPLE_LINES = 200

TsKind = Literal["iso_tz", "iso_naive", "int_ns"]


class DataFileError(ScalperError):
    """A data file cannot be read: the message names the file (and line) and what to do."""


class TextStream:
    """Readable binary stream of a data file's decompressed text; hand it to ``pyarrow.csv``.

    ``peek(n)`` returns the first bytes without consuming them. A truncated zstd frame
    raises ``DataFileError`` when the end of the file is reached.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.closed = False
        try:
            self._fh = open(path, "rb")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise DataFileError(f"{path}: cannot open ({exc.strerror}); check the path") from exc
        head = self._fh.read(4)
        self._fh.seek(0)
        if not head:
            self.close()
            raise DataFileError(f"{path}: empty file (0 bytes); re-download it")
        if head.startswith(GZIP_MAGIC):
            self.close()
            raise DataFileError(
                f"{path}: file is gzip, not zstd: decompress or rename it (gunzip, then zstd if you like)"
            )
        self._zstd = head == ZSTD_MAGIC
        if not self._zstd and path.suffix == ".zst":
            self.close()
            raise DataFileError(
                f"{path}: not a zstd file (starts {head!r}); re-download it or rename it to .csv"
            )
        self._dctx = zstandard.ZstdDecompressor()
        self._dobj = self._dctx.decompressobj()
        self._pieces: list[bytes] = []
        self._buffered = 0
        self._eof = False
        self._in_frame = False  # the current zstd frame has started but not ended

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._fh.close()
            self.closed = True

    def __enter__(self) -> TextStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fill(self, read_bytes: int = _READ_BYTES) -> None:
        comp = self._fh.read(read_bytes)
        if not comp:
            self._eof = True
            if self._zstd and self._in_frame:
                raise DataFileError(f"{self.path}: truncated zstd frame (file is incomplete); re-download it")
            return
        if not self._zstd:
            self._pieces.append(comp)
            self._buffered += len(comp)
            return
        while comp:
            try:
                out = self._dobj.decompress(comp)
            except zstandard.ZstdError as exc:
                raise DataFileError(f"{self.path}: corrupt zstd data ({exc}); re-download the file") from exc
            self._in_frame = True
            if out:
                self._pieces.append(out)
                self._buffered += len(out)
            if not self._dobj.eof:
                return
            comp = self._dobj.unused_data  # the next frame of a multi-frame file
            self._dobj = self._dctx.decompressobj()
            self._in_frame = False

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or self._buffered < size):
            self._fill()
        if size < 0 or size >= self._buffered:
            data = b"".join(self._pieces)
            self._pieces, self._buffered = [], 0
            return data
        data = b"".join(self._pieces)
        out, rest = data[:size], data[size:]
        self._pieces, self._buffered = [rest], len(rest)
        return out

    def peek(self, size: int) -> bytes:
        while not self._eof and self._buffered < size:
            self._fill(_PEEK_READ_BYTES)
        data = b"".join(self._pieces)
        self._pieces = [data] if data else []
        return data[:size]


def arrow_input(path: Path) -> pa.NativeFile:
    """Open ``path`` as an Arrow-native stream of its text (zstd decoded in C++, no Python callbacks).

    Call after ``TextStream`` has vetted the file (gzip, empty, not-zstd). Reading a
    truncated zstd file raises ``OSError`` (see ``arrow_read_error``).
    """
    raw = pa.OSFile(str(path), "rb")
    with open(path, "rb") as fh:
        zstd = fh.read(4) == ZSTD_MAGIC
    return pa.CompressedInputStream(raw, "zstd") if zstd else raw


def arrow_read_error(path: Path, exc: BaseException, where: str) -> DataFileError:
    """Translate an Arrow read/parse error into a one-line ``DataFileError``."""
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "runcated" in msg:
        return DataFileError(f"{path}: truncated zstd frame (file is incomplete); re-download it")
    if isinstance(exc, OSError) and "zstd" in msg.lower():
        return DataFileError(f"{path}: corrupt zstd data ({msg}); re-download the file")
    if "straddl" in msg or "block size" in msg:
        return DataFileError(
            f"{path}: {where}: a line is longer than the read block (not a CBBO row: a binary or "
            f"garbled file?); fix or re-download the file"
        )
    return DataFileError(f"{path}: {where}: {msg}; fix or re-download the file")


def read_all_text(path: Path) -> bytes:
    """Return the whole decompressed text of a small file (bars, statistics)."""
    with TextStream(path) as stream:
        return stream.read()


def split_header(path: Path, head: bytes, *, whole: bool) -> tuple[list[str], list[list[str]]]:
    """Return the header's column names and up to ``SAMPLE_LINES`` data rows split on commas.

    ``head`` is the start of the text; ``whole`` says it is the entire file (else its last
    line may be cut and is ignored).
    """
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise DataFileError(f"{path}: empty file (no header line); re-download it")
    header = [h.strip() for h in lines[0].split(",")]
    body = lines[1:] if whole else lines[1:-1]
    rows = [ln.split(",") for ln in body[:SAMPLE_LINES] if ln.strip()]
    return header, rows


_INT_RE = re.compile(r"^-?\d+$")
_TZ_RE = re.compile(r"(Z|[+-]\d\d:?\d\d)$")


def detect_ts_kind(path: Path, column: str, values: Sequence[str]) -> TsKind:
    """Say whether a timestamp column holds ISO text (with/without zone) or integer nanoseconds."""
    sample = [v.strip() for v in values if v.strip()]
    if not sample:
        return "iso_tz"
    if all(_INT_RE.match(v) for v in sample):
        return "int_ns"
    if all(_TZ_RE.search(v) for v in sample):
        return "iso_tz"
    if not any(_TZ_RE.search(v) for v in sample):
        return "iso_naive"
    raise DataFileError(f"{path}: column {column!r} mixes timestamps with and without a zone; fix the file")


def detect_fixed_point(values: Sequence[str]) -> bool:
    """True when prices are DataBento fixed-point integers (1e9 = $1), False when decimals.

    Integers are fixed-point when every non-zero one is >= 1e6 (i.e. >= $0.001), which no
    decimal option or stock price reaches.
    """
    sample = [v.strip() for v in values if v.strip()]
    if not sample or not all(_INT_RE.match(v) for v in sample):
        return False
    nonzero = [abs(int(v)) for v in sample if int(v) != 0]
    return bool(nonzero) and min(nonzero) >= 1_000_000


def column_values(header: Sequence[str], rows: Sequence[Sequence[str]], names: Sequence[str]) -> list[str]:
    """Collect the sample values of several columns (rows with the wrong width are skipped)."""
    idx = [header.index(n) for n in names if n in header]
    return [row[i] for row in rows if len(row) == len(header) for i in idx]
