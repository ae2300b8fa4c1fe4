"""One runtime per account: an exclusive ``fcntl.flock`` on a lock file beside the journal.

The file ``live-<broker>-<account>.lock`` sits in the SQLite journal's folder (for
a server journal, in ``--out``) and holds the holder's process id and run id. The
kernel drops the lock when the holder exits, however it exits, so a stale file
never blocks a new run; a live holder makes a second ``run_live.py`` on the same
account stop with one line naming that process.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from pathlib import Path
from types import TracebackType
from typing import IO


class AccountLocked(Exception):
    """Another process holds the account's lock (``str()``: one line naming it)."""


def lock_path(journal_url: str, out_dir: Path, broker: str, account: str) -> Path:
    """Where the lock of ``broker``/``account`` lives for a run journaling to ``journal_url``."""
    folder = out_dir
    if journal_url.startswith("sqlite:///") and journal_url != "sqlite:///:memory:":
        folder = Path(journal_url.removeprefix("sqlite:///")).expanduser().parent
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", account) or "account"
    return folder / f"live-{broker}-{safe}.lock"


class AccountLock:
    """``acquire()`` or raise ``AccountLocked``; ``release()`` (also on ``with`` exit)."""

    def __init__(self, path: Path, holder: str = "") -> None:
        self.path = path
        self.holder = holder
        self._file: IO[str] | None = None

    def acquire(self) -> AccountLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            other = handle.read().strip() or "another process"
            handle.close()
            raise AccountLocked(
                f"another run_live.py is trading this account ({other}; lock {self.path}); "
                "stop it first: one runtime per account"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}{' run ' + self.holder if self.holder else ''}\n")
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        if self._file is None:
            return
        with contextlib.suppress(OSError):
            self._file.truncate(0)
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._file.close()
        self._file = None

    def __enter__(self) -> AccountLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


__all__ = ["AccountLock", "AccountLocked", "lock_path"]
