"""Reconnects that cannot be recovered, on the standalone hub: the replay API shows the gap.

``python -m hub`` with ``--recovery``/``--history-*`` flags; the official Node client runs
``tests/interop/js/recovery_gap.mjs``. Past the window the client gets a fresh session and
fills the gap itself with ``replay`` or ``join(room, since)`` (``complete`` true); once the
history has moved past its offset, by count or by age, ``complete`` is false: the client
must reload its state.
"""

from __future__ import annotations

from typing import Any

from tests.recovery.harness import Processes, Scenario


def ns(events: list[dict[str, Any]]) -> list[Any]:
    return [event["n"] for event in events]


def replay_ns(answer: dict[str, Any]) -> list[Any]:
    return [event["args"][0]["n"] for event in answer["events"]]


def assert_published(published: list[dict[str, Any]]) -> None:
    """Each publish ack: ``{"ok": true, "recipients": n, "offset": str}``, offsets distinct."""
    for answer in published:
        assert set(answer) == {"ok", "recipients", "offset"}, answer
        assert answer["ok"] is True
        assert isinstance(answer["offset"], str)
    assert len({answer["offset"] for answer in published}) == len(published)


def test_after_the_window_replay_fills_the_gap(procs: Processes, scenario: Scenario) -> None:
    """--recovery 1: recovered at once; after 1.5 s a fresh session, replay has the 3 missed."""
    hub = procs.standalone("--recovery", "1")
    result = scenario("recovery_gap.mjs", hub.url, "window")
    published, news = result["published"], result["news"]
    assert result["joined"] == [{"ok": True, "room": "feed"}]
    assert_published(published)
    # Members get each stored event with the publish ack's offset as the last argument.
    assert [e["offset"] for e in news[:4]] == [a["offset"] for a in published[:4]]
    assert all(e["argc"] == 2 for e in news)
    assert result["quick"]["recovered"] is True
    assert result["quick"]["id"] == result["first"]["id"]
    late = result["late"]
    assert late["connected"] is True and late["recovered"] is False
    assert late["id"] != result["first"]["id"]
    assert result["beforeReplay"] == 4  # 5..7 were not recovered
    replayed = result["replayed"]
    assert replayed["ok"] is True and replayed["complete"] is True
    assert replayed["events"] == [
        {"offset": published[n - 1]["offset"], "event": "news", "args": [{"n": n}]}
        for n in (5, 6, 7)
    ]
    assert result["joinSince"] == [{"ok": True, "room": "feed", "replayed": 3, "complete": True}]
    assert ns(news) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [e["offset"] for e in news[4:7]] == [a["offset"] for a in published[4:7]]


def test_history_moved_on_reports_the_gap(procs: Processes, scenario: Scenario) -> None:
    """--history-events 20, 40 events while away: not recovered, replay reports the gap."""
    hub = procs.standalone("--recovery", "120", "--history-events", "20")
    result = scenario("recovery_gap.mjs", hub.url, "history")
    published = result["published"]
    assert_published(published)
    again = result["again"]
    assert again["connected"] is True and again["recovered"] is False
    assert again["id"] != result["first"]["id"]
    assert result["beforeReplay"] == 3
    replayed = result["replayed"]
    assert replayed["ok"] is True
    assert replayed["complete"] is False  # the gap: 4..23 are gone
    # Whatever it still returns is the newest stored run (the hub returns none): no event
    # from before the gap, none out of order.
    kept = replay_ns(replayed)
    assert kept == list(range(44 - len(kept), 44)) and len(kept) <= 20, kept
    offsets = [a["offset"] for a in published[43 - len(kept) :]] if kept else []
    assert [e["offset"] for e in replayed["events"]] == offsets
    oldest = result["oldest"]
    assert oldest["ok"] is True
    assert replay_ns(oldest) == [24, 25, 26, 27, 28]  # since null: from the oldest stored
    assert result["latest"] == {"ok": True, "events": [], "complete": True}
    assert result["joinSince"] == [
        {"ok": True, "room": "feed", "replayed": len(kept), "complete": False}
    ]
    assert ns(result["news"]) == [1, 2, 3, *kept]
    print(f"replay since an unknown offset: {result['unknown']}")


def test_aged_history_reports_the_gap(procs: Processes, scenario: Scenario) -> None:
    """--history-age 1: the events after the client's offset aged out: not recovered, gap."""
    hub = procs.standalone("--recovery", "120", "--history-age", "1")
    result = scenario("recovery_gap.mjs", hub.url, "age")
    assert_published(result["published"])
    again = result["again"]
    assert again["connected"] is True and again["recovered"] is False
    assert again["id"] != result["first"]["id"]
    assert result["beforeReplay"] == 1
    replayed = result["replayed"]
    assert replayed["ok"] is True
    assert replayed["complete"] is False  # 2 aged out unseen
    assert replay_ns(replayed) in ([], [3])  # at most what is still stored
