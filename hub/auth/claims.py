"""What a verified token says about its holder."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class Claims:
    """A verified token: the user it names, their roles, the room patterns it grants and
    when it expires (seconds since the epoch; None: never). ``raw`` has every claim."""

    user_id: str
    roles: frozenset[str] = frozenset()
    rooms: tuple[str, ...] = ()
    expires_at: float | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
