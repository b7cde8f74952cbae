"""The server-side Engine.IO heartbeat state machine, driven with explicit times."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.protocol import Heartbeat, HeartbeatAction

PING = HeartbeatAction.PING
TIMEOUT = HeartbeatAction.TIMEOUT


def started(now: float = 100.0, interval: float = 25.0, timeout: float = 20.0) -> Heartbeat:
    heartbeat = Heartbeat(interval=interval, timeout=timeout)
    heartbeat.start(now)
    return heartbeat


def test_idle_before_start() -> None:
    """An unstarted heartbeat has no deadline and never asks for anything."""
    heartbeat = Heartbeat(interval=25.0, timeout=20.0)
    assert heartbeat.next_deadline == math.inf
    assert not heartbeat.awaiting_pong
    assert heartbeat.on_deadline(1e12) is None
    assert heartbeat.next_deadline == math.inf


def test_start_arms_the_interval() -> None:
    """start(now) schedules the first ping one interval after now."""
    heartbeat = started(now=100.0)
    assert heartbeat.next_deadline == 125.0
    assert not heartbeat.awaiting_pong


def test_nothing_due_before_the_interval() -> None:
    """Before the deadline on_deadline returns None and changes nothing."""
    heartbeat = started(now=100.0)
    assert heartbeat.on_deadline(100.0) is None
    assert heartbeat.on_deadline(124.999) is None
    assert heartbeat.next_deadline == 125.0
    assert not heartbeat.awaiting_pong


def test_ping_due_exactly_at_the_interval() -> None:
    """At the deadline a ping is due and the pong deadline is now + timeout."""
    heartbeat = started(now=100.0)
    assert heartbeat.on_deadline(125.0) is PING
    assert heartbeat.awaiting_pong
    assert heartbeat.next_deadline == 145.0


def test_late_wakeup_measures_timeout_from_the_ping() -> None:
    """If the I/O layer wakes late, the pong timeout counts from when the ping is sent."""
    heartbeat = started(now=100.0)
    assert heartbeat.on_deadline(140.0) is PING
    assert heartbeat.next_deadline == 160.0


def test_no_timeout_before_the_pong_deadline() -> None:
    """After a ping, nothing is due until the pong timeout has run out."""
    heartbeat = started(now=100.0)
    heartbeat.on_deadline(125.0)
    assert heartbeat.on_deadline(144.999) is None
    assert heartbeat.awaiting_pong
    assert heartbeat.next_deadline == 145.0


def test_timeout_after_ping_without_pong() -> None:
    """A ping that gets no pong within timeout seconds reports TIMEOUT."""
    heartbeat = started(now=100.0)
    assert heartbeat.on_deadline(125.0) is PING
    assert heartbeat.on_deadline(145.0) is TIMEOUT


def test_timeout_is_sticky() -> None:
    """Once timed out, later deadlines keep reporting TIMEOUT (never another PING)."""
    heartbeat = started(now=100.0)
    heartbeat.on_deadline(125.0)
    assert heartbeat.on_deadline(145.0) is TIMEOUT
    assert heartbeat.on_deadline(1000.0) is TIMEOUT
    assert heartbeat.awaiting_pong


def test_pong_rearms_the_interval() -> None:
    """A pong clears the wait and schedules the next ping one interval after the pong."""
    heartbeat = started(now=100.0)
    heartbeat.on_deadline(125.0)
    heartbeat.on_pong(130.0)
    assert not heartbeat.awaiting_pong
    assert heartbeat.next_deadline == 155.0
    assert heartbeat.on_deadline(145.0) is None  # the old pong deadline no longer applies
    assert heartbeat.on_deadline(155.0) is PING
    assert heartbeat.next_deadline == 175.0


def test_pong_just_before_timeout_saves_the_session() -> None:
    """A pong arriving at the last moment prevents the timeout."""
    heartbeat = started(now=0.0, interval=10.0, timeout=5.0)
    assert heartbeat.on_deadline(10.0) is PING
    heartbeat.on_pong(14.75)
    assert heartbeat.on_deadline(15.0) is None
    assert heartbeat.next_deadline == 24.75


def test_stray_pong_is_ignored() -> None:
    """A pong when no ping is outstanding changes neither the deadline nor the state."""
    heartbeat = started(now=100.0)
    heartbeat.on_pong(110.0)
    assert heartbeat.next_deadline == 125.0
    assert not heartbeat.awaiting_pong
    assert heartbeat.on_deadline(125.0) is PING


def test_second_pong_for_one_ping_is_ignored() -> None:
    """Only the first pong after a ping re-arms; a duplicate does not push the ping back."""
    heartbeat = started(now=100.0)
    heartbeat.on_deadline(125.0)
    heartbeat.on_pong(126.0)
    heartbeat.on_pong(140.0)
    assert heartbeat.next_deadline == 151.0


def test_pong_before_start_is_ignored() -> None:
    """A pong on an unstarted heartbeat leaves it idle."""
    heartbeat = Heartbeat(interval=25.0, timeout=20.0)
    heartbeat.on_pong(5.0)
    assert heartbeat.next_deadline == math.inf
    assert heartbeat.on_deadline(1e9) is None


def test_start_clears_an_outstanding_ping() -> None:
    """start() resets the machine: an unanswered ping is forgotten."""
    heartbeat = started(now=100.0)
    heartbeat.on_deadline(125.0)
    heartbeat.start(130.0)
    assert not heartbeat.awaiting_pong
    assert heartbeat.next_deadline == 155.0
    assert heartbeat.on_deadline(150.0) is None


def test_several_rounds() -> None:
    """Ping, pong, ping, pong... keeps the session alive; one missed pong ends it."""
    heartbeat = started(now=0.0, interval=25.0, timeout=20.0)
    now = 0.0
    for _ in range(5):
        now = heartbeat.next_deadline
        assert heartbeat.on_deadline(now) is PING
        now += 3.0
        heartbeat.on_pong(now)
        assert heartbeat.next_deadline == now + 25.0
    now = heartbeat.next_deadline
    assert heartbeat.on_deadline(now) is PING
    assert heartbeat.on_deadline(now + 20.0) is TIMEOUT


# Operations for the model test: ("deadline" | "pong", time step since the previous op).
operations = st.lists(
    st.tuples(st.sampled_from(["deadline", "pong"]), st.integers(0, 40)), max_size=30
)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 30), st.integers(1, 30), operations)
def test_matches_a_simple_model(interval: int, timeout: int, ops: list[tuple[str, int]]) -> None:
    """Against a reference model: PING at interval, TIMEOUT after timeout, pong re-arms."""
    heartbeat = Heartbeat(interval=float(interval), timeout=float(timeout))
    now = 0
    heartbeat.start(float(now))
    last_pong_or_start = 0  # when the interval was last armed
    ping_sent_at: int | None = None
    for op, step in ops:
        now += step
        if op == "pong":
            heartbeat.on_pong(float(now))
            if ping_sent_at is not None:
                ping_sent_at, last_pong_or_start = None, now
            continue
        action = heartbeat.on_deadline(float(now))
        if ping_sent_at is not None:
            expected = TIMEOUT if now >= ping_sent_at + timeout else None
        else:
            expected = PING if now >= last_pong_or_start + interval else None
        assert action is expected
        if action is PING:
            ping_sent_at = now
        assert heartbeat.awaiting_pong == (ping_sent_at is not None)
        want = ping_sent_at + timeout if ping_sent_at is not None else last_pong_or_start + interval
        assert heartbeat.next_deadline == want
