"""The supervisor: opens a link, connects every namespace, waits until the link is lost,
then sleeps the backoff delay and starts again (until closed, or out of attempts).

Per link it runs the reader and one sender per namespace; the link's end is the end of
those tasks.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup, TaskStatus

from hub_client.backoff import Backoff
from hub_client.channel import ChannelState
from hub_client.codec import connect_packet, refusal
from hub_client.engine import Link, open_link
from hub_client.errors import (
    ConnectError,
    ConnectionLost,
    ConnectRefused,
    NotConnected,
    ReconnectFailed,
)
from hub_client.inbound import Dispatcher, Reader
from hub_client.outbound import send_loop
from hub_client.transports import TransportClosed
from hub_client.userevents import SeenIds

if TYPE_CHECKING:
    from hub_client.client import Client

log = logging.getLogger("hub_client")


class Supervisor:
    """Keeps ``client`` connected; it sets the client's ``_state`` and ``_link``."""

    def __init__(self, client: Client, dispatcher: Dispatcher) -> None:
        self._client = client
        self._channels = client._channels
        self._options = client.options
        self._dispatcher = dispatcher
        self._backoff = Backoff(
            self._options.reconnect_delay,
            self._options.reconnect_delay_max,
            jitter=self._options.reconnect_jitter,
        )
        # Resends are recognised across links, so the reader (and its memory) is one.
        self._reader = Reader(
            self._channels,
            dispatcher,
            client._counts,
            SeenIds(self._options.dedupe_ids),
            self._on_connect_reply,
        )

    async def run(self, *, task_status: TaskStatus[BaseException | None]) -> None:
        """Reports ``None`` once first connected, or what kept it from connecting."""
        client = self._client
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
                limit = self._options.reconnect_attempts
                if not self._options.reconnect or (limit is not None and attempt >= limit):
                    failure = ReconnectFailed(
                        f"gave up reconnecting after {attempt} attempts"
                        if self._options.reconnect
                        else f"the connection was lost and reconnect is off ({outcome})"
                    )
                    failure.__cause__ = last
                    client._stop(failure)
                    return
                attempt += 1
                delay = self._backoff.delay(attempt)
                client.reconnect_delays.append(delay)
                log.info("reconnect attempt %d in %.2f s", attempt, delay)
                await anyio.sleep(delay)
            outcome = await self._connection(ready)
            if client._closing:
                return
            if not started:
                assert isinstance(outcome, BaseException)
                task_status.started(outcome)
                return
            if isinstance(outcome, ConnectRefused):
                failure = ReconnectFailed(f"reconnecting was refused: {outcome}")
                failure.__cause__ = outcome
                client._stop(failure)
                return
            if isinstance(outcome, BaseException):
                last = outcome
                log.info("reconnect attempt %d failed: %s", attempt, outcome)
                for channel in self._channels.values():
                    self._dispatcher.lifecycle(channel, "connect_error", outcome)
                continue
            attempt, last = 0, None
            if all(ch.kicked for ch in self._channels.values()):
                client._stop(NotConnected("the server disconnected every namespace"))
                return
            client._state = "reconnecting"

    async def _connection(self, ready: Callable[[], None]) -> str | BaseException:
        """One link from opening to loss. Returns the reason it was lost once connected,
        or the exception that kept it from connecting."""
        try:
            auth = await self._auth()
            link = await open_link(self._client._endpoint, self._options)
        except ConnectError as exc:
            return exc
        problem: BaseException | None = None
        connected = False
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._reader.read, link)
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
                if self._client._closing:
                    await link.close()
                else:
                    await link.abort()
        if connected:
            return link.reason or "transport close"
        return problem or ConnectError(f"the connection was lost while connecting ({link.reason})")

    async def _auth(self) -> Mapping[str, Any] | None:
        source = self._options.auth
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
        with anyio.move_on_after(self._options.connect_timeout) as scope:
            for reply in replies:
                await reply.wait()
        if scope.cancelled_caught:
            limit = self._options.connect_timeout
            return ConnectError(f"no namespace CONNECT reply within {limit:g} s")
        for channel in channels:
            assert channel.reply is not None
            refused, data = channel.reply
            if refused:
                message, detail = refusal(data)
                return ConnectRefused(channel.name, message, detail)
        for channel in channels:
            tasks.start_soon(send_loop, link, channel)
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
        counts = self._client._counts
        if channel.recovered:
            counts["recoveries"] += 1
        log.info(
            "connected %s sid=%s over %s%s",
            channel.name,
            channel.sid,
            link.transport.name,
            " (recovered)" if channel.recovered else "",
        )
        self._dispatcher.lifecycle(channel, "connect")
        if all(ch.link is link for ch in self._channels.values() if not ch.kicked):
            self._client._link = link
            self._client._state = "connected"
            counts["connects"] += 1

    def _link_gone(self, link: Link) -> None:
        client = self._client
        if client._link is link:
            client._link = None
            if not client._closing and client._failure is None:
                client._state = "reconnecting"
        lost = ConnectionLost(f"the connection was lost ({link.reason or 'closed'})")
        for channel in self._channels.values():
            gone = channel.link is link or channel.link is None
            if gone and channel.on_link_gone(lost) and not client._closing:
                self._dispatcher.lifecycle(channel, "disconnect", link.reason)
