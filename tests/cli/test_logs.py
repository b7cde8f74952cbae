"""Logs: one key=value line per record, tracebacks included, secrets redacted; the log file
reopens."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.cli.logs import LineFormatter, LogFile, configure, update_redaction


def record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("bad\nthing")
        except ValueError:
            info = sys.exc_info()
    return logging.LogRecord("hub", logging.INFO, __file__, 1, message, args, info)


def test_a_record_is_one_line_of_key_values() -> None:
    """ts, level, logger, pid, then msg quoted when it holds spaces."""
    line = LineFormatter().format(record("conn=%s closed: %s", "Ab3", "ping timeout"))
    assert "\n" not in line
    fields = line.split(" ", 4)
    assert fields[0].startswith("ts=") and fields[0].endswith("Z")
    assert fields[1:4] == ["level=INFO", "logger=hub", f"pid={record('x').process}"]
    assert fields[4] == 'msg="conn=Ab3 closed: ping timeout"'


def test_traceback_and_extra_fields_stay_on_the_line() -> None:
    """An exception is escaped into exc=...; extra= fields become keys; quotes are escaped."""
    entry = record('say "hi"', exc=True)
    entry.conn = "Ab3"
    line = LineFormatter().format(entry)
    assert "\n" not in line
    assert 'msg="say \\"hi\\""' in line and "conn=Ab3" in line
    assert 'exc="Traceback' in line and "ValueError: bad\\nthing" in line


def test_reopen_starts_a_new_file_after_the_old_was_moved(tmp_path: Path) -> None:
    """After a rotation moves the file away, reopen() writes to a fresh file at the path."""
    path = tmp_path / "logs" / "hub.log"
    handler = LogFile(path)
    handler.setFormatter(logging.Formatter("%(message)s"))
    try:
        handler.emit(record("before"))
        rotated = path.rename(tmp_path / "hub.log.1")
        handler.emit(record("still old"))
        handler.reopen()
        handler.emit(record("after"))
    finally:
        handler.close()
    assert rotated.read_text() == "before\nstill old\n"
    assert path.read_text() == "after\n"


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, its handlers and level put back after configure() replaced them."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield root
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
            if handler not in handlers:
                handler.close()
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


def test_the_hub_log_lines_are_redacted(root_logger: logging.Logger, tmp_path: Path) -> None:
    """Secrets in messages, arguments, extra fields and tracebacks never reach the file."""
    path = tmp_path / "hub.log"
    configure("INFO", path)  # HubConfig's default redact_keys
    hub_log, cli_log = logging.getLogger("hub"), logging.getLogger("hub.cli")
    hub_log.warning("rejected %s: Authorization: Bearer %s", "conn=Ab3", "s3cret-key")
    cli_log.info("settings now %r", {"jwt_secret": "hs256-secret", "port": 8765})
    hub_log.info("publish", extra={"api_key": "k-123", "body": '{"password": "hunter2"}'})
    try:
        raise RuntimeError("connect failed: postgres://app:pa55@db/x token=t0k")
    except RuntimeError:
        hub_log.exception("handler failed")
    lines = path.read_text().splitlines()
    assert len(lines) == 4
    text = "\n".join(lines)
    for secret in ("s3cret-key", "hs256-secret", "k-123", "hunter2", "pa55", "t0k"):
        assert secret not in text
    assert 'msg="rejected conn=Ab3: Authorization: [redacted]"' in lines[0]
    assert "{'jwt_secret': '[redacted]', 'port': 8765}" in lines[1]
    assert "api_key=[redacted]" in lines[2] and '\\"password\\": \\"[redacted]\\"' in lines[2]
    assert 'exc="Traceback' in lines[3] and "app:[redacted]@db/x token=[redacted]" in lines[3]


def test_the_redacted_keys_follow_the_settings(root_logger: logging.Logger, tmp_path: Path) -> None:
    """configure() takes [hub] redact_keys; update_redaction() swaps them (SIGHUP)."""
    path = tmp_path / "hub.log"
    configure("INFO", path, redact_keys=("session",))
    # Not "hub": every Hub made in this process redacts that logger with its own keys.
    log = logging.getLogger("app.hooks")
    log.info("session=abc password=hunter2")
    update_redaction(())
    log.info("session=abc")
    update_redaction(("password",))
    log.info("session=abc password=hunter2")
    first, second, third = path.read_text().splitlines()
    assert 'msg="session=[redacted] password=hunter2"' in first
    assert 'msg="session=abc"' in second
    assert 'msg="session=abc password=[redacted]"' in third
