"""The JSON bodies the HTTP API takes, as typed values checked by cattrs.

``parse`` turns a decoded body into one of these or raises ``Invalid`` with a message
naming each bad field (``expected a string, got 5 @ $.event``); checks across fields
(``data`` or ``args``, ``room`` or ``rooms``) are made after the types are right.
"""

from __future__ import annotations

from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from hub.core.config import strict_converter
from hub.core.emitter import BATCH_EVENT
from hub.core.user_queue import PRIORITIES
from hub.protocol.socketio import RESERVED_EVENTS


class Invalid(Exception):
    """A body that decoded as JSON but is not what the route takes."""


class Absent:
    """The type of ``ABSENT``: a field the body did not have (``"data": null`` is None)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = Absent()


@attrs.frozen
class EventBody:
    """An event and its arguments: ``data`` is one argument, ``args`` a list of them."""

    event: str
    data: Any = ABSENT
    args: list[Any] | None = None

    def arguments(self) -> tuple[Any, ...]:
        if self.data is not ABSENT:
            return (self.data,)
        return tuple(self.args or ())

    def check(self) -> None:
        if not self.event:
            raise Invalid("event must be a non-empty string @ $.event")
        if self.event in RESERVED_EVENTS:
            raise ReservedEvent(
                f"{self.event!r} is reserved by Socket.IO clients; reserved names: "
                + ", ".join(sorted(RESERVED_EVENTS))
            )
        if self.data is not ABSENT and self.args is not None:
            raise Invalid('give "data" (one argument) or "args" (a list), not both')


class ReservedEvent(Invalid):
    """An event name the client libraries keep for themselves."""


@attrs.frozen
class PublishBody(EventBody):
    namespace: str = "/"
    room: str | None = None
    rooms: tuple[str, ...] | None = None
    except_: tuple[str, ...] | None = None  # "except" in JSON

    def check(self) -> None:
        super().check()
        if self.room is not None and self.rooms is not None:
            raise Invalid('give "room" or "rooms", not both')
        room = None if self.room is None else (self.room,)
        for field, names in (("room", room), ("rooms", self.rooms), ("except", self.except_)):
            if names is not None and not all(names):
                raise Invalid(f"room names must be non-empty strings @ $.{field}")
        if self.rooms == ():
            raise Invalid('"rooms" is empty; leave it out to reach the whole namespace')

    def target(self) -> str | tuple[str, ...] | None:
        return self.room if self.room is not None else self.rooms


@attrs.frozen
class UserEmitBody(EventBody):
    # None: every namespace the user is connected to.
    namespace: str | None = None
    # How the user's emitter sends it (``hub.user(id).emit``); None: its defaults.
    priority: str | None = None
    ack: bool | None = None
    batch: bool | None = None
    coalesce_key: str | None = None
    ttl: float | None = None

    def check(self) -> None:
        super().check()
        if self.event == BATCH_EVENT:
            raise ReservedEvent(f"{BATCH_EVENT!r} is the emitter's own batch event")
        if self.args is not None:
            raise Invalid('a user event carries one value: give "data", not "args"')
        if self.priority is not None and self.priority not in PRIORITIES:
            raise Invalid(f"expected one of {', '.join(PRIORITIES)} @ $.priority")
        if self.ttl is not None and not self.ttl > 0:
            raise Invalid("expected a positive number of seconds @ $.ttl")
        if self.ack and self.batch:
            raise Invalid(
                'an acknowledged event is sent alone: "ack" and "batch" exclude each other'
            )


@attrs.frozen
class DisconnectBody:
    """``POST /api/users/{id}/disconnect``: optional; ``namespace`` limits it to one."""

    namespace: str | None = None

    def check(self) -> None:
        pass


def _any(value: Any, kind: Any) -> Any:
    return value


def _list(value: Any, kind: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {value!r}")
    return value


def _describe(exc: BaseException, kind: type | None) -> str:
    if isinstance(exc, ValueError | TypeError) and str(exc):
        return str(exc)
    return cattrs.v.format_exception(exc, kind)


def _converter() -> cattrs.Converter:
    converter = strict_converter()
    converter.register_structure_hook(Any, _any)
    converter.register_structure_hook_func(lambda kind: kind == list[Any], _list)
    converter.register_structure_hook(
        PublishBody,
        make_dict_structure_fn(
            PublishBody,
            converter,
            _cattrs_forbid_extra_keys=True,
            except_=override(rename="except"),
        ),
    )
    return converter


_CONVERTER = _converter()
B = TypeVar("B", bound=EventBody | DisconnectBody)


def parse(body: dict[str, Any], kind: type[B]) -> B:
    """``body`` as a ``kind``, checked; raises ``Invalid`` (``ReservedEvent``) if it is not."""
    try:
        parsed = _CONVERTER.structure(body, kind)
    except cattrs.BaseValidationError as error:
        problems = cattrs.transform_error(error, format_exception=_describe)
        raise Invalid("; ".join(problems)) from None
    parsed.check()
    return parsed
