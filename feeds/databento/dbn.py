"""Decode DataBento DBN files (``.dbn``, ``.dbn.zst``; DBN versions 1-3) into numpy record chunks.

The metadata header is decoded by the official ``databento_dbn.Metadata.decode``; the
records are viewed with the official record layouts (``databento_dbn.<v>.<Msg>._dtypes``,
the version's struct map), which is what ``databento.DBNStore.to_ndarray`` does: a
homogeneous file is a run of fixed-size C structs, so a chunk of decompressed bytes is
one ``np.frombuffer`` away from columns. Nothing is parsed by hand beyond the 8-byte
prefix that says how long the metadata is.

Every chunk is checked: each record's ``length`` must match the layout and its ``rtype``
the schema asked for (a ``cbbo-1s`` file is refused for ``cbbo-1m``, naming both); a
last record cut short means a truncated file. Errors are ``DataFileError`` one-liners.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import databento_dbn
import numpy as np

from feeds.databento.textio import DataFileError, TextStream, arrow_input, arrow_read_error

DBN_PREFIX = b"DBN"
UINT64_MAX = 18_446_744_073_709_551_615  # DataBento's "undefined timestamp"
CHUNK_RECORDS = 1 << 18  # records decoded per chunk (~20 MiB of cbbo records)
_PREFIX_LEN = 8  # b"DBN" + version byte + u32 metadata length

# schema name -> (record class name in databento_dbn.v<N>, rtype)
SCHEMAS: dict[str, tuple[str, int]] = {
    "cbbo-1m": ("CBBOMsg", int(databento_dbn.RType.CBBO_1M)),
    "ohlcv-1m": ("OHLCVMsg", int(databento_dbn.RType.OHLCV_1M)),
    "statistics": ("StatMsg", int(databento_dbn.RType.STATISTICS)),
    "definition": ("InstrumentDefMsg", int(databento_dbn.RType.INSTRUMENT_DEF)),
}
_VERSIONS: dict[int, ModuleType] = {1: databento_dbn.v1, 2: databento_dbn.v2, 3: databento_dbn.v3}
_RTYPE_SCHEMA = {
    0xC0: "cbbo-1s", 0xC1: "cbbo-1m", 0x20: "ohlcv-1s", 0x21: "ohlcv-1m", 0x22: "ohlcv-1h",
    0x23: "ohlcv-1d", 0x18: "statistics", 0x13: "definition", 0x01: "mbp-1", 0x00: "trades",
    0xA0: "mbo", 0xC2: "tcbbo", 0x16: "symbol mapping", 0x17: "system", 0x15: "error",
}  # fmt: skip


def is_dbn_name(path: Path) -> bool:
    """True when the file name says DBN (``.dbn`` or ``.dbn.zst``)."""
    name = path.name.lower()
    return name.endswith(".dbn") or name.endswith(".dbn.zst")


def rtype_name(rtype: int) -> str:
    """The schema a record type belongs to, e.g. ``cbbo-1s`` for 192."""
    return _RTYPE_SCHEMA.get(rtype, f"rtype {rtype}")


@dataclass(frozen=True)
class DbnHeader:
    """What a DBN file's metadata says, plus the record layout its records are read with."""

    version: int
    metadata: databento_dbn.Metadata
    schema: str
    dtype: np.dtype
    rtype: int


