"""The one error typed events raise."""

from __future__ import annotations

from collections.abc import Iterable

from hub.errors import HubError


class InvalidEvent(HubError, ValueError):
    """A typed event's payload or field values are not what its class declares.

    ``event`` is the wire name; ``problems`` has one line per bad field, each naming it
    the way the HTTP API and the settings do: ``expected a finite number, got 'x' @
    $.loss``. A ValueError too, so code that guards conversions with ``except
    ValueError`` keeps working.
    """

    def __init__(self, event: str, problems: Iterable[str]) -> None:
        self.event = event
        self.problems = tuple(problems)
        super().__init__(f"invalid {event} event: {'; '.join(self.problems)}")
