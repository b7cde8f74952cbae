"""One-line ``key=value`` logs, to stderr or to a log file that SIGHUP reopens.

    ts=2026-11-21T10:00:00.123Z level=INFO logger=hub pid=4242 msg="conn=Ab3 closed: ping timeout"

A traceback stays on its line, in ``exc="..."`` with its newlines escaped, so every
record is one line for grep and for log shippers. Every record is redacted first (the
values of ``[hub] redact_keys``, bearer credentials, JWTs: see ``hub.core.sanitize``).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from hub.core.config import HubConfig
from hub.core.sanitize import RedactingFilter, Redactor

# What configure() redacts when its caller passes no keys: HubConfig's default.
DEFAULT_REDACT_KEYS = HubConfig().redact_keys

_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def _quote(value: object) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\\\n\r\t'):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


class LineFormatter(logging.Formatter):
    """``ts level logger pid msg``, then any ``extra=`` fields and the exception."""

    def format(self, record: logging.LogRecord) -> str:
        moment = time.gmtime(record.created)
        millis = int(record.msecs)
        fields = [
            ("ts", time.strftime("%Y-%m-%dT%H:%M:%S", moment) + f".{millis:03d}Z"),
            ("level", record.levelname),
            ("logger", record.name),
            ("pid", record.process),
            ("msg", record.getMessage()),
        ]
        fields += [(k, v) for k, v in record.__dict__.items() if k not in _RESERVED]
        if record.exc_info and not record.exc_text:  # a RedactingFilter formats it first
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            fields.append(("exc", record.exc_text))
        return " ".join(f"{key}={_quote(value)}" for key, value in fields)


class LogFile(logging.StreamHandler[TextIO]):
    """Appends to a file; ``reopen()`` starts a new one after the old was moved away."""

    def __init__(self, path: Path, *, also_stdio: bool = False) -> None:
        # also_stdio: a detached hub points its stdout and stderr at the log file too, so
        # nothing it prints (a crash, a warning) is lost, and they follow each reopen.
        self.path = path
        self.also_stdio = also_stdio
        super().__init__(self._open())

    def _open(self) -> TextIO:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        stream = self.path.open("a", encoding="utf-8", buffering=1)
        if self.also_stdio:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(stream.fileno(), 1)
            os.dup2(stream.fileno(), 2)
        return stream

    def reopen(self) -> None:
        new = self._open()
        old = self.setStream(new)  # under the handler's lock
        if old is not None:
            old.close()

    def close(self) -> None:
        self.acquire()
        try:
            self.stream.close()
        finally:
            self.release()
        super().close()


def configure(
    level: str,
    log_file: Path | None,
    *,
    detached: bool = False,
    redact_keys: Iterable[str] = DEFAULT_REDACT_KEYS,
) -> LogFile | None:
    """Route every logger through one line-per-record handler; the file handler, if any.

    The handler redacts every record, whichever logger it comes from, with
    ``redact_keys`` (pass ``settings.hub.redact_keys``; empty: no redaction).
    """
    handler: logging.Handler
    file_handler = None
    if log_file is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        handler = file_handler = LogFile(log_file, also_stdio=detached)
    handler.setFormatter(LineFormatter())
    handler.addFilter(RedactingFilter(Redactor(redact_keys)))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return file_handler


def update_redaction(redact_keys: Iterable[str]) -> None:
    """Redact with new keys from now on (a SIGHUP reload), on the handler of configure()."""
    redactor = Redactor(redact_keys)
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, RedactingFilter):
                found.redactor = redactor
