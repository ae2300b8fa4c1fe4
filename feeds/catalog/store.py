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
HASH_BLOCK_BYTES = 1 << 20
TMP_MARK = ".tmp-"
PARQUET_COMPRESSION = "lz4"  # fastest to decode; zstd is ~15% smaller and a bit slower

KINDS = ("quotes", "bars", "oi")


def day_file(root: Path, symbol: str, kind: str, day: str) -> Path:
    return root / symbol / kind / f"{day}.parquet"


def manifest_file(root: Path, symbol: str, day: str) -> Path:
    return root / symbol / "days" / f"{day}.json"


def file_fingerprint(path: Path, previous: str | None = None) -> str:
    """Return ``size:mtime_ns:blake2b(content)`` of ``path``.

    When ``previous`` (the manifest's fingerprint of the same file) has the same size and
    mtime, it is returned as is: nothing is read. Only a changed stat costs a content hash.
    """
    st = path.stat()
    stat = f"{st.st_size}:{st.st_mtime_ns}:"
    if previous is not None and previous.startswith(stat):
        return previous
    return stat + content_hash(path)


def content_hash(path: Path) -> str:
    """blake2b of the whole file (streamed)."""
    h = hashlib.blake2b(digest_size=12)
    with path.open("rb") as fh:
        while block := fh.read(HASH_BLOCK_BYTES):
            h.update(block)
    return h.hexdigest()


def same_content(a: str | None, b: str | None) -> bool:
    """True when two fingerprints (``;``-joined for several files) say the same sizes and content."""
    if a is None or b is None:
        return a is b
    parts_a, parts_b = a.split(";"), b.split(";")
    if len(parts_a) != len(parts_b):
        return False
    for x, y in zip(parts_a, parts_b, strict=True):
        xs, ys = x.split(":"), y.split(":")
        if len(xs) != 3 or len(ys) != 3 or xs[0] != ys[0] or xs[2] != ys[2]:
            return False
    return True


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


def write_parquet(path: Path, table: pa.Table) -> dict[str, Any]:
    """Write ``table`` atomically as one row group; return its size, mtime_ns and checksum."""

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
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "blake2b": content_hash(path)}


def file_intact(path: Path, meta: dict[str, Any]) -> bool:
    """True when the catalog file matches its manifest record: size, then (when its stat changed) checksum."""
    try:
        st = path.stat()
    except OSError:
        return False
    if st.st_size != meta.get("size"):
        return False
    if "blake2b" not in meta or st.st_mtime_ns == meta.get("mtime_ns"):
        return True
    return content_hash(path) == meta["blake2b"]


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
