"""The client: one Engine.IO connection, its namespaces, and what keeps it up.

Tasks, all in the client's task group (entered by ``async with``):

- the *supervisor* (``supervisor``) opens a link, connects every namespace, waits until
  the link is lost, then sleeps the backoff delay and starts again (until closed, or out
  of attempts);
- per link, a *reader* (``inbound``: packets in: acks, events, replies) and one *sender*
  per namespace (``outbound``: drains that namespace's outbox in order, so the offline
  queue is flushed before anything emitted later);
- the *dispatcher* (``inbound``) runs handlers one at a time, in arrival order, and sends
  their acks. The reader never waits for a handler, so pings, acks and ``wait_for`` keep
  flowing while a handler is slow (and a handler may ``await emit_with_ack`` on its own
  client).

The ``Client`` holds the state they share and the public API; they act on it.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Self, Unpack

import anyio
import attrs
from anyio.abc import TaskGroup

from hub_client.api import EventAPI, Namespace
from hub_client.channel import ChannelState, Outgoing
from hub_client.engine import Link
from hub_client.errors import NotConnected
from hub_client.inbound import Dispatcher
from hub_client.options import ClientOptions, Settings, parse_url
from hub_client.outbound import enqueue, goodbye
from hub_client.supervisor import Supervisor

log = logging.getLogger("hub_client")


@attrs.frozen
class ClientStats:
    """Counters since the client was made."""

    state: str  # "new", "connecting", "connected", "reconnecting", "closed"
    transport: str | None  # of the current connection
    connects: int  # connections that got every namespace connected (the first included)
    recoveries: int  # namespace reconnects that resumed their session
    events: int  # events handed to handlers, after unpacking batches and dropping resends
    batches: int  # "hub:batch" frames unpacked
    duplicates: int  # resent emitter events dropped (acknowledged again, not handled)
    handler_errors: int
    queued: int  # events waiting in outboxes (the offline queue included)


class Client(EventAPI):
    """A Socket.IO v5 client for the hub (and any Socket.IO v5 server), on anyio.

    ``async with Client(url, **settings) as client:`` connects (raising ``ConnectError``
    or ``ConnectRefused`` when it cannot) and closes cleanly at the end of the block.
    Register handlers before entering to see every event, those sent right after the
    connect included. The methods act in the first of ``namespaces``; ``of(name)`` gives
    the others.
    """

    def __init__(self, url: str, **settings: Unpack[Settings]) -> None:
        self.url = url
        self.options = ClientOptions(**settings)
        self._endpoint = parse_url(url, self.options.path)
        self._channels = {name: ChannelState(name) for name in self.options.namespaces}
        self._views = {name: Namespace(self, ch) for name, ch in self._channels.items()}
        self._client = self
        self._channel = self._channels[self.options.namespaces[0]]
        # The delays slept before each reconnect attempt, in order.
        self.reconnect_delays: list[float] = []
        self._state = "new"
        self._link: Link | None = None
        self._closing = False
        self._failure: NotConnected | None = None
        self._task_group: TaskGroup | None = None
        self._counts = dict.fromkeys(
            ("connects", "recoveries", "events", "batches", "duplicates", "handler_errors"), 0
        )
        self._dispatcher = Dispatcher(self._counts)
        self._supervisor = Supervisor(self, self._dispatcher)

    def __repr__(self) -> str:
        return f"<Client {self.url} {self._state} sid={self.sid}>"

    # Public state

    def of(self, namespace: str) -> Namespace:
        """The namespace ``namespace`` of this connection (one of ``namespaces``)."""
        try:
            return self._views[namespace]
        except KeyError:
            known = ", ".join(self._views)
            raise KeyError(
                f"{namespace!r} is not one of this client's namespaces ({known})"
            ) from None

    @property
    def state(self) -> str:
        return self._state

    @property
    def transport(self) -> str | None:
        """``"websocket"`` or ``"polling"`` while connected, else None."""
        link = self._link
        return link.transport.name if link is not None and link.alive else None

    @property
    def failure(self) -> NotConnected | None:
        """Why the client stopped, once it did (closed, or gave up reconnecting)."""
        return self._failure

    def stats(self) -> ClientStats:
        return ClientStats(
            state=self._state,
            transport=self.transport,
            queued=sum(len(ch.outbox) for ch in self._channels.values()),
            **self._counts,
        )

    # Lifecycle

    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise RuntimeError("a Client connects once; make a new one to connect again")
        self._state = "connecting"
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        self._dispatcher.start(task_group)
        problem: BaseException | None
        try:
            problem = await task_group.start(self._supervisor.run)
        except BaseException as exc:  # cancelled while connecting
            problem = exc
        if problem is not None:
            self._stop(NotConnected("the client could not connect"))
            task_group.cancel_scope.cancel()
            await task_group.__aexit__(None, None, None)
            self._dispatcher.close()
            raise problem
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # A block left by cancellation closes at once; any other way flushes first.
        cancelled = exc is not None and isinstance(exc, anyio.get_cancelled_exc_class())
        await self.aclose(flush=not cancelled)

    async def aclose(self, *, flush: bool = True) -> None:
        """Closes cleanly: flushes what is queued (up to 5 s; not with ``flush=False``),
        disconnects every namespace, closes the transport. Pending calls get
        ``NotConnected``. Call it from the task that entered the client (``async with``
        does); a handler that wants the client closed should tell that task."""
        task_group = self._task_group
        if task_group is None:
            return
        self._task_group = None
        self._closing = True
        connected = [ch for ch in self._channels.values() if ch.connected]
        try:
            with anyio.CancelScope(shield=True):
                await goodbye(self._link, connected, flush)
            task_group.cancel_scope.cancel()
        finally:
            try:
                await task_group.__aexit__(None, None, None)
            finally:
                self._dispatcher.close()
                dropped = sum(len(ch.outbox) for ch in self._channels.values())
                if dropped:
                    log.warning("closed with %d events still queued: dropped", dropped)
                self._stop(NotConnected("the client is closed"))
        for channel in connected:
            await self._dispatcher.lifecycle_now(channel, "disconnect", "io client disconnect")

    def _stop(self, failure: NotConnected) -> None:
        self._state = "closed"
        if self._failure is None:
            self._failure = failure
        for channel in self._channels.values():
            channel.fail_all(self._failure)

    # Sending (the namespace views' way in)

    async def _enqueue(self, channel: ChannelState, item: Outgoing) -> None:
        await enqueue(self, channel, item)


def connect(url: str, **settings: Unpack[Settings]) -> Client:
    """``async with connect(url, **settings) as client:`` (the same as ``Client(...)``)."""
    return Client(url, **settings)
