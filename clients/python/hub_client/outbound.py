"""The sending side: emits wait in their namespace's outbox (the offline queue while
disconnected); one sender per namespace and link drains it in order."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio

from hub_client.channel import ChannelState, Outgoing
from hub_client.codec import ack_packet, disconnect_packet, event_packet
from hub_client.engine import Link
from hub_client.errors import NotConnected, OfflineQueueFull
from hub_client.transports import TransportClosed

if TYPE_CHECKING:
    from hub_client.client import Client

log = logging.getLogger("hub_client")

OUTBOX = 256  # while connected, emit waits while this many events are queued
CLOSE_FLUSH = 5.0  # how long a clean close waits for queued events to leave


async def enqueue(client: Client, channel: ChannelState, item: Outgoing) -> None:
    """Queues ``item`` in the namespace's outbox, waiting for room while connected."""
    while True:
        if client.failure is not None:
            raise client.failure
        if client.state == "new":
            raise NotConnected("the client is not connected yet (use `async with`)")
        if channel.kicked:
            raise NotConnected(f"the server disconnected {channel.name}")
        if not channel.connected:
            limit = client.options.offline_queue
            if limit == 0:
                raise NotConnected(f"{channel.name} is disconnected (offline_queue is 0)")
            if len(channel.outbox) >= limit:
                raise OfflineQueueFull(
                    f"{channel.name} is disconnected and {len(channel.outbox)} events wait"
                )
            break
        if len(channel.outbox) < OUTBOX:
            break
        await channel.room().wait()
    channel.outbox.append(item)
    channel.wake()


async def send_loop(link: Link, channel: ChannelState) -> None:
    """The sender of ``channel`` on ``link``: a failure of its own loses the link."""
    try:
        await drain(link, channel)
    except Exception:
        log.exception("the client's sender for %s failed", channel.name)
        link.mark_lost("client error")


async def drain(link: Link, channel: ChannelState) -> None:
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


async def send_ack(link: Link, channel: ChannelState, ack_id: int, args: list[Any]) -> None:
    if not link.alive:
        return  # the ack belonged to that connection; the server resends what it needs
    try:
        await link.send(ack_packet(channel.name, ack_id, args))
    except TransportClosed:
        pass
    except (TypeError, ValueError) as exc:
        log.error("the ack of %s cannot be encoded: %s", channel.name, exc)


async def goodbye(link: Link | None, channels: list[ChannelState], flush: bool) -> None:
    """Flushes the outboxes (bounded), then disconnects each namespace."""
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
