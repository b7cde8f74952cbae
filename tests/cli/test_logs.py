"""Logs: one key=value line per record, tracebacks included; the log file reopens."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from hub.cli.logs import LineFormatter, LogFile


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
