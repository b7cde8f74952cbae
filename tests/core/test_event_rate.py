"""The per-connection event rate, sans-IO: time is handed in."""

from __future__ import annotations

from hub.core.event_rate import EventRate, Verdict


def test_a_burst_then_the_rate() -> None:
    bucket = EventRate(burst=3, now=0.0)
    assert [bucket.take(0.0, rate=2, burst=3) for _ in range(3)] == [Verdict.TAKE] * 3
    assert bucket.take(0.0, rate=2, burst=3) is Verdict.REFUSE
    assert bucket.take(0.5, rate=2, burst=3) is Verdict.TAKE  # one token back after 0.5 s


def test_a_peer_that_keeps_going_is_closed_by_the_burst_th_further_drop() -> None:
    bucket = EventRate(burst=3, now=0.0)
    verdicts = [bucket.take(0.0, rate=1, burst=3) for _ in range(7)]
    assert verdicts == [Verdict.TAKE] * 3 + [Verdict.REFUSE, Verdict.DROP, Verdict.DROP] + [
        Verdict.CLOSE
    ]


def test_sending_at_twice_the_rate_is_closed_in_time() -> None:
    """Accepted events in between do not reset the count: only a full bucket does."""
    bucket = EventRate(burst=4, now=0.0)
    verdicts = [bucket.take(t * 0.05, rate=10, burst=4) for t in range(200)]
    assert Verdict.CLOSE in verdicts
    assert verdicts.count(Verdict.REFUSE) == 1


def test_a_full_bucket_forgives() -> None:
    bucket = EventRate(burst=2, now=0.0)
    for _ in range(3):
        bucket.take(0.0, rate=1, burst=2)
    assert bucket.take(10.0, rate=1, burst=2) is Verdict.TAKE  # full again: count reset
    bucket.take(10.0, rate=1, burst=2)
    assert bucket.take(10.0, rate=1, burst=2) is Verdict.REFUSE  # told again, not closed
