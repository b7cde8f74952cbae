"""Typed events: register attrs classes under wire names; (un)structure them strictly.

Theory: an event class is a frozen, keyword-only attrs class whose fields carry
validators (``hub.events.checks``), so an instance is valid from the moment it exists.
``@event("name")`` registers it under its wire name. ``to_wire`` turns an instance into
``(name, payload)``, a plain JSON object ready for any emit; ``from_wire`` structures an
incoming payload with the hub's strict cattrs converter (no unknown keys, no ``"1"``
for 1, no ``true`` for 1) and then runs the same validators, so both sides refuse the
same things, and every refusal is one ``InvalidEvent`` naming the fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Literal, Protocol, TypeGuard, TypeVar, cast, get_args, get_origin

import attrs
import cattrs

from hub.core.config import strict_converter
from hub.events.checks import event_name
from hub.events.errors import InvalidEvent
from hub.protocol.socketio import RESERVED_EVENTS


class TypedEvent(Protocol):
    """What a registered event class looks like to type checkers."""

    __event_name__: ClassVar[str]


T = TypeVar("T")

_classes: dict[str, type[Any]] = {}
# The registry by wire name, read-only to everyone but ``event``.
registry: Mapping[str, type[Any]] = MappingProxyType(_classes)


def event(name: str) -> Callable[[type[T]], type[T]]:
    """Register an attrs class as the typed event called ``name`` on the wire.

    Put it above ``@attrs.frozen(kw_only=True)``. A name is registered once: a second
    class under the same name raises ``ValueError`` (two meanings for one event would
    silently break one side).
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"an event name is a non-empty string, not {name!r}")
    if name in RESERVED_EVENTS:
        raise ValueError(f"{name!r} is reserved by Socket.IO clients")

    def register(cls: type[T]) -> type[T]:
        if not attrs.has(cast(Any, cls)):  # cast: has() would narrow cls for good
            raise TypeError(f"@event({name!r}) takes an attrs class, not {cls!r}")
        known = _classes.get(name)
        if known is not None and known is not cls:
            raise ValueError(f"event {name!r} is already {known.__module__}.{known.__qualname__}")
        if cls in _classes.values() and event_name(cls) != name:
            raise ValueError(f"{cls.__qualname__} is already registered as {event_name(cls)!r}")
        cls.__event_name__ = name  # type: ignore[attr-defined]
        _classes[name] = cls
        return cls

    return register


def is_typed(obj: object) -> TypeGuard[TypedEvent]:
    """True for an instance of a registered event class (not for the class itself)."""
    cls = type(obj)
    return _classes.get(getattr(cls, "__event_name__", "")) is cls


def name_of(cls: type[Any]) -> str:
    """The wire name of a registered event class; ``TypeError`` for any other class."""
    name = getattr(cls, "__event_name__", None)
    if not isinstance(name, str) or _classes.get(name) is not cls:
        raise TypeError(f"{cls!r} is not a registered typed event (decorate it with @event)")
    return name


def to_wire(obj: object) -> tuple[str, Any]:
    """``(name, payload)``: the event's wire name and its fields as a plain JSON object.

    The validators run again first: a dict field changed after construction is caught
    here, at the emit, rather than in a client. ``TypeError`` for an untyped object.
    """
    if not is_typed(obj):
        raise TypeError(f"not a typed event: {obj!r}")
    attrs.validate(obj)  # type: ignore[arg-type]
    return obj.__event_name__, _converter.unstructure(obj)


def from_wire(name: str, data: Any) -> Any:
    """The typed event ``name`` made from its wire payload ``data``.

    Raises ``InvalidEvent`` when the name is not registered or the payload is not an
    object of exactly the class's fields, each of the declared type and range.
    """
    cls = _classes.get(name)
    if cls is None:
        known = ", ".join(sorted(_classes))
        raise InvalidEvent(name, [f"no typed event is called {name!r}; known: {known}"])
    return structure(cls, data)


def structure(cls: type[T], data: Any) -> T:
    """``from_wire`` for a class known in advance (a typed handler's)."""
    name = name_of(cls)
    if not isinstance(data, dict):
        raise InvalidEvent(name, [f"expected an object, got {_short(data)} @ $"])
    try:
        return _converter.structure(data, cls)
    except cattrs.BaseValidationError as error:
        raise InvalidEvent(name, _problems(error, cls)) from None
    except InvalidEvent:
        raise
    except (TypeError, ValueError) as error:  # cattrs without detailed validation
        raise InvalidEvent(name, [f"{error} @ $"]) from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _problems(error: cattrs.BaseValidationError, cls: type[Any]) -> list[str]:
    # Every field structured, then a validator (run by __init__) refused a value: its
    # InvalidEvent already names the field, and is then the group's only member.
    own = [exc for exc in error.exceptions if isinstance(exc, InvalidEvent)]
    if own:
        return [problem for exc in own for problem in exc.problems]
    fields = ", ".join(field.name for field in attrs.fields(cls))

    def describe(exc: BaseException, kind: type | None) -> str:
        if isinstance(exc, cattrs.ForbiddenExtraKeysError):
            unknown = ", ".join(sorted(exc.extra_fields))
            return f"unknown field(s) {unknown}; {event_name(cls)} takes {fields}"
        if isinstance(exc, ValueError | TypeError) and str(exc):
            return str(exc)
        return cattrs.v.format_exception(exc, kind)

    return cattrs.transform_error(error, format_exception=describe)


def _is_literal(kind: Any) -> bool:
    return get_origin(kind) is Literal


def _literal(value: Any, kind: Any) -> Any:
    allowed = get_args(kind)
    # Type too: 1 == True, and a Literal of strings takes no number.
    if not any(value == option and type(value) is type(option) for option in allowed):
        raise ValueError(f"expected one of {', '.join(map(repr, allowed))}, got {_short(value)}")
    return value


def _make_converter() -> cattrs.Converter:
    converter = strict_converter()  # unknown keys, and numbers or strings of the wrong kind
    converter.register_structure_hook_func(_is_literal, _literal)
    return converter


_converter = _make_converter()
