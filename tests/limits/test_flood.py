"""A flood of openings past every limit: clean refusals, limits never exceeded, no leaks."""

from __future__ import annotations

import logging
import os
import random
import time
from collections import Counter

import orjson
import pytest
import trio

from hub import Hub
from hub.server.engine import max_sockets
from hub.server.listener import Server
from hub.testing import wait_until
from tests.conftest import StartHub
from tests.limits.clients import (
    LOCAL,
    Refused,
    WebSocket,
    connect_tcp,
    open_websocket_session,
    refused_reply,
    server_of,
    summary,
)
from tests.polling.wire import ENGINE, Http

LIMIT = 50
PER_IP = 20
# Half the openings from one address, so it meets its own limit as well as the hub's.
ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.1", "127.0.0.3")
OPENINGS = 300
BURST = 200
# Every refusal the flood may meet: by the hub-wide limit, by an address's limit, or by
# the cap on open sockets (a polling client holds two).
REFUSALS = {
    (503, 4, "too_many_connections"),
    (429, 4, "too_many_connections_per_ip"),
    (503, 4, "too_many_sockets"),
}


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def trio_tasks() -> int:
    def count(task: trio.lowlevel.Task) -> int:
        return 1 + sum(count(child) for n in task.child_nurseries for child in n.child_tasks)

    return count(trio.lowlevel.current_root_task())


def idle(server: Server) -> bool:
    hub = server.hub
    return (
        server.gate.total == 0
        and not server.gate.by_ip
        and not server.transports
        and not server.polling
        and not server.http
        and server.sockets == 0
        and hub.counters.connections == 0
        and not any(hub.stats().sessions.values())
    )


class Flood:
    """The clients' side: what each opening got, and how many sessions they held at once.

    The first ``BURST`` openings start at once, and the sessions they get are held until
    all of them are answered (so at least ``BURST - LIMIT`` are refused, however slow the
    machine); the others start over the half second after, as sessions end.
    """

    def __init__(self) -> None:
        self.outcomes: Counter[tuple[int, int, str] | str] = Counter()
        self.holding = 0
        self.most_held = 0
        self.answered = 0
        self.burst_answered = trio.Event()

    def refused(self, refusal: Refused) -> None:
        outcome = summary(refusal)
        assert outcome in REFUSALS, refusal
        assert refusal.headers["retry-after"] == "5"
        self.outcomes[outcome] += 1

    async def opening(self, n: int, port: int, local: str, delay: float, hold: float) -> None:
        if n >= BURST:
            await self.burst_answered.wait()
            await trio.sleep(delay)
        opener = self.websocket if n % 2 else self.polling
        await opener(port, local, n < BURST, hold)

    def answer(self, burst: bool) -> None:
        if burst:
            self.answered += 1
            if self.answered == BURST:
                self.burst_answered.set()

    async def holding_for(self, burst: bool, hold: float) -> None:
        self.answer(burst)
        self.holding += 1
        self.most_held = max(self.most_held, self.holding)
        await self.burst_answered.wait()
        await trio.sleep(hold)
        self.holding -= 1

    async def websocket(self, port: int, local: str, burst: bool, hold: float) -> None:
        opened = await WebSocket.open(port, local=local)
        if isinstance(opened, Refused):
            self.answer(burst)
            self.refused(opened)
            return
        try:
            assert (await opened.message()).startswith("0{")
            await self.holding_for(burst, hold)
        finally:
            await opened.aclose()
        self.outcomes["websocket"] += 1

    async def polling(self, port: int, local: str, burst: bool, hold: float) -> None:
        http = Http(await connect_tcp(port, local))
        try:
            reply = await http.request("GET", ENGINE)
            if reply.status != 200:
                self.answer(burst)
                self.refused(refused_reply(reply))
                return
            assert reply.body.startswith(b"0{"), reply
            sid = orjson.loads(reply.body[1:])["sid"]
            await self.holding_for(burst, hold)
            # Ended by the client (a CLOSE packet), on the connection it already has.
            ended = await http.request("POST", f"{ENGINE}&sid={sid}", b"1")
            assert ended.status == 200, ended
        finally:
            await http.aclose()
        self.outcomes["polling"] += 1


