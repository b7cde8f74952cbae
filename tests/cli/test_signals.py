"""Signals: the first SIGTERM/SIGINT drains, a second forces exit, SIGHUP reloads."""

from __future__ import annotations

import signal

import trio

from hub.cli.signals import obey_signals


async def test_first_stop_signal_drains_and_second_forces() -> None:
    """SIGTERM starts the drain and keeps listening; SIGINT next cancels everything: forced."""
    send, receive = trio.open_memory_channel[int](10)
    drains: list[str] = []

    async def drain() -> None:
        drains.append("started")
        await trio.sleep_forever()  # a drain that would outlast the patience of the user

    forced = None
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            send.send_nowait(signal.SIGTERM)
            send.send_nowait(signal.SIGINT)
            forced = await obey_signals(receive, nursery, drain, lambda: None)
    assert forced is True
    assert drains == ["started"]


async def test_drain_finishing_ends_the_loop_unforced() -> None:
    """When the drain completes and cancels the nursery, the loop ends without forcing."""
    send, receive = trio.open_memory_channel[int](10)
    forced = None
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:

            async def drain() -> None:
                await trio.sleep(0.01)
                nursery.cancel_scope.cancel()  # what the server task does once serve returns

            send.send_nowait(signal.SIGTERM)
            forced = await obey_signals(receive, nursery, drain, lambda: None)
    assert forced is None  # cancelled before returning: the caller keeps "not forced"


async def test_sighup_reloads_and_does_not_stop() -> None:
    """SIGHUP calls reload each time, and neither drains nor ends the loop."""
    send, receive = trio.open_memory_channel[int](10)
    reloads: list[int] = []
    drains: list[int] = []

    async def drain() -> None:
        drains.append(1)

    for _ in range(2):
        send.send_nowait(signal.SIGHUP)
    send.close()
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            forced = await obey_signals(receive, nursery, drain, lambda: reloads.append(1))
    assert (forced, reloads, drains) == (False, [1, 1], [])
