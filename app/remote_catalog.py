"""``--catalog s3://bucket/prefix`` (or ``gs://``, ...): the days a run needs, copied into a local cache.

The catalog code reads files (``feeds.catalog.Catalog``), so an object-store
catalog is read by materialising the days a run (or one sweep trial, on whichever
machine runs it) needs into a local folder, then opening that folder as any
catalog. Per symbol one recursive listing gives every remote file's size and
mtime; a day is the ``warmup_days`` sessions before the range and the sessions in
it, like ``feeds.backtest.gridfeed.session_days``. A file whose local copy has the
remote size and mtime is not copied again. Copies go to a temp name in the target
folder and are renamed over it (the day's manifest, its commit marker, last), so
processes of one machine sharing the cache never see a half-written file. A cached
day the remote catalog no longer has is dropped from the cache.

The filesystem is pyarrow's (``FileSystem.from_uri``): credentials come from the
environment only (``AWS_ACCESS_KEY_ID`` ..., ``GOOGLE_APPLICATION_CREDENTIALS``);
an S3-compatible endpoint from ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL``.
The cache is ``$SCALPER_CATALOG_CACHE`` (default ``${XDG_CACHE_HOME:-~/.cache}/options-scalper/catalogs``).
Ingest into a remote catalog is not supported: ingest locally and upload.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from app.cli import one_line
from app.request import BadInput, RunFailed

CACHE_ENV = "SCALPER_CATALOG_CACHE"
ENDPOINT_ENVS = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
MANIFEST_KIND = "days"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _with_endpoint(uri: str) -> str:
    """``uri`` plus ``endpoint_override`` (and ``scheme``) from the environment, for an s3:// URI."""
    parts = urlsplit(uri)
    query = dict(parse_qsl(parts.query))
    endpoint = next((os.environ[e] for e in ENDPOINT_ENVS if os.environ.get(e)), "")
    if parts.scheme.lower() != "s3" or not endpoint or "endpoint_override" in query:
        return uri
    scheme, sep, host = endpoint.partition("://")
    query["endpoint_override"] = host.rstrip("/") if sep else endpoint
    if sep:
        query.setdefault("scheme", scheme)
    return urlunsplit(parts._replace(query=urlencode(query)))


def open_remote(uri: str) -> tuple[Any, str]:
    """(pyarrow filesystem, base path) of a catalog URI; ``BadInput`` when it is missing or unreadable."""
    from pyarrow.fs import FileSystem, FileType

    where = f"--catalog {uri}"
    try:
        fs, base = FileSystem.from_uri(_with_endpoint(uri))
        info = fs.get_file_info(base)
    except (OSError, ValueError) as exc:
        raise BadInput(
            f"{where}: cannot open it ({one_line(exc)}); check the URI and the credentials"
        ) from None
    if info.type != FileType.Directory:
        raise BadInput(f"{where}: no catalog there (nothing under that prefix); check the bucket and prefix")
    return fs, base.rstrip("/")


def cache_root(uri: str) -> Path:
    """This machine's cache folder of the catalog at ``uri`` (readable name plus a hash of URI and endpoint)."""
    xdg = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    base = Path(os.environ.get(CACHE_ENV) or xdg / "options-scalper" / "catalogs")
    key = hashlib.sha256(_with_endpoint(uri).encode()).hexdigest()[:12]
    name = _UNSAFE.sub("-", uri.partition("?")[0].replace("://", "-")).strip("-")[-80:]
    return base.expanduser() / f"{name}-{key}"


def remote_symbols(fs: Any, base: str) -> list[str]:
    """The symbols (top-level folders) of the remote catalog."""
    from pyarrow.fs import FileSelector, FileType

    infos = _list(fs, FileSelector(base, recursive=False), base)
    return sorted(
        i.base_name for i in infos if i.type == FileType.Directory and not i.base_name.startswith(".")
    )


