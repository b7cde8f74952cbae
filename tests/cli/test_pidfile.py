"""PID file: refuse while the owner lives, replace when it is dead or its PID was reused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.cli.pidfile import AlreadyRunning, PidFile
from hub.cli.process import Liveness, liveness, process_start


def dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    return int(done.stdout)


def record(pid_file: PidFile, pid: int, start: str | None) -> None:
    pid_file.path.parent.mkdir(parents=True, exist_ok=True)
    pid_file.path.write_text(f"{pid}\n")
    pid_file.write_state({"pid": pid, "process_start": start})


def test_acquire_writes_pid_and_state_and_release_removes_both(tmp_path: Path) -> None:
    """The PID file holds our PID alone; the state our start time; release removes both."""
    pid_file = PidFile(tmp_path / "run" / "hub.pid")
    assert pid_file.acquire() is None
    assert pid_file.path.read_text() == f"{os.getpid()}\n"
    assert pid_file.read_state() == {
        "pid": os.getpid(),
        "process_start": process_start(os.getpid()),
    }
    pid_file.update_state(port=8765)
    assert pid_file.read_state()["port"] == 8765
    pid_file.release()
    assert not pid_file.path.exists() and not pid_file.state_path.exists()


def test_acquire_refuses_while_the_recorded_process_lives(
    tmp_path: Path, bystander: subprocess.Popen[str]
) -> None:
    """A live process with the recorded start time owns the file: AlreadyRunning, untouched."""
    pid_file = PidFile(tmp_path / "hub.pid")
    record(pid_file, bystander.pid, process_start(bystander.pid))
    with pytest.raises(AlreadyRunning) as raised:
        pid_file.acquire()
    assert raised.value.found.pid == bystander.pid
    assert pid_file.path.read_text() == f"{bystander.pid}\n"
    assert pid_file.remove_stale() is None and pid_file.path.exists()


@pytest.mark.parametrize("cause", ["dead", "reused", "garbage"])
def test_acquire_replaces_a_stale_pid_file(
    tmp_path: Path, bystander: subprocess.Popen[str], cause: str
) -> None:
    """Dead process, PID now another program's, or unreadable: replaced, reported as stale."""
    pid_file = PidFile(tmp_path / "hub.pid")
    if cause == "dead":
        record(pid_file, dead_pid(), None)
    elif cause == "reused":
        record(pid_file, bystander.pid, "1")  # a start time the live process does not have
    else:
        pid_file.path.write_text("not a pid\n")
    stale = pid_file.acquire()
    assert stale is not None and not stale.alive
    expected = {"dead": Liveness.DEAD, "reused": Liveness.REUSED, "garbage": Liveness.DEAD}
    assert stale.liveness is expected[cause]
    assert pid_file.path.read_text() == f"{os.getpid()}\n"
    pid_file.release()


def test_state_of_another_pid_says_nothing_about_this_one(
    tmp_path: Path, bystander: subprocess.Popen[str]
) -> None:
    """A state file left by another PID is ignored, so liveness alone decides."""
    pid_file = PidFile(tmp_path / "hub.pid")
    record(pid_file, bystander.pid, "1")
    pid_file.write_state({"pid": bystander.pid + 1, "process_start": "1"})
    found = pid_file.inspect()
    assert found is not None and found.alive and found.state == {}


def test_release_leaves_a_file_that_names_another_process(
    tmp_path: Path, bystander: subprocess.Popen[str]
) -> None:
    """A hub that lost its PID file to another never removes the other's."""
    pid_file = PidFile(tmp_path / "hub.pid")
    record(pid_file, bystander.pid, process_start(bystander.pid))
    pid_file.release()
    assert json.loads(pid_file.state_path.read_text())["pid"] == bystander.pid


def test_liveness_tells_dead_reused_and_alive(bystander: subprocess.Popen[str]) -> None:
    """No such PID is dead; a different start time is reused; the same start time is alive."""
    assert liveness(dead_pid(), None) is Liveness.DEAD
    assert liveness(bystander.pid, None) is Liveness.ALIVE
    assert liveness(bystander.pid, process_start(bystander.pid)) is Liveness.ALIVE
    if process_start(bystander.pid) is not None:  # only where /proc tells start times
        assert liveness(bystander.pid, "1") is Liveness.REUSED
    assert liveness(os.getpid(), None) is Liveness.REUSED  # we are never our own predecessor
