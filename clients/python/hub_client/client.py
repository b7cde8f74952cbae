"""The client: one Engine.IO connection, its namespaces, and what keeps it up.

Tasks, all in the client's task group (entered by ``async with``):

- the *supervisor* opens a link, connects every namespace, waits until the link is lost,
  then sleeps the backoff delay and starts again (until closed, or out of attempts);
- per link, a *reader* (packets in: acks, events, replies) and one *sender* per
  namespace (drains that namespace's outbox in order, so the offline queue is flushed
  before anything emitted later);
- the *dispatcher* runs handlers one at a time, in arrival order, and sends their acks.
  The reader never waits for a handler, so pings, acks and ``wait_for`` keep flowing
  while a handler is slow (and a handler may ``await emit_with_ack`` on its own client).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from types import TracebackType
from typing import Any, Self, Unpack

import anyio
import attrs
from anyio.abc import TaskGroup, TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from hub.events import InvalidEvent
from hub.protocol.socketio import SioPacket, SioType
from hub_client.api import EventAPI, Namespace
from hub_client.backoff import Backoff
from hub_client.channel import ChannelState, Outgoing
from hub_client.codec import (
    ack_args,
    ack_packet,
    connect_packet,
    disconnect_packet,
    event_packet,
    refusal,
)
from hub_client.engine import Link, open_link
from hub_client.errors import (
    ConnectError,
    ConnectionLost,
    ConnectRefused,
    NotConnected,
    OfflineQueueFull,
    ReconnectFailed,
)
from hub_client.handlers import CATCH_ALL, call, describe
from hub_client.options import ClientOptions, Settings, parse_url
from hub_client.transports import TransportClosed
from hub_client.userevents import Delivery, SeenIds, unpack

log = logging.getLogger("hub_client")

Job = Callable[[], Awaitable[None]]
JOBS = 10_000  # events received and not handled yet; past it the reader waits (backpressure)
OUTBOX = 256  # while connected, emit waits while this many events are queued
CLOSE_FLUSH = 5.0  # how long a clean close waits for queued events to leave


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
        self._backoff = Backoff(
            self.options.reconnect_delay,
            self.options.reconnect_delay_max,
            jitter=self.options.reconnect_jitter,
        )
        # The delays slept before each reconnect attempt, in order.
        self.reconnect_delays: list[float] = []
        self._seen = SeenIds(self.options.dedupe_ids)
        self._state = "new"
        self._link: Link | None = None
        self._closing = False
        self._failure: NotConnected | None = None
        self._task_group: TaskGroup | None = None
        self._jobs: MemoryObjectSendStream[Job] | None = None
        self._counts = dict.fromkeys(
            ("connects", "recoveries", "events", "batches", "duplicates", "handler_errors"), 0
        )

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
        jobs_in, jobs_out = anyio.create_memory_object_stream[Job](JOBS)
        self._jobs = jobs_in
        task_group.start_soon(self._dispatch, jobs_out)
        problem: BaseException | None
        try:
            problem = await task_group.start(self._supervise)
        except BaseException as exc:  # cancelled while connecting
            problem = exc
        if problem is not None:
            self._stop(NotConnected("the client could not connect"))
            task_group.cancel_scope.cancel()
            await task_group.__aexit__(None, None, None)
            jobs_in.close()
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
                await self._goodbye(connected, flush)
            task_group.cancel_scope.cancel()
        finally:
            try:
                await task_group.__aexit__(None, None, None)
            finally:
                if self._jobs is not None:
                    self._jobs.close()
                dropped = sum(len(ch.outbox) for ch in self._channels.values())
                if dropped:
                    log.warning("closed with %d events still queued: dropped", dropped)
                self._stop(NotConnected("the client is closed"))
        for channel in connected:
            await self._lifecycle_now(channel, "disconnect", "io client disconnect")

    async def _goodbye(self, channels: list[ChannelState], flush: bool) -> None:
        """Flushes the outboxes (bounded), then disconnects each namespace."""
        link = self._link
        if link is None or not link.alive:
            return
        with anyio.move_on_after(CLOSE_FLUSH if flush else 0):
            while link.alive:
                busy = [ch for ch in channels if ch.outbox and ch.connected]
                if not busy:
                    break
                await busy[0].room().wait()  # set as each event leaves
        with anyio.move_on_after(CLOSE_FLUSH):
            for channel in channels:
                if channel.connected:
                    try:
                        await link.send(disconnect_packet(channel.name))
                    except TransportClosed:
                        break
        link.mark_lost("io client disconnect")

    def _stop(self, failure: NotConnected) -> None:
        self._state = "closed"
        if self._failure is None:
            self._failure = failure
        for channel in self._channels.values():
            channel.fail_all(self._failure)

    # The supervisor: connect, wait for the link to go, back off, reconnect

    async def _supervise(self, *, task_status: TaskStatus[BaseException | None]) -> None:
        started = False

        def ready() -> None:
            nonlocal started
            if not started:
                started = True
                task_status.started(None)

        attempt = 0
        last: BaseException | None = None
        outcome: str | BaseException = ""
        while True:
            if started:
                limit = self.options.reconnect_attempts
                if not self.options.reconnect or (limit is not None and attempt >= limit):
                    failure = ReconnectFailed(
                        f"gave up reconnecting after {attempt} attempts"
                        if self.options.reconnect
                        else f"the connection was lost and reconnect is off ({outcome})"
                    )
                    failure.__cause__ = last
                    self._stop(failure)
                    return
                attempt += 1
                delay = self._backoff.delay(attempt)
                self.reconnect_delays.append(delay)
                log.info("reconnect attempt %d in %.2f s", attempt, delay)
                await anyio.sleep(delay)
            outcome = await self._connection(ready)
            if self._closing:
                return
            if not started:
                assert isinstance(outcome, BaseException)
                task_status.started(outcome)
                return
            if isinstance(outcome, ConnectRefused):
                failure = ReconnectFailed(f"reconnecting was refused: {outcome}")
                failure.__cause__ = outcome
                self._stop(failure)
                return
            if isinstance(outcome, BaseException):
                last = outcome
                log.info("reconnect attempt %d failed: %s", attempt, outcome)
                for channel in self._channels.values():
                    self._lifecycle(channel, "connect_error", outcome)
                continue
            attempt, last = 0, None
            if all(ch.kicked for ch in self._channels.values()):
                self._stop(NotConnected("the server disconnected every namespace"))
                return
            self._state = "reconnecting"

    async def _connection(self, ready: Callable[[], None]) -> str | BaseException:
        """One link from opening to loss. Returns the reason it was lost once connected,
        or the exception that kept it from connecting."""
        try:
            auth = await self._auth()
            link = await open_link(self._endpoint, self.options)
        except ConnectError as exc:
            return exc
        problem: BaseException | None = None
        connected = False
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._read, link)
                tasks.start_soon(self._watch, link, tasks.cancel_scope)
                problem = await self._connect_namespaces(link, auth, tasks)
                if problem is None:
                    connected = True
                    ready()
                    await link.lost.wait()
                else:
                    link.mark_lost("connect failed")
                tasks.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                self._link_gone(link)
                if self._closing:
                    await link.close()
                else:
                    await link.abort()
        if connected:
            return link.reason or "transport close"
        return problem or ConnectError(f"the connection was lost while connecting ({link.reason})")

    async def _auth(self) -> Mapping[str, Any] | None:
        source = self.options.auth
        if source is None or isinstance(source, Mapping):
            return source
        try:
            value = source()
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:
            raise ConnectError(f"the auth callable failed: {exc!r}") from exc
        if not isinstance(value, Mapping):
            raise ConnectError(f"the auth callable returned {value!r}, not a dict")
        return value

    async def _watch(self, link: Link, scope: anyio.CancelScope) -> None:
        await link.lost.wait()
        scope.cancel()

    async def _connect_namespaces(
        self, link: Link, auth: Mapping[str, Any] | None, tasks: TaskGroup
    ) -> BaseException | None:
        channels = [ch for ch in self._channels.values() if not ch.kicked]
        try:
            replies = []
            for channel in channels:
                replies.append(channel.begin_connect())
                await link.send(connect_packet(channel.name, channel.connect_payload(auth)))
        except TransportClosed as exc:
            return ConnectError(f"the connection was lost while connecting: {exc.reason}")
        # The reader takes each reply as it comes (see _on_connect_reply).
        with anyio.move_on_after(self.options.connect_timeout) as scope:
            for reply in replies:
                await reply.wait()
        if scope.cancelled_caught:
            limit = self.options.connect_timeout
            return ConnectError(f"no namespace CONNECT reply within {limit:g} s")
        for channel in channels:
            assert channel.reply is not None
            refused, data = channel.reply
            if refused:
                message, detail = refusal(data)
                return ConnectRefused(channel.name, message, detail)
        for channel in channels:
            tasks.start_soon(self._send_loop, link, channel)
        return None

    def _on_connect_reply(self, link: Link, channel: ChannelState, data: Any) -> None:
        """A namespace is connected from its CONNECT reply on (in the reader, so the
        ``connect`` handlers run before the events that follow the reply, and after the
        ones a recovery replays before it); the client, once every namespace is."""
        if channel.reply_event is None or channel.reply_event.is_set():
            log.warning("unexpected CONNECT reply for %s", channel.name)
            return
        channel.on_reply(False, data)
        channel.on_connected(link, data)
        if channel.recovered:
            self._counts["recoveries"] += 1
        log.info(
            "connected %s sid=%s over %s%s",
            channel.name,
            channel.sid,
            link.transport.name,
            " (recovered)" if channel.recovered else "",
        )
        self._lifecycle(channel, "connect")
        if all(ch.link is link for ch in self._channels.values() if not ch.kicked):
            self._link = link
            self._state = "connected"
            self._counts["connects"] += 1

    def _link_gone(self, link: Link) -> None:
        if self._link is link:
            self._link = None
            if not self._closing and self._failure is None:
                self._state = "reconnecting"
        lost = ConnectionLost(f"the connection was lost ({link.reason or 'closed'})")
        for channel in self._channels.values():
            gone = channel.link is link or channel.link is None
            if gone and channel.on_link_gone(lost) and not self._closing:
                self._lifecycle(channel, "disconnect", link.reason)

    # Sending

    async def _enqueue(self, channel: ChannelState, item: Outgoing) -> None:
        while True:
            if self._failure is not None:
                raise self._failure
            if self._state == "new":
                raise NotConnected("the client is not connected yet (use `async with`)")
            if channel.kicked:
                raise NotConnected(f"the server disconnected {channel.name}")
            if not channel.connected:
                if self.options.offline_queue == 0:
                    raise NotConnected(f"{channel.name} is disconnected (offline_queue is 0)")
                if len(channel.outbox) >= self.options.offline_queue:
                    raise OfflineQueueFull(
                        f"{channel.name} is disconnected and {len(channel.outbox)} events wait"
                    )
                break
            if len(channel.outbox) < OUTBOX:
                break
            await channel.room().wait()
        channel.outbox.append(item)
        channel.wake()

    async def _send_loop(self, link: Link, channel: ChannelState) -> None:
        try:
            await self._drain(link, channel)
        except Exception:
            log.exception("the client's sender for %s failed", channel.name)
            link.mark_lost("client error")

    async def _drain(self, link: Link, channel: ChannelState) -> None:
        """Drains the namespace's outbox onto ``link``, in order. An event leaves the
        outbox once written: one cut short stays first in line for the next link."""
        while link.alive and channel.link is link:
            if not channel.outbox:
                wakeup = channel.wakeup()
                if not channel.outbox:
                    await wakeup.wait()
                continue
            item = channel.outbox[0]
            if item.cancelled:
                channel.outbox.popleft()
                continue
            ack_id = None
            try:
                if item.ack is None:
                    await link.send_encoded(item.packets)
                else:
                    ack_id = channel.register_ack(item.ack)
                    await link.send(event_packet(channel.name, item.event, item.args, ack_id))
            except BaseException as exc:
                # Not written: it stays first in line, its ack awaited from the next link.
                if ack_id is not None:
                    channel.acks.pop(ack_id, None)
                if isinstance(exc, TransportClosed):
                    return
                raise
            if channel.outbox and channel.outbox[0] is item:
                channel.outbox.popleft()
            channel.wake()

    async def _send_ack(
        self, link: Link, channel: ChannelState, ack_id: int, args: list[Any]
    ) -> None:
        if not link.alive:
            return  # the ack belonged to that connection; the server resends what it needs
        try:
            await link.send(ack_packet(channel.name, ack_id, args))
        except TransportClosed:
            pass
        except (TypeError, ValueError) as exc:
            log.error("the ack of %s cannot be encoded: %s", channel.name, exc)

    # Receiving

    async def _read(self, link: Link) -> None:
        try:
            while True:
                packet = await link.receive()
                await self._on_packet(link, packet)
        except TransportClosed as exc:
            link.mark_lost(exc.reason)
        except Exception:
            log.exception("the client's reader failed")
            link.mark_lost("client error")

    async def _on_packet(self, link: Link, packet: SioPacket) -> None:
        channel = self._channels.get(packet.namespace)
        if channel is None:
            log.warning("packet for a namespace this client did not connect: %s", packet.namespace)
            return
        match packet.type:
            case SioType.CONNECT:
                self._on_connect_reply(link, channel, packet.data)
            case SioType.CONNECT_ERROR:
                channel.on_reply(True, packet.data)
            case SioType.DISCONNECT:
                log.info("the server disconnected %s", channel.name)
                channel.kicked = True
                if channel.link is link:
                    self._lifecycle(channel, "disconnect", "io server disconnect")
                channel.fail_all(NotConnected(f"the server disconnected {channel.name}"))
                if all(ch.kicked for ch in self._channels.values()):
                    link.mark_lost("io server disconnect")
            case SioType.ACK | SioType.BINARY_ACK:
                channel.resolve_ack(packet.id, list(packet.data))
            case SioType.EVENT | SioType.BINARY_EVENT:
                await self._on_event(link, channel, packet)

    async def _on_event(self, link: Link, channel: ChannelState, packet: SioPacket) -> None:
        name, args = packet.data[0], channel.take_offset(list(packet.data[1:]), packet.id)
        deliveries = unpack(name, args)
        if deliveries is None:
            log.warning("malformed %s frame in %s dropped", name, channel.name)
            deliveries = []
        elif len(deliveries) != 1 or deliveries[0].event != name:
            self._counts["batches"] += 1
        fresh = []
        for delivery in deliveries:
            if delivery.id is not None and not self._seen.first_time(delivery.id):
                self._counts["duplicates"] += 1
                log.debug("resent event %s (%s) acknowledged again", delivery.id, delivery.event)
                continue
            fresh.append(delivery)
        if not fresh:
            if packet.id is not None:
                await self._send_ack(link, channel, packet.id, [])
            return
        self._counts["events"] += len(fresh)
        for delivery in fresh:
            channel.offer(delivery)
        for index, delivery in enumerate(fresh):
            ack_id = packet.id if index == len(fresh) - 1 else None
            assert self._jobs is not None
            await self._jobs.send(partial(self._handle, link, channel, delivery, ack_id))

    # Handlers

    async def _dispatch(self, jobs: MemoryObjectReceiveStream[Job]) -> None:
        async with jobs:
            async for job in jobs:
                try:
                    await job()
                except Exception:
                    log.exception("the client's dispatcher caught an error")

    async def _handle(
        self, link: Link, channel: ChannelState, delivery: Delivery, ack_id: int | None
    ) -> None:
        event, args = delivery.event, delivery.args
        registered = channel.handlers.get(event)
        if registered is None and CATCH_ALL in channel.handlers:
            registered, args = channel.handlers[CATCH_ALL], (event, *args)
        result: Any = None
        if registered is not None:
            try:
                arguments = registered.arguments(event, args)
            except InvalidEvent as error:
                self._counts["handler_errors"] += 1
                message = str(error).replace("\n", " ")
                log.warning("%s refused invalid_event: %s", channel.name, message)
                result = {"error": "invalid_event", "message": message}
            else:
                try:
                    result = await call(registered.handler, *arguments)
                except Exception:
                    self._counts["handler_errors"] += 1
                    log.exception(
                        "handler %s of %r in %s failed",
                        describe(registered.handler),
                        event,
                        channel.name,
                    )
                    return  # no ack: the server sees the event as not handled
        if ack_id is not None:
            await self._send_ack(link, channel, ack_id, ack_args(result))

    def _lifecycle(self, channel: ChannelState, name: str, *args: Any) -> None:
        """Queues the ``name`` handlers (connect, disconnect, connect_error) in order,
        and hands the event to ``wait_for(name)`` at once."""
        channel.offer(Delivery(name, args))
        if not channel.lifecycle[name] or self._jobs is None:
            return
        try:
            self._jobs.send_nowait(partial(self._lifecycle_now, channel, name, *args))
        except (anyio.WouldBlock, anyio.ClosedResourceError, anyio.BrokenResourceError):
            log.warning("%s handlers of %s skipped: too many events queued", name, channel.name)

    async def _lifecycle_now(self, channel: ChannelState, name: str, *args: Any) -> None:
        for handler in list(channel.lifecycle[name]):
            try:
                await call(handler, *args)
            except Exception:
                self._counts["handler_errors"] += 1
                log.exception("%s handler %s of %s failed", name, describe(handler), channel.name)


def connect(url: str, **settings: Unpack[Settings]) -> Client:
    """``async with connect(url, **settings) as client:`` (the same as ``Client(...)``)."""
    return Client(url, **settings)
