"""The sans-IO queue alone: order, coalescing, the bound, batches, timers."""

from __future__ import annotations

from typing import Any

import pytest

from hub.core.user_queue import ACK_DEADLINE, RANK, RESEND, TTL, Entry, Full, UserQueue


def entry(seq: int, priority: str = "normal", **options: Any) -> Entry:
    return Entry(
        seq,
        f"id-{seq}",
        options.pop("event", "e"),
        seq,
        rank=RANK[priority],
        ack=options.pop("ack", False),
        batch=options.pop("batch", False),
        key=options.pop("key", None),
        namespaces=options.pop("namespaces", None),
        created=options.pop("created", 0.0),
        max_attempts=options.pop("max_attempts", 3),
    )


def queue(limit: int = 100) -> tuple[UserQueue, list[Entry]]:
    finished: list[Entry] = []
    return UserQueue(limit, finished.append), finished


def drain(q: UserQueue, now: float = 0.0, **pick: Any) -> list[list[int]]:
    groups = []
    while True:
        group, _ = q.pick(now, pick.get("deliverable", lambda e: True), 10, 0.0)
        if not group:
            return groups
        groups.append([item.seq for item in group])
        for item in group:
            q.sent(item, now, 1.0)


def test_priority_then_fifo() -> None:
    q, _ = queue()
    for seq, priority in enumerate(["low", "normal", "critical", "low", "high", "critical"]):
        q.push(entry(seq, priority), None)
    assert drain(q) == [[2], [5], [4], [1], [0], [3]]


def test_coalescing_replaces_the_queued_one_and_frees_its_room() -> None:
    q, finished = queue(limit=2)
    q.push(entry(0, key="k"), None)
    q.push(entry(1), None)
    assert q.full and q.replaces("k") and not q.replaces("other")
    q.push(entry(2, key="k"), None)
    assert [(e.seq, e.outcome and e.outcome.reason) for e in finished] == [(0, "coalesced")]
    assert drain(q) == [[1], [2]]


def test_full_queue_evicts_only_plain_lower_priority_events() -> None:
    q, finished = queue(limit=2)
    q.push(entry(0, "low", ack=True), None)
    q.push(entry(1, "normal"), None)
    with pytest.raises(Full):
        q.push(entry(2, "normal"), None)  # same priority: no eviction
    q.push(entry(3, "high"), None)
    assert [(e.seq, e.outcome and e.outcome.reason) for e in finished] == [(1, "overflow")]
    with pytest.raises(Full):
        q.push(entry(4, "high"), None)  # below high: only an acked low one
    q.push(entry(5, "critical"), None)  # a critical one may push out the high one
    assert [e.seq for e in finished] == [1, 3]


def test_batches_take_the_run_of_batchable_events() -> None:
    q, _ = queue()
    for seq in range(4):
        q.push(entry(seq, batch=True), None)
    q.push(entry(4), None)
    q.push(entry(5, batch=True, namespaces=("/dash",)), None)
    q.push(entry(6, batch=True, namespaces=("/dash",)), None)
    assert drain(q) == [[0, 1, 2, 3], [4], [5, 6]]


def test_a_batch_waits_for_its_window_but_not_more_urgent_events() -> None:
    q, _ = queue()
    q.push(entry(0, "low", batch=True, created=10.0), None)
    q.push(entry(1, "low"), None)
    q.push(entry(2, "high"), None)
    group, closes = q.pick(10.001, lambda e: True, 10, 0.05)
    assert [e.seq for e in group] == [2] and closes is None
    for item in group:
        q.sent(item, 10.0, 1.0)
    group, closes = q.pick(10.001, lambda e: True, 10, 0.05)
    assert group == [] and closes == pytest.approx(10.05)
    assert drain(q, now=10.06) == [[0], [1]]


def test_undeliverable_entries_stay_for_later() -> None:
    q, _ = queue()
    q.push(entry(0, namespaces=("/dash",)), None)
    q.push(entry(1), None)
    assert drain(q, deliverable=lambda e: e.namespaces is None) == [[1]]
    assert q.queued == 1 and drain(q) == [[0]]


def test_timers_fire_in_order_and_go_stale() -> None:
    q, finished = queue()
    acked = entry(0, ack=True)
    q.push(acked, ttl_deadline=5.0)
    group, _ = q.pick(0.0, lambda e: True, 10, 0.0)
    q.sent(group[0], 0.0, 1.0)
    assert acked.state == "waiting" and q.next_timer() == 1.0
    assert q.due(1.0) == [(ACK_DEADLINE, acked)]
    q.back_off(acked, 1.5)
    assert q.due(1.5) == [(RESEND, acked)]
    q.requeue(acked)
    assert acked.state == "queued" and q.queued == 1
    assert q.due(5.0) == [(TTL, acked)]
    q.finish(acked, "expired", "ttl")
    assert finished == [acked] and acked.outcome is not None
    assert acked.outcome.attempts == 1 and len(q) == 0 and q.queued == 0


def test_offline_expiry_counts_from_emission_or_going_offline() -> None:
    q, finished = queue()
    q.push(entry(0, created=0.0), None)
    q.push(entry(1, created=8.0), None)
    # Offline since 5: the first expires at 5 + 10, the second at 8 + 10.
    assert q.expire_offline(14.0, 5.0, 10.0) == 15.0
    assert q.expire_offline(15.0, 5.0, 10.0) == 18.0
    assert q.expire_offline(18.0, 5.0, 10.0) is None
    assert [(e.seq, e.outcome and e.outcome.reason) for e in finished] == [
        (0, "offline"),
        (1, "offline"),
    ]
