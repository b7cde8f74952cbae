"""``wait_for``: an awaitable registered when it is made, so an event that arrives between
the call and the ``await`` (after a request that triggers it, say) is not missed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import anyio

from hub.events import InvalidEvent, structure
from hub_client.codec import ack_value
from hub_client.errors import WaitTimeout
from hub_client.userevents import Delivery

if TYPE_CHECKING:
    from hub_client.channel import ChannelState

log = logging.getLogger("hub_client")

Predicate = Callable[[Any], object]


class Waiter:
    """Resolves to the first matching event's value: its one argument, ``None`` for none,
    a tuple for several; the structured object for a typed event class."""

    def __init__(
        self,
        channel: ChannelState,
        event: str,
        typed: type[Any] | None,
        predicate: Predicate | None,
        timeout: float | None,
    ) -> None:
        self._channel = channel
        self.event = event
        self._typed = typed
        self._predicate = predicate
        self._timeout = timeout
        self._done = anyio.Event()
        self._value: Any = None
        self._error: BaseException | None = None
        channel.waiters.append(self)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def offer(self, delivery: Delivery) -> bool:
        """Takes ``delivery`` if it matches; True once this waiter is finished."""
        if self._done.is_set():
            return True
        if delivery.event != self.event:
            return False
        value = ack_value(delivery.args)
        if self._typed is not None:
            try:
                if len(delivery.args) != 1:
                    return False
                value = structure(self._typed, delivery.args[0])
            except InvalidEvent as error:
                log.warning("wait_for(%s) skipped an invalid event: %s", self.event, error)
                return False
        if self._predicate is not None:
            try:
                matched = self._predicate(value)
            except Exception as error:
                self.fail(error)
                return True
            if not matched:
                return False
        self._value = value
        self._done.set()
        return True

    def fail(self, error: BaseException) -> None:
        if not self._done.is_set():
            self._error = error
            self._done.set()

    def cancel(self) -> None:
        """Stops waiting (a waiter that will never be awaited)."""
        if self in self._channel.waiters:
            self._channel.waiters.remove(self)

    async def wait(self) -> Any:
        try:
            with anyio.fail_after(self._timeout):
                await self._done.wait()
        except TimeoutError:
            raise WaitTimeout(
                f"no {self.event!r} event in {self._channel.name} within {self._timeout:g} s"
            ) from None
        finally:
            self.cancel()
        if self._error is not None:
            raise self._error
        return self._value

    def __await__(self) -> Generator[Any, None, Any]:
        return self.wait().__await__()