class DbnFile:
    """An open DBN file: ``header`` decoded, ``chunks()`` yields its records as structured arrays.

    ``expect`` is the schema the caller reads (``cbbo-1m``, ``ohlcv-1m``, ``statistics``,
    ``definition``); a file of another schema raises ``DataFileError`` naming both.
    """

    def __init__(self, path: Path, expect: str) -> None:
        self.path = path
        with TextStream(path) as vet:  # empty, gzip, "not zstd" are refused here, by name and magic
            vet.peek(_PREFIX_LEN)
        self._stream = arrow_input(path)  # zstd decoded in C++; a truncated frame raises on read
        try:
            self.header = self._read_header(expect)
        except BaseException:
            self._stream.close()
            raise

    def __enter__(self) -> DbnFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stream.close()

    def _read(self, size: int) -> bytes:
        try:
            return bytes(self._stream.read(size))
        except OSError as exc:
            raise arrow_read_error(self.path, exc, "reading DBN records") from exc

    def _read_header(self, expect: str) -> DbnHeader:
        path = self.path
        prefix = self._read(_PREFIX_LEN)
        if len(prefix) < _PREFIX_LEN or not prefix.startswith(DBN_PREFIX):
            raise DataFileError(
                f"{path}: not a DBN file (starts {prefix[:8]!r}); re-download it, or name a CSV file .csv"
            )
        version = prefix[3]
        if version not in _VERSIONS:
            raise DataFileError(
                f"{path}: DBN version {version} is not one this toolkit reads (1-3); "
                f"upgrade databento-dbn or re-download with the current DBN version"
            )
        (length,) = struct.unpack("<I", prefix[4:8])
        body = self._read(length)
        if len(body) < length:
            raise DataFileError(f"{path}: truncated DBN metadata (file is incomplete); re-download it")
        try:
            metadata = databento_dbn.Metadata.decode(prefix + body)
        except databento_dbn.DBNError as exc:
            raise DataFileError(f"{path}: corrupt DBN metadata ({exc}); re-download it") from exc
        schema = metadata.schema
        if schema is None:
            raise DataFileError(
                f"{path}: DBN file mixes record types (no schema, e.g. live data); "
                f"download one {expect} file per schema"
            )
        schema = str(schema)
        if schema != expect:
            raise DataFileError(
                f"{path}: holds {schema} records, not {expect}; download the {expect} schema"
                + (" (1-second quotes are not 1-minute data)" if schema == "cbbo-1s" else "")
            )
        cls_name, rtype = SCHEMAS[expect]
        fields = list(getattr(_VERSIONS[version], cls_name)._dtypes)
        if metadata.ts_out:
            fields.append(("ts_out", "u8"))
        return DbnHeader(version, metadata, schema, np.dtype(fields), rtype)

    def chunks(self, records: int = CHUNK_RECORDS) -> Iterator[np.ndarray]:
        """Yield the records as structured arrays of ``header.dtype``, ``records`` at a time."""
        size = self.header.dtype.itemsize
        index = 0
        while True:
            data = self._read(size * records)
            if not data:
                return
            loose = len(data) % size
            whole = len(data) - loose
            if whole:  # the complete records first: a truncated tail fails after what is whole
                chunk = np.frombuffer(data[:whole] if loose else data, dtype=self.header.dtype)
                self._check(chunk, index)
                index += len(chunk)
                yield chunk
            if loose:
                raise DataFileError(
                    f"{self.path}: truncated DBN file: the last record is {loose} of {size} bytes "
                    f"(after record {index:,}); re-download it"
                )

    def _check(self, chunk: np.ndarray, index: int) -> None:
        rtype, words = chunk["rtype"], chunk["length"]
        bad = (rtype != self.header.rtype) | (words.astype(np.int64) * 4 != self.header.dtype.itemsize)
        if not bad.any():
            return
        i = int(np.argmax(bad))
        seen = rtype_name(int(rtype[i]))
        raise DataFileError(
            f"{self.path}: record {index + i + 1:,} is {seen} (rtype {int(rtype[i])}), not "
            f"{self.header.schema}; the file is corrupt or mixes schemas: re-download one schema per file"
        )


def decoded_bytes_of(path: Path, size: int) -> bytes:
    """The first ``size`` decompressed bytes of ``path`` (to sniff DBN vs CSV)."""
    with TextStream(path) as stream:
        return stream.peek(size)


def is_dbn(path: Path) -> bool:
    """True when ``path`` is DBN: by name, else by its first decompressed bytes."""
    if is_dbn_name(path):
        return True
    try:
        return decoded_bytes_of(path, 3) == DBN_PREFIX
    except DataFileError:
        return False
