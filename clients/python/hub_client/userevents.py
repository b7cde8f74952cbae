"""Per-user emitter events on the wire (sans-IO): unpacking, and dropping resent ones.

A user emitter sends ``[event, data, {"id": "<boot>-<n>"}]`` (with a Socket.IO ack id
when it wants an ack, and again with the same id when that ack did not come in time),
or several events as one ``["hub:batch", [{"event", "data", "id"}, ...]]``. Anything
else is an ordinary event and passes through unchanged.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import attrs

BATCH_EVENT = "hub:batch"


@attrs.frozen
class Delivery:
    """One event for the handlers: its name, its arguments and its emitter id, if any."""

    event: str
    args: tuple[Any, ...]
    id: str | None = None


def _meta_id(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        event_id = value.get("id")
        if isinstance(event_id, str) and event_id:
            return event_id
    return None


def _batch_item(item: Any) -> Delivery | None:
    if not isinstance(item, dict):
        return None
    event, event_id = item.get("event"), item.get("id")
    if not isinstance(event, str) or not event:
        return None
    return Delivery(event, (item.get("data"),), event_id if isinstance(event_id, str) else None)


def unpack(event: str, args: list[Any]) -> list[Delivery] | None:
    """The events one Socket.IO event carries; ``None`` when it is a malformed batch."""
    if event == BATCH_EVENT:
        if len(args) != 1 or not isinstance(args[0], list):
            return None
        items = [_batch_item(item) for item in args[0]]
        if any(item is None for item in items):
            return None
        return [item for item in items if item is not None]
    if len(args) == 2:
        event_id = _meta_id(args[1])
        if event_id is not None:
            return [Delivery(event, (args[0],), event_id)]
    return [Delivery(event, tuple(args))]


class SeenIds:
    """The last ``capacity`` emitter ids received: ``first_time`` is False for a resend."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def first_time(self, event_id: str) -> bool:
        """Records ``event_id``; True unless it was recorded already (and still remembered)."""
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        if self.capacity > 0:
            self._ids[event_id] = None
            while len(self._ids) > self.capacity:
                self._ids.popitem(last=False)
        return True
