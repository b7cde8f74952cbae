"""Where the examples send their events: a hub they embed, or a hub's HTTP API.

The per-user emitter (``hub.user(user_id)``) lives in the hub's process, so a producer
either embeds the hub in its own trio program (the default here: it serves the standalone
hub's namespace, where a client names its user with ``auth={"user": ...}``), or runs
beside a ``python -m hub`` and posts to ``POST /api/users/{user_id}/emit`` with one of
its API keys (``--url`` and ``--api-key``). Both take the same typed events and options.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal, Protocol

import trio

from hub.core.hub import Hub
from hub.events import to_wire
from hub.publisher import Publisher, PublishFailure
from hub.standalone import standalone_hub

Priority = Literal["critical", "high", "normal", "low"]
# How long an emit with ack=True waits for the client's ack before going on.
ACK_WAIT = 10.0


class Sink(Protocol):
    """Sends one typed event to the user the example works for.

    The options are the emitter's: ``priority`` (None: high for names ending in
    "error", else normal), ``coalesce_key`` (a newer event replaces a queued one with
    the same key), ``batch`` (may leave with others in one ``hub:batch`` frame), ``ack``
    (resent until the client acknowledges it).
    """

    async def emit(
        self,
        event: object,
        *,
        priority: Priority | None = None,
        coalesce_key: str | None = None,
        batch: bool = False,
        ack: bool = False,
    ) -> None: ...


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", default="alice", help="the user to report to (default alice)")
    parser.add_argument("--host", default="127.0.0.1", help="embedded hub: address to bind")
    parser.add_argument("--port", type=int, default=8765, help="embedded hub: port, 0 for any")
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="embedded hub: start at once instead of waiting for a client of --user",
    )
    parser.add_argument("--url", help="send to the hub at this URL (HTTP API) instead")
    parser.add_argument("--api-key", help="with --url: one of the hub's api_keys")


class EmbeddedSink:
    """``hub.user(user).emit``: priorities, coalescing and the queue, in this process."""

    def __init__(self, hub: Hub, user: str) -> None:
        self.hub, self.user = hub, user

    async def emit(
        self,
        event: object,
        *,
        priority: Priority | None = None,
        coalesce_key: str | None = None,
        batch: bool = False,
        ack: bool = False,
    ) -> None:
        # Typed objects go in as they are: the emitter calls to_wire itself.
        handle = await self.hub.user(self.user).emit(
            event, priority=priority, coalesce_key=coalesce_key, batch=batch, ack=ack
        )
        if ack:
            # Only the run's outcome is acked: worth a moment to know it arrived.
            try:
                outcome = await handle.wait(timeout=ACK_WAIT)
            except TimeoutError:
                print(f"{handle.event}: no ack yet, still pending", file=sys.stderr)
            else:
                print(f"{handle.event}: {outcome.state}", file=sys.stderr, flush=True)


class HttpSink:
    """``POST /api/users/{user}/emit`` through ``hub.publisher``: the same options, over
    the hub's HTTP API (one worker, so the events keep their order)."""

    def __init__(self, url: str, api_key: str, user: str) -> None:
        self.user = user
        self.publisher = Publisher(url, api_key, pool=1, on_error=self._failed)
        self.failure: PublishFailure | None = None

    def _failed(self, failure: PublishFailure) -> None:
        self.failure = failure
        print(f"{failure.event}: {failure.kind}: {failure.message}", file=sys.stderr)

    async def emit(
        self,
        event: object,
        *,
        priority: Priority | None = None,
        coalesce_key: str | None = None,
        batch: bool = False,
        ack: bool = False,
    ) -> None:
        name, data = to_wire(event)  # validated here, before anything leaves
        self.publisher.emit_to_user(
            self.user,
            name,
            data,
            priority=priority,
            coalesce_key=coalesce_key,
            batch=batch,
            ack=ack,
        )

    async def close(self) -> None:
        await trio.to_thread.run_sync(self.publisher.close)
        if self.failure is not None:
            raise SystemExit(f"{self.failure.path}: {self.failure.kind} {self.failure.message}")


@asynccontextmanager
async def open_sink(args: argparse.Namespace) -> AsyncIterator[Sink]:
    """The sink the command line asks for; an embedded hub serves until the block ends."""
    if args.url:
        if not args.api_key:
            raise SystemExit("--url needs --api-key (one of the hub's api_keys)")
        sink = HttpSink(args.url, args.api_key, args.user)
        try:
            yield sink
        finally:
            await sink.close()
        return
    hub = standalone_hub()
    async with trio.open_nursery() as nursery:
        port = await nursery.start(hub.serve, args.host, args.port)
        url = f"http://{args.host}:{port}"
        print(f"hub listening on {url}", flush=True)
        if not args.no_wait:
            print(
                f"waiting for a client of user {args.user!r}; in another terminal:\n"
                f"  python examples/watch.py --url {url} --user {args.user}",
                file=sys.stderr,
                flush=True,
            )
            while not any(True for _ in hub.users.members(args.user)):  # noqa: ASYNC110
                await trio.sleep(0.05)
        yield EmbeddedSink(hub, args.user)
        # Let the user's queue hand everything over, then close the clients gracefully.
        await drain(hub, args.user)
        await hub.shutdown(grace=2)
        nursery.cancel_scope.cancel()


async def drain(hub: Hub, user: str, timeout: float = 5) -> None:
    """Wait (bounded) until nothing is pending for ``user``: queued or awaiting an ack."""
    with trio.move_on_after(timeout):
        while hub.user(user).stats().pending:  # noqa: ASYNC110
            await trio.sleep(0.02)
