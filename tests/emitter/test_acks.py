"""Acknowledged events: resent until acked, with the same id; expiry by TTL, by
attempts and while offline; a session lost before its ack."""

from __future__ import annotations

from typing import Any

import trio

from hub.testing import open_test_client, wait_until
from tests.emitter.conftest import StartUserHub, next_events

FAST_RETRY = {
    "emitter_ack_timeout": 0.2,
    "emitter_backoff_base": 0.05,
    "emitter_backoff_max": 0.1,
}


class IgnoreFirst(dict[str, Any]):
    """Responders that leave the first ``skip`` deliveries of each event unanswered."""

    def __init__(self, skip: int, **responders: Any) -> None:
        super().__init__(responders)
        self.skip = skip
        self.seen: dict[str, int] = {}

    def get(self, key: str, default: Any = None) -> Any:
        self.seen[key] = self.seen.get(key, 0) + 1
        if self.seen[key] <= self.skip:
            return default
        return super().get(key, default)


async def answer(*args: Any) -> str:
    return "ok"


async def test_resent_until_acked_with_the_same_id(start_user_hub: StartUserHub) -> None:
    """A client that ignores the first two deliveries gets the event three times and
    acks once; the handle reports acked after 3 attempts."""
    hub, port = await start_user_hub(**FAST_RETRY)
    async with open_test_client(port, auth={"user": "alice"}) as client:
        client.responders = IgnoreFirst(2, job_done=answer)
        handle = await hub.user("alice").emit("job_done", {"job": 1}, ack=True)
        outcome = await handle.wait(timeout=10)
        assert (outcome.state, outcome.reason, outcome.attempts) == ("acked", None, 3)
        got = [packet for packet in client.received if packet.is_event]
        assert len(got) == 3
        assert all(p.data == ["job_done", {"job": 1}, {"id": handle.id}] for p in got)
        assert len({p.id for p in got}) == 3  # a fresh Socket.IO ack id per send
        stats = hub.stats()
        assert stats.emitter.acked == 1 and stats.emitter.retried == 2
        assert stats.errors == {}


async def test_first_ack_of_several_sessions_wins(start_user_hub: StartUserHub) -> None:
    """Two tabs both ack: acked once, and the second ack is no error."""
    hub, port = await start_user_hub(**FAST_RETRY)
    async with (
        open_test_client(port, auth={"user": "bo"}) as tab1,
        open_test_client(port, auth={"user": "bo"}) as tab2,
    ):
        for tab in (tab1, tab2):
            tab.responders["ping"] = answer
        handle = hub.user("bo").emit_nowait("ping", ack=True)
        outcome = await handle.wait(timeout=10)
        assert (outcome.state, outcome.attempts) == ("acked", 1)
        for tab in (tab1, tab2):
            assert (await tab.next_event())[0] == "ping"
        await trio.sleep(0.05)
        assert hub.stats().errors == {}
        assert hub.stats().emitter.acked == 1


async def test_ttl_expiry_is_reported(start_user_hub: StartUserHub) -> None:
    """An unacknowledged event expires at its TTL, online or offline."""
    hub, port = await start_user_hub(**FAST_RETRY, emitter_max_attempts=100)
    emitter = hub.user("cy")
    offline = emitter.emit_nowait("later", ttl=0.2)
    outcome = await offline.wait(timeout=10)
    assert (outcome.state, outcome.reason, outcome.attempts) == ("expired", "ttl", 0)
    async with open_test_client(port, auth={"user": "cy"}) as client:
        handle = emitter.emit_nowait("confirm", ack=True, ttl=0.5)
        outcome = await handle.wait(timeout=10)
        assert (outcome.state, outcome.reason) == ("expired", "ttl")
        assert outcome.attempts >= 2
        assert len(await next_events(client, outcome.attempts)) == outcome.attempts
    assert hub.stats().emitter.expired == {"ttl": 2}


async def test_max_attempts_and_offline_expiry(start_user_hub: StartUserHub) -> None:
    hub, port = await start_user_hub(**FAST_RETRY, emitter_offline_ttl=0.2)
    emitter = hub.user("di")
    waiting = emitter.emit_nowait("while_away")
    outcome = await waiting.wait(timeout=10)
    assert (outcome.state, outcome.reason) == ("expired", "offline")
    async with open_test_client(port, auth={"user": "di"}):
        handle = emitter.emit_nowait("confirm", ack=True, max_attempts=2)
        outcome = await handle.wait(timeout=10)
        assert (outcome.state, outcome.reason, outcome.attempts) == (
            "expired",
            "max_attempts",
            2,
        )
    assert hub.stats().emitter.expired == {"offline": 1, "max_attempts": 1}


async def test_an_event_whose_session_went_away_goes_to_the_next_one(
    start_user_hub: StartUserHub,
) -> None:
    """Sent to a tab that closed before acking, the event is resent on the next connect."""
    hub, port = await start_user_hub(emitter_ack_timeout=60)
    emitter = hub.user("ed")
    async with open_test_client(port, auth={"user": "ed"}) as first:
        handle = emitter.emit_nowait("save", {"doc": 1}, ack=True)
        assert (await first.next_event())[0] == "save"
    await wait_until(lambda: not hub.users.sizes())
    assert handle.outcome is None
    async with open_test_client(port, connect=None) as second:
        second.responders["save"] = answer  # before connecting: the event comes right after
        await second.connect("/", {"user": "ed"})
        outcome = await handle.wait(timeout=10)
        assert (outcome.state, outcome.attempts) == ("acked", 2)
        assert await second.next_event() == ("save", [{"doc": 1}, {"id": handle.id}])
