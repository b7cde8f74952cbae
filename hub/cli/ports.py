"""Port settings: one port, ``0`` for an ephemeral one, or a range tried in order."""

from __future__ import annotations

from typing import Any

import attrs

EXPECTED = "a port 0-65535 or a range FIRST-LAST of ports 1-65535, e.g. 8765-8775"


@attrs.frozen
class Ports:
    """The ports to try, ``first`` to ``last`` inclusive (one port when they are equal)."""

    first: int
    last: int

    @property
    def candidates(self) -> int | list[int]:
        """What ``Hub.serve`` takes: one port, or the range in order."""
        if self.first == self.last:
            return self.first
        return list(range(self.first, self.last + 1))

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


def parse_ports(value: Any) -> Ports:
    """``8765``, ``"8765"``, ``0`` or ``"8765-8775"``; ``ValueError`` saying what is expected."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"expected {EXPECTED}, got {value!r}")
    text = str(value).strip()
    first_text, dash, last_text = text.partition("-")
    try:
        first = int(first_text)
        last = int(last_text) if dash else first
    except ValueError:
        raise ValueError(f"expected {EXPECTED}, got {value!r}") from None
    if dash and not 1 <= first <= last <= 65535:
        raise ValueError(f"expected {EXPECTED}, got {value!r}")
    if not 0 <= first <= 65535:
        raise ValueError(f"expected {EXPECTED}, got {value!r}")
    return Ports(first, last)
