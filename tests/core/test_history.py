"""The history buffer and the recovery vault, with time as an input and no sockets."""

from __future__ import annotations

from hub.core.history import History, Stored
from hub.core.recovery import Persisted, Vault
from hub.protocol.outgoing import Outgoing
from hub.protocol.socketio import SioPacket, SioType

BOUNDS = {"max_events": 3, "max_bytes": 1000, "max_age": 10.0}


def stored(history: History, at: float, size: int = 10, rooms: set[str] | None = None) -> Stored:
    seq, offset = history.next_offset()
    packet = Outgoing(SioPacket(SioType.EVENT, "/", ["e", seq]))
    entry = Stored(
        seq, offset, "e", (seq,), frozenset(rooms) if rooms else None, frozenset(), packet, size, at
    )
    history.append(entry, **BOUNDS)
    return entry


def test_offsets_increase_and_after_returns_what_followed() -> None:
    """Offsets name positions; after(offset) is everything newer, complete."""
    history = History("boot")
    first, second = stored(history, 0.0), stored(history, 0.0)
    assert (first.offset, second.offset) == ("boot-1", "boot-2")
    assert history.after(first.offset).entries == [second]
    assert history.after(second.offset).entries == []
    assert history.after(second.offset).complete
    assert history.after(None).entries == [first, second]
    assert history.latest == "boot-2"


def test_trimmed_successor_is_a_gap() -> None:
    """When the event right after an offset was trimmed, the answer says so."""
    history = History("boot")
    entries = [stored(history, 0.0) for _ in range(5)]  # max_events 3 keeps the last 3
    assert history.dropped == 2
    assert len(history) == 3
    assert not history.after(entries[0].offset).complete
    assert history.after(entries[1].offset).entries == entries[2:]


def test_bytes_and_age_bound_the_buffer() -> None:
    """The oldest entries go once the byte bound or the age bound is passed."""
    history = History("boot")
    stored(history, 0.0, size=600)
    stored(history, 1.0, size=600)  # 1200 bytes > 1000: the first goes
    assert len(history) == 1
    stored(history, 20.0)  # the second is now older than 10 s
    assert [e.at for e in history.after(None).entries] == [20.0]


def test_foreign_malformed_or_future_offsets_are_gaps() -> None:
    """Offsets of another hub, nonsense, or not yet issued are never matched."""
    history = History("boot")
    stored(history, 0.0)
    for offset in ("other-1", "boot-x", "boot-", "nonsense", "boot-9"):
        assert not history.after(offset).complete


def test_stored_reaches_addressed_rooms_minus_exceptions() -> None:
    """An entry reaches members of its rooms (anyone, if namespace-wide) unless excluded."""
    packet = Outgoing(SioPacket(SioType.EVENT, "/", ["e"]))
    to_room = Stored(1, "b-1", "e", (), frozenset({"r"}), frozenset({"x"}), packet, 1, 0.0)
    everyone = Stored(2, "b-2", "e", (), None, frozenset(), packet, 1, 0.0)
    assert to_room.reaches({"r"}) and not to_room.reaches({"s"})
    assert not to_room.reaches({"r", "x"})
    assert everyone.reaches({"anything"})


def test_vault_forgets_after_the_window_and_hands_out_once() -> None:
    """A persisted session is taken once, and only within its window."""
    vault = Vault()
    kept = Persisted("sid", "pid", frozenset({"r"}), {}, "b-0", disconnected_at=100.0)
    vault.keep(kept, now=100.0, window=5.0)
    assert vault.take("pid", now=104.0, window=5.0) == kept
    assert vault.take("pid", now=104.0, window=5.0) is None
    vault.keep(kept, now=100.0, window=5.0)
    assert vault.take("pid", now=106.0, window=5.0) is None
    assert len(vault) == 0
