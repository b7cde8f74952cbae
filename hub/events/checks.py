"""Validators for typed event fields: an event is valid from the moment it exists.

attrs runs them at construction, so a bad value is refused where the producer made the
event (at its emit), not in a dashboard. They check types too (attrs alone does not),
because producers build events from loose data (metrics from numpy, ids from configs).
Each failure is an ``InvalidEvent`` naming the event and the field: ``expected a whole
number >= 0, got -1 @ $.step``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from typing import Any, NoReturn

import attrs

from hub.events.errors import InvalidEvent

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

# Deeper JSON is refused: payloads are events for dashboards, not documents.
MAX_DEPTH = 32
# The hub's JSON encoder (orjson) writes 64-bit integers, no bigger.
MIN_INT, MAX_INT = -(2**63), 2**64 - 1


def event_name(cls: type) -> str:
    """The wire name of an event class, or its Python name before it is registered."""
    name = getattr(cls, "__event_name__", None)
    return name if isinstance(name, str) else cls.__name__


def fail(instance: Any, field: str, problem: str) -> NoReturn:
    raise InvalidEvent(event_name(type(instance)), [f"{problem} @ $.{field}"])


def _number_ok(value: Any) -> bool:
    # bool is an int to Python, never a number to a dashboard.
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return MIN_INT <= value <= MAX_INT
    return isinstance(value, float) and math.isfinite(value)


def identifier(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A non-empty string: run, call, task and session ids, tool and agent names."""
    if not isinstance(value, str) or not value:
        fail(instance, attribute.name, f"expected a non-empty string, got {value!r}")


def text(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Any string, empty included (a thought may be empty, a message may not matter)."""
    if not isinstance(value, str):
        fail(instance, attribute.name, f"expected a string, got {value!r}")


def flag(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        fail(instance, attribute.name, f"expected true or false, got {value!r}")


def whole(minimum: int = 0) -> Validator:
    """An int (not a bool) of at least ``minimum``."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_INT:
            fail(instance, attribute.name, f"expected a whole number >= {minimum}, got {value!r}")

    return check


def number(minimum: float | None = None, maximum: float | None = None) -> Validator:
    """A finite int or float within the bounds (JSON has no NaN or infinity)."""
    if minimum is not None and maximum is not None:
        wanted = f"a finite number from {minimum:g} to {maximum:g}"
    elif minimum is not None:
        wanted = f"a finite number >= {minimum:g}"
    else:
        wanted = "a finite number"

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if (
            not _number_ok(value)
            or (minimum is not None and value < minimum)
            or (maximum is not None and value > maximum)
        ):
            fail(instance, attribute.name, f"expected {wanted}, got {value!r}")

    return check


def choice(values: Collection[str]) -> Validator:
    listed = ", ".join(map(repr, values))

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in values:
            fail(instance, attribute.name, f"expected one of {listed}, got {value!r}")

    return check


def optional(validator: Validator) -> Validator:
    """``validator``, or None (the field was not given)."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            validator(instance, attribute, value)

    return check


def metrics(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A dict of metric name to finite number: ``{"loss": 0.42, "lr": 3e-4}``."""
    if not isinstance(value, dict):
        fail(instance, attribute.name, f"expected an object of numbers, got {value!r}")
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            fail(instance, attribute.name, f"metric names are non-empty strings, got {key!r}")
        if not _number_ok(item):
            # A diverged loss is news for a training_error event, not a progress value.
            fail(instance, f"{attribute.name}[{key!r}]", f"expected a finite number, got {item!r}")


def _json_problem(value: Any, depth: int) -> str | None:
    """Why ``value`` is not plain JSON (str keys, finite numbers), or None if it is."""
    if value is None or isinstance(value, str | bool):
        return None
    if isinstance(value, int):
        return None if MIN_INT <= value <= MAX_INT else f"{value} is past 64 bits"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"JSON has no {value!r}"
    if depth >= MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, list | tuple):
        for item in value:
            problem = _json_problem(item, depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"object keys are strings, got {key!r}"
            problem = _json_problem(item, depth + 1)
            if problem:
                return problem
        return None
    return f"not JSON: a {type(value).__name__}"


def json_value(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Plain JSON: what any client can decode (no bytes, dates or objects)."""
    problem = _json_problem(value, 0)
    if problem:
        fail(instance, attribute.name, f"expected plain JSON, {problem}")


def json_object(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A plain JSON object: tool arguments, hyperparameters, extra log fields."""
    if not isinstance(value, dict):
        fail(instance, attribute.name, f"expected an object, got {value!r}")
    json_value(instance, attribute, value)
