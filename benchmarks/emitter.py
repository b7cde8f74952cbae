"""User emitter under load: throughput, and latency per priority.

One process: the hub (trio) and N raw WebSocket clients, one user each, reading with a
small socket receive buffer so a backlog builds in the emitters' queues (where
priorities apply) rather than in the kernel. Each user's producer emits a mix of
priorities as fast as backpressure lets it (``await emitter.emit``); each event carries
its emit time, so latency is emit -> the client's parse of it, on one clock.

    .venv/bin/python benchmarks/emitter.py                   # 20 users x 2,000 events
    .venv/bin/python benchmarks/emitter.py --users 100 --events 500 --batch

Throughput is end to end (the clients share the CPU with the hub), so it is a floor.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import time
from collections import defaultdict
from typing import Any

import orjson
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Message, Request, TextMessage

from hub import Hub, Session
from hub.errors import QueueFull

PRIORITIES = ("critical", "high", "normal", "low")


def priority_of(i: int) -> str:
    # 2% critical, 8% high, 30% normal, 60% low.
    if i % 50 == 0:
        return "critical"
    if i % 10 == 0:
        return "high"
    return "normal" if i % 10 < 4 else "low"


class RawClient:
    """A bare Socket.IO client over wsproto: just enough to connect and read events."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.parts: list[str] = []
        self.frames = 0

    @classmethod
    async def open(cls, port: int, user: str, rcvbuf: int) -> RawClient:
        sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Before connect, so the TCP window is small from the start.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        await sock.connect(("127.0.0.1", port))
        client = cls(trio.SocketStream(sock))
        target = "/socket.io/?EIO=4&transport=websocket"
        await client._send(Request(host="127.0.0.1", target=target))
        await client.text()  # Engine.IO OPEN
        await client._send(TextMessage("40" + orjson.dumps({"user": user}).decode()))
        reply = await client.text()
        assert reply.startswith("40"), reply
        return client

    async def _send(self, event: Any) -> None:
        await self.stream.send_all(self.ws.send(event))

    async def text(self) -> str:
        while True:
            for event in self.ws.events():
                if isinstance(event, AcceptConnection):
                    continue
                if isinstance(event, Message):
                    self.parts.append(str(event.data))
                    if event.message_finished:
                        message, self.parts = "".join(self.parts), []
                        if message == "2":  # ping
                            await self._send(TextMessage("3"))
                            continue
                        return message
            data = await self.stream.receive_some(65536)
            if not data:
                raise EOFError
            self.ws.receive_data(data)


async def consume(client: RawClient, latencies: dict[str, list[float]], done: list[float]) -> None:
    """Read events until "end", recording each one's latency by priority."""
    while True:
        message = await client.text()
        if not message.startswith("42"):
            continue
        now = time.perf_counter()
        client.frames += 1
        event, *rest = orjson.loads(message[2:])
        if event == "end":
            break
        items = rest[0] if event == "hub:batch" else [{"data": rest[0]}]
        for item in items:
            data = item["data"]
            latencies[data["p"]].append(now - data["t"])
    done.append(now)


async def produce(
    hub: Hub,
    user: str,
    events: int,
    batch: bool,
    burst: int,
    padding: str,
    dropped: dict[str, int],
) -> None:
    """Bursts of ``burst`` events with no checkpoint between, so queues build up; when
    the queue is full, ``await emit`` waits (backpressure), or a more urgent event takes
    the place of a low one (dropped, "overflow"). "end" follows every outcome."""
    emitter = hub.user(user)
    handles = []
    for i in range(events):
        priority = priority_of(i)
        data = {"t": time.perf_counter(), "p": priority, "i": i, "pad": padding}
        batched = batch and priority == "low"
        try:
            handle = emitter.emit_nowait("tick", data, priority=priority, batch=batched)
        except QueueFull:
            handle = await emitter.emit("tick", data, priority=priority, batch=batched)
        handles.append(handle)
        if i % burst == burst - 1:
            await trio.lowlevel.checkpoint()
    for handle in handles:
        outcome = await handle.wait()
        if outcome.state == "dropped":
            dropped[handle.priority] += 1
    await emitter.emit("end", priority="low")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace) -> None:
    hub = Hub(emitter_queue=args.queue, emitter_batch_window_ms=args.batch_window)

    @hub.namespace("/").on_connect
    async def connect(session: Session, auth: Any) -> None:
        session.user_id = auth["user"]

    latencies: dict[str, list[float]] = defaultdict(list)
    dropped: dict[str, int] = defaultdict(int)
    done: list[float] = []
    async with trio.open_nursery() as nursery:
        port = await nursery.start(hub.serve, "127.0.0.1", 0)
        users = [f"user-{n}" for n in range(args.users)]
        clients = [await RawClient.open(port, user, args.rcvbuf) for user in users]
        began = time.perf_counter()
        async with trio.open_nursery() as load:
            for user, client in zip(users, clients, strict=True):
                load.start_soon(consume, client, latencies, done)
                padding = "x" * args.size
                load.start_soon(
                    produce, hub, user, args.events, args.batch, args.burst, padding, dropped
                )
        elapsed = max(done) - began
        stats = hub.stats().emitter
        nursery.cancel_scope.cancel()
    total = sum(map(len, latencies.values()))
    frames = sum(client.frames for client in clients)
    print(
        f"users {args.users}, {args.events:,} events per user, queue {args.queue}, "
        f"payload +{args.size:,} B, burst {args.burst}, client SO_RCVBUF {args.rcvbuf:,}, "
        f"batch {'low events' if args.batch else 'off'}"
    )
    print(
        f"throughput {total / elapsed:,.0f} events/s received over {elapsed:.2f} s; "
        f"{frames:,} frames; delivered {stats.delivered:,}, dropped {sum(stats.dropped.values())}"
    )
    print(
        f"{'priority':<10}{'received':>9}{'dropped':>9}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}"
    )
    for priority in PRIORITIES:
        values = latencies[priority]
        if not values:
            continue
        print(
            f"{priority:<10}{len(values):>9,}{dropped[priority]:>9,}"
            f"{statistics.median(values) * 1000:>10.1f}"
            f"{percentile(values, 0.95) * 1000:>10.1f}{max(values) * 1000:>10.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--events", type=int, default=2000, help="per user")
    parser.add_argument("--queue", type=int, default=1000, help="emitter_queue")
    parser.add_argument("--rcvbuf", type=int, default=16384, help="client SO_RCVBUF bytes")
    parser.add_argument("--size", type=int, default=2048, help="payload padding, bytes")
    parser.add_argument("--burst", type=int, default=200, help="emits between checkpoints")
    parser.add_argument("--batch", action="store_true", help="batch the low-priority events")
    parser.add_argument("--batch-window", type=float, default=20.0, help="milliseconds")
    trio.run(run, parser.parse_args())


if __name__ == "__main__":
    main()
