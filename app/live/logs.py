"""Structured JSON logs to ``<out>/live.log`` and the console, with every secret redacted.

Each line of ``live.log`` is one JSON object: ``ts`` (this machine's UTC time),
``level``, ``event`` and the event's fields. Values of the secret environment
variables (the broker keys) are replaced by ``***`` in every log line and every
console line, and a ``logging`` handler routes the libraries' own log records
(alpaca-py, ib_async, websockets) into the same file through the same filter.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

SECRET_ENV = ("APCA_API_KEY_ID", "APCA_API_SECRET_KEY", "APCA_API_OAUTH_TOKEN")
LOG_FILENAME = "live.log"


def secrets_of(env: Mapping[str, str], names: Iterable[str] = SECRET_ENV) -> tuple[str, ...]:
    return tuple(v for n in names if len(v := env.get(n, "")) >= 4)


def redact(text: str, secrets: Iterable[str]) -> str:
    for value in secrets:
        if value:
            text = text.replace(value, "***")
    return text


class LiveLog:
    """``event(name, **fields)`` to the JSON log; ``say(line)`` to the console and the log."""

    def __init__(
        self, path: Path | None, secrets: Iterable[str] = (), console: IO[str] | None = None
    ) -> None:
        self.path = path
        self.secrets = tuple(secrets)
        self.console = console if console is not None else sys.stdout
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._handler: logging.Handler | None = None

    def event(self, name: str, level: str = "info", **fields: Any) -> None:
        if self._file is None:
            return
        record = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "level": level, "event": name}
        record.update(fields)
        line = redact(json.dumps(record, default=str), self.secrets)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def say(self, line: str, event: str = "say", level: str = "info", **fields: Any) -> None:
        """Print ``line`` on the console (redacted) and log it as ``event``."""
        text = redact(line, self.secrets)
        with self._lock:
            print(text, file=self.console, flush=True)
        self.event(event, level=level, message=text, **fields)

    def warn(self, line: str, **fields: Any) -> None:
        self.say(f"warning: {line}", event="warning", level="warning", **fields)

    def capture_library_logs(self, level: int = logging.INFO) -> None:
        """Route ``logging`` records (the SDKs') into this log, redacted; nothing to the console."""
        handler = _Handler(self)
        handler.setLevel(level)
        root = logging.getLogger()
        root.addHandler(handler)
        if root.level > level or root.level == logging.NOTSET:
            root.setLevel(level)
        self._handler = handler

    def close(self) -> None:
        if self._handler is not None:
            logging.getLogger().removeHandler(self._handler)
            self._handler = None
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class _Handler(logging.Handler):
    def __init__(self, log: LiveLog) -> None:
        super().__init__()
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a library's bad format string must not kill the run
            message = str(record.msg)
        self.log.event("library", level=record.levelname.lower(), logger=record.name, message=message)


__all__ = ["LOG_FILENAME", "SECRET_ENV", "LiveLog", "redact", "secrets_of"]
