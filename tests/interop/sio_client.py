"""python-socketio's ``socketio.AsyncClient`` (asyncio, websocket transport) as a test client.

The client runs under asyncio while pytest-trio owns ``async def`` tests, so tests drive it
from plain functions with ``run(scenario)``: ``asyncio.run`` under a time bound. Each client
gets its own ``aiohttp.ClientSession``, closed whatever happens; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

import aiohttp
import socketio
import socketio.exceptions

T = TypeVar("T")

STEP = 5.0  # one wait (connect, ack, event)
SCENARIO_TIMEOUT = 30.0  # one whole test
QUIET = 0.3  # how long "nothing else arrives" is watched for
# The transports clients ask for; None is python-socketio's default (polling, then the
# upgrade to WebSocket). The tests run once with each.
TRANSPORTS: list[str] | None = ["websocket"]
AUTH = {"token": "secret", "user": "grace", "tags": ["x", "y"], "n": 3, "nested": {"ok": True}}
# What the app's "whoami" echoes: the token is a sensitive key, redacted on the way out.
ECHOED = AUTH | {"token": "[redacted]"}


def run(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run an asyncio scenario to completion from a sync test, bounded in time."""

    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), SCENARIO_TIMEOUT)

    return asyncio.run(bounded())


class Inbox:
    """Records server events per name; waits (bounded) until a predicate holds."""

    def __init__(self) -> None:
        self.events: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        self._changed = asyncio.Event()

    def attach(self, sio: socketio.AsyncClient, event: str, namespace: str) -> None:
        async def handler(*args: Any) -> None:
            self.events[event].append(args)
            self._changed.set()

        sio.on(event, handler, namespace=namespace)

    def firsts(self, event: str) -> list[Any]:
        """The first argument of each ``event`` received, in order."""
        return [args[0] if args else None for args in self.events[event]]

    async def wait_until(self, predicate: Callable[[], bool], what: str) -> None:
        try:
            async with asyncio.timeout(STEP):
                while not predicate():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"timed out after {STEP}s waiting for {what}") from None


class Refused(Exception):
    """The namespace connection was refused; ``.error`` is the connect_error payload."""

    def __init__(self, error: Any) -> None:
        super().__init__(error)
        self.error = error


@contextlib.asynccontextmanager
async def connected(
    url: str,
    namespace: str = "/test",
    auth: dict[str, Any] | None = AUTH,
    *,
    inbox: Inbox | None = None,
    events: tuple[str, ...] = (),
    handlers: dict[str, Callable[..., Any]] | None = None,
) -> AsyncIterator[socketio.AsyncClient]:
    """A client connected to ``namespace`` (on ``TRANSPORTS``); raises ``Refused`` on connect_error.

    ``events`` are recorded into ``inbox``; ``handlers`` are registered as they are (their
    return value is the ack the client sends).
    """
    errors: list[Any] = []
    async with aiohttp.ClientSession() as http:
        sio = socketio.AsyncClient(reconnection=False, handle_sigint=False, http_session=http)

        async def on_connect_error(data: Any = None) -> None:
            errors.append(data)

        sio.on("connect_error", on_connect_error, namespace=namespace)
        for event in events:
            assert inbox is not None
            inbox.attach(sio, event, namespace)
        for event, handler in (handlers or {}).items():
            sio.on(event, handler, namespace=namespace)
        try:
            try:
                await sio.connect(
                    url,
                    auth=auth,
                    namespaces=[namespace],
                    transports=TRANSPORTS,
                    wait_timeout=STEP,
                )
            except socketio.exceptions.ConnectionError as exc:
                if errors:
                    raise Refused(errors[0]) from exc
                raise
            yield sio
        finally:
            await sio.disconnect()


async def ack(
    sio: socketio.AsyncClient, event: str, *args: Any, namespace: str = "/test"
) -> tuple[Any, ...]:
    """Emit with an ack request; the ack's arguments exactly as they came (a tuple)."""
    answer: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def on_ack(*ack_args: Any) -> None:
        if not answer.done():
            answer.set_result(ack_args)

    await sio.emit(event, args, namespace=namespace, callback=on_ack)
    try:
        return await asyncio.wait_for(answer, STEP)
    except TimeoutError:
        raise AssertionError(f"no ack for {event}{args!r} within {STEP}s") from None
