"""Hook tool events: tool calls seen by hooks around a tool runner (an IDE agent, a CLI).

Unlike ``tool_executing``/``tool_completed``, which an agent emits about its own run,
these come from hooks that only see one call at a time (a pre-tool and a post-tool
hook): ``tool_start`` before the call, ``tool_stop`` after it, paired by ``call_id`` when
the runner gives one. Every event carries ``ts``, the Unix time in seconds.
"""

from __future__ import annotations

import time
from typing import Any

import attrs

from hub.events import checks
from hub.events.base import event

_ts = checks.number(minimum=0)
_optional_id = checks.optional(checks.identifier)


@event("tool_start")
@attrs.frozen(kw_only=True)
class ToolStart:
    """A tool call is about to run.

    - ``session_id``: the runner's session (conversation, terminal) the call belongs to.
    - ``tool``: the tool's name; ``input``: its arguments, plain JSON.
    - ``call_id``: the call, repeated by its ``tool_stop``, when the runner gives one.
    """

    session_id: str = attrs.field(validator=checks.identifier)
    tool: str = attrs.field(validator=checks.identifier)
    call_id: str | None = attrs.field(default=None, validator=_optional_id)
    input: dict[str, Any] = attrs.field(factory=dict, validator=checks.json_object)
    ts: float = attrs.field(factory=time.time, validator=_ts)


@event("tool_stop")
@attrs.frozen(kw_only=True)
class ToolStop:
    """A tool call ended.

    - ``session_id``, ``tool``, ``call_id``: as in its ``tool_start``.
    - ``ok``: whether it succeeded; ``output``: what it returned (plain JSON, may be
      trimmed by the hook); ``error``: what went wrong when it did not.
    - ``duration_seconds``: how long it ran, when the hook measured it.
    """

    session_id: str = attrs.field(validator=checks.identifier)
    tool: str = attrs.field(validator=checks.identifier)
    call_id: str | None = attrs.field(default=None, validator=_optional_id)
    ok: bool = attrs.field(default=True, validator=checks.flag)
    output: Any = attrs.field(default=None, validator=checks.json_value)
    error: str | None = attrs.field(default=None, validator=checks.optional(checks.text))
    duration_seconds: float | None = attrs.field(
        default=None, validator=checks.optional(checks.number(minimum=0))
    )
    ts: float = attrs.field(factory=time.time, validator=_ts)