def _list(fs: Any, selector: Any, where: str) -> list[Any]:
    try:
        return list(fs.get_file_info(selector))
    except OSError as exc:
        raise BadInput(f"--catalog: cannot list {where} ({one_line(exc)}); check the credentials") from None


def _day_of(name: str) -> date | None:
    stem = name.partition(".")[0]
    try:
        return date.fromisoformat(stem)
    except ValueError:
        return None


def needed_days(days: Sequence[date], start: date | None, end: date | None, warmup_days: int) -> set[date]:
    """The days a run streams: ``warmup_days`` before the first in range, then those in range."""
    days = sorted(days)
    inside = [d for d in days if (start is None or d >= start) and (end is None or d <= end)]
    if not inside:
        return set()
    first = days.index(inside[0])
    return {*days[max(0, first - max(0, warmup_days)) : first], *inside}


def materialise(
    uri: str, symbols: Iterable[str], start: date | None, end: date | None, warmup_days: int
) -> Path:
    """Copy the days ``symbols`` need over ``start..end`` (plus warm-up) into the cache; return its root."""
    from pyarrow.fs import FileSelector, FileType

    fs, base = open_remote(uri)
    root = cache_root(uri)
    for sym in symbols:
        infos = _list(fs, FileSelector(f"{base}/{sym}", recursive=True, allow_not_found=True), f"{uri}/{sym}")
        files: dict[date, list[Any]] = {}
        manifests: dict[date, Any] = {}
        for info in infos:
            rel = info.path[len(base) + 1 :].split("/")
            day = _day_of(rel[-1])
            if info.type != FileType.File or len(rel) != 3 or day is None or rel[-1].startswith("."):
                continue
            if rel[1] == MANIFEST_KIND:
                manifests[day] = info
            else:
                files.setdefault(day, []).append(info)
        _drop_vanished(root / sym, set(manifests))
        for day in sorted(needed_days(list(manifests), start, end, warmup_days)):
            _copy_day(fs, base, root, [*files.get(day, []), manifests[day]])
    return root


def _drop_vanished(folder: Path, remote: set[date]) -> None:
    """Forget cached days the remote catalog no longer has (their manifest first: the day reads absent)."""
    days = folder / MANIFEST_KIND
    if not days.is_dir():
        return
    for manifest in days.glob("*.json"):
        day = _day_of(manifest.name)
        if day is None or day in remote:
            continue
        manifest.unlink(missing_ok=True)
        for kind in folder.iterdir():
            (kind / f"{day.isoformat()}.parquet").unlink(missing_ok=True)


def _copy_day(fs: Any, base: str, root: Path, infos: list[Any]) -> None:
    """Copy the day's changed files, its manifest (the last of ``infos``) last."""
    stale = [i for i in infos if not _fresh(root / i.path[len(base) + 1 :], i)]
    if not stale:
        return
    manifest = root / infos[-1].path[len(base) + 1 :]
    manifest.unlink(missing_ok=True)  # the day reads as absent until every file is in place
    if stale[-1] is not infos[-1]:
        stale.append(infos[-1])
    for info in stale:
        _copy_file(fs, info, root / info.path[len(base) + 1 :])


def _fresh(local: Path, info: Any) -> bool:
    try:
        st = local.stat()
    except OSError:
        return False
    return st.st_size == info.size and st.st_mtime_ns == _mtime_ns(info)


def _mtime_ns(info: Any) -> int:
    return int(info.mtime_ns) if info.mtime_ns is not None else 0


def _copy_file(fs: Any, info: Any, target: Path) -> None:
    """Copy one remote file to a temp name beside ``target``, give it the remote mtime, rename it over."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    try:
        with fs.open_input_stream(info.path) as src, tmp.open("wb") as dst:
            while block := src.read(1 << 20):
                dst.write(block)
        mtime = _mtime_ns(info)
        os.utime(tmp, ns=(mtime, mtime))
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise RunFailed(
            f"--catalog: cannot copy {info.path} into {target.parent} ({one_line(exc)})"
        ) from None
