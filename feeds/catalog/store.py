"""On-disk layout of the catalog, atomic writes and source fingerprints.

Layout under the catalog root::

    <root>/<SYMBOL>/quotes/<date>.parquet   filtered, forward-filled quotes
    <root>/<SYMBOL>/bars/<date>.parquet     the underlying's regular-session bars
    <root>/<SYMBOL>/oi/<date>.parquet       per-contract OI/volume (statistics days only)
    <root>/<SYMBOL>/days/<date>.json        manifest entry: the day's commit marker

A day exists only when its manifest entry exists. Every file is written to a
temp file in the same folder, fsynced and renamed over the target; the manifest
entry is removed before a day is rewritten and written last, so a crash at any
point leaves either the old day, or no day (never a half day that reads as
whole). Temp files left by a crash are removed by the next ingest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

FORMAT_VERSION = 1
HASH_EDGE_BYTES = 64 * 1024
TMP_MARK = ".tmp-"
PARQUET_COMPRESSION = "lz4"  # fastest to decode; zstd is ~15% smaller and a bit slower

KINDS = ("quotes", "bars", "oi")


def day_file(root: Path, symbol: str, kind: str, day: str) -> Path:
    return root / symbol / kind / f"{day}.parquet"


def manifest_file(root: Path, symbol: str, day: str) -> Path:
    return root / symbol / "days" / f"{day}.json"


def file_fingerprint(path: Path) -> str:
    """Return ``size:mtime_ns:blake2b(first and last 64 KiB)`` of ``path``."""
    st = path.stat()
    h = hashlib.blake2b(digest_size=12)
    with path.open("rb") as fh:
        h.update(fh.read(HASH_EDGE_BYTES))
        if st.st_size > HASH_EDGE_BYTES:
            fh.seek(max(HASH_EDGE_BYTES, st.st_size - HASH_EDGE_BYTES))
            h.update(fh.read(HASH_EDGE_BYTES))
    return f"{st.st_size}:{st.st_mtime_ns}:{h.hexdigest()}"


def bytes_fingerprint(data: bytes) -> str:
    return "content:" + hashlib.blake2b(data, digest_size=12).hexdigest()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not supported on every platform / file system
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temp file next to ``path``, fsync it, rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def write_parquet(path: Path, table: pa.Table) -> int:
    """Write ``table`` atomically as one row group; return the file size in bytes."""

    def write(tmp: Path) -> None:
        pq.write_table(
            table,
            tmp,
            compression=PARQUET_COMPRESSION,
            row_group_size=max(table.num_rows, 1),
            use_dictionary=True,
            write_statistics=False,
        )

    atomic_write(path, write)
    return path.stat().st_size


def write_manifest(path: Path, entry: dict[str, Any]) -> None:
    data = json.dumps(entry, indent=1, sort_keys=True, default=str).encode()
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def read_manifest(path: Path) -> dict[str, Any] | None:
    """Return the manifest entry at ``path``, or None when absent or unreadable."""
    try:
        entry = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("format") != FORMAT_VERSION:
        return None
    return entry


def remove_manifest(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        _fsync_dir(path.parent)


def remove_stale_temps(symbol_dir: Path) -> int:
    """Delete temp files a crashed ingest left under ``symbol_dir``; return how many."""
    removed = 0
    if not symbol_dir.is_dir():
        return 0
    for folder in (symbol_dir / kind for kind in (*KINDS, "days")):
        if not folder.is_dir():
            continue
        for tmp in folder.glob(f".*{TMP_MARK}*"):
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed += 1
    return removed