async def test_flood_of_openings(start_hub: StartHub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="hub")
    hub, port = await start_hub(Hub(max_connections=LIMIT, max_connections_per_ip=PER_IP))
    server = server_of(hub)
    # Warm up (first sockets, lazily made state), then take the baseline.
    assert await open_websocket_session(port) is None
    warm_up = Flood()
    warm_up.burst_answered.set()
    await warm_up.polling(port, LOCAL, False, 0)
    await wait_until(lambda: idle(server))
    fds, tasks = open_fds(), trio_tasks()

    # Sampled through the flood: what the hub counts, and what it holds.
    most = Counter[str]()
    sampling = True

    async def sample() -> None:
        while sampling:
            held_by_ip = Counter(
                transport.client.handshake.ip
                for transport in [*server.transports, *server.polling.values()]
            )
            for name, value in (
                ("counted", server.gate.total),
                ("held", len(server.transports) + len(server.polling)),
                ("connections", hub.counters.connections),
                ("counted_per_ip", max(server.gate.by_ip.values(), default=0)),
                ("held_per_ip", max(held_by_ip.values(), default=0)),
                ("sockets", server.sockets),
            ):
                most[name] = max(most[name], value)
            await trio.sleep(0.001)

    flood = Flood()
    shuffle = random.Random(7)
    began = time.monotonic()
    with trio.fail_after(30):
        async with trio.open_nursery() as sampler:
            sampler.start_soon(sample)
            async with trio.open_nursery() as nursery:
                for n in range(OPENINGS):
                    local = ADDRESSES[n // 2 % len(ADDRESSES)]
                    delay, hold = shuffle.uniform(0, 0.5), shuffle.uniform(0.05, 0.3)
                    nursery.start_soon(flood.opening, n, port, local, delay, hold)
            sampling = False
    elapsed = time.monotonic() - began

    # Every opening was answered: a session, or a clean refusal.
    assert sum(flood.outcomes.values()) == OPENINGS, flood.outcomes
    accepted = flood.outcomes["websocket"] + flood.outcomes["polling"]
    refused = OPENINGS - accepted
    assert accepted >= LIMIT and refused >= BURST - LIMIT, flood.outcomes
    # The limits held all along, seen from both sides.
    assert flood.most_held <= LIMIT
    assert most["counted"] <= LIMIT and most["held"] <= LIMIT and most["connections"] <= LIMIT
    assert most["counted_per_ip"] <= PER_IP and most["held_per_ip"] <= PER_IP
    assert most["sockets"] <= max_sockets(hub.config) + 1, most
    errors = hub.stats().errors
    assert sum(errors.get(reason, 0) for _, _, reason in REFUSALS) == refused, errors

    # Afterwards nothing is left: sessions, connections, sockets, fds, tasks.
    await wait_until(lambda: idle(server), timeout=10)
    await wait_until(lambda: open_fds() <= fds and trio_tasks() <= tasks, timeout=10)
    # Refusals are logged one line each, but at most 20 a second per reason.
    logged = sum("refused" in record.getMessage() for record in caplog.records)
    assert 0 < logged <= 20 * len(REFUSALS) * (int(elapsed) + 2)
    # The hub serves as before.
    assert await open_websocket_session(port) is None


async def test_sockets_past_the_cap_are_refused_at_once(start_hub: StartHub) -> None:
    """Connections that never become sessions hold descriptors: past the cap (twice
    max_connections plus a margin) new ones get a 503 before their request is read."""
    hub, port = await start_hub(max_connections=1)
    server = server_of(hub)
    cap = max_sockets(hub.config)
    silent = [await connect_tcp(port) for _ in range(cap)]
    try:
        await wait_until(lambda: server.sockets == cap)
        with trio.fail_after(5):
            refusal = await open_websocket_session(port)
            http = Http(await connect_tcp(port))
            reply = await http.request("GET", "/health")
            await http.aclose()
        assert refusal is not None and summary(refusal) == (503, 4, "too_many_sockets")
        assert summary(refused_reply(reply)) == (503, 4, "too_many_sockets")
        assert hub.stats().errors["too_many_sockets"] == 2
    finally:
        for stream in silent:
            await stream.aclose()
    await wait_until(lambda: idle(server))
    assert await open_websocket_session(port) is None
