"""Agent lifecycle: an agent run's steps, streamed to whoever watches it.

One run, one ``run_id``: ``agent_started``; then, step by step, ``agent_thinking`` and,
for each tool call, ``tool_executing`` then ``tool_completed`` (paired by ``call_id``);
then ``agent_completed`` or ``agent_error``. ``step`` numbers the agent's turns from 1.
Every event carries ``ts``, the Unix time in seconds when it happened.
"""

from __future__ import annotations

import time
from typing import Any

import attrs

from hub.events import checks
from hub.events.base import event

_ts = checks.number(minimum=0)
_step = checks.whole(1)
_optional_step = checks.optional(checks.whole(1))
_optional_text = checks.optional(checks.text)
_seconds = checks.optional(checks.number(minimum=0))


@event("agent_started")
@attrs.frozen(kw_only=True)
class AgentStarted:
    """An agent run began.

    - ``run_id``: the run, the same in all its events.
    - ``agent``: which agent (its name or kind).
    - ``task``: what it was asked to do (the prompt, or a summary of it), if shown.
    - ``model``: the model it runs on, if any.
    """

    run_id: str = attrs.field(validator=checks.identifier)
    agent: str = attrs.field(validator=checks.identifier)
    task: str | None = attrs.field(default=None, validator=_optional_text)
    model: str | None = attrs.field(default=None, validator=_optional_text)
    ts: float = attrs.field(factory=time.time, validator=_ts)


@event("agent_thinking")
@attrs.frozen(kw_only=True)
class AgentThinking:
    """The agent reasons before acting.

    - ``step``: its turn, from 1.
    - ``thought``: the reasoning shown to the user (may be a summary, may be empty).
    """

    run_id: str = attrs.field(validator=checks.identifier)
    step: int = attrs.field(validator=_step)
    thought: str = attrs.field(validator=checks.text)
    ts: float = attrs.field(factory=time.time, validator=_ts)


@event("tool_executing")
@attrs.frozen(kw_only=True)
class ToolExecuting:
    """The agent calls a tool.

    - ``call_id``: this call, repeated by its ``tool_completed``.
    - ``tool``: the tool's name; ``arguments``: what it was given, plain JSON.
    - ``step``: the agent's turn that made the call, when counted.
    """

    run_id: str = attrs.field(validator=checks.identifier)
    call_id: str = attrs.field(validator=checks.identifier)
    tool: str = attrs.field(validator=checks.identifier)
    arguments: dict[str, Any] = attrs.field(factory=dict, validator=checks.json_object)
    step: int | None = attrs.field(default=None, validator=_optional_step)
    ts: float = attrs.field(factory=time.time, validator=_ts)


@event("tool_completed")
@attrs.frozen(kw_only=True)
class ToolCompleted:
    """A tool call ended.

    - ``call_id``, ``tool``: as in its ``tool_executing``.
    - ``ok``: whether it succeeded; then ``result`` is what it returned (plain JSON),
      else ``error`` says what went wrong.
    - ``duration_seconds``: how long it ran, when measured.
    """

    run_id: str = attrs.field(validator=checks.identifier)
    call_id: str = attrs.field(validator=checks.identifier)
    tool: str = attrs.field(validator=checks.identifier)
    ok: bool = attrs.field(default=True, validator=checks.flag)
    result: Any = attrs.field(default=None, validator=checks.json_value)
    error: str | None = attrs.field(default=None, validator=_optional_text)
    duration_seconds: float | None = attrs.field(default=None, validator=_seconds)
    ts: float = attrs.field(factory=time.time, validator=_ts)

    def __attrs_post_init__(self) -> None:
        if not self.ok and self.error is None:
            checks.fail(self, "error", "a failed call (ok false) says why in error")


@event("agent_completed")
@attrs.frozen(kw_only=True)
class AgentCompleted:
    """An agent run finished.

    - ``output``: its final answer, if it has one to show.
    - ``steps``: the turns it took.
    - ``duration_seconds``: wall time from start to finish, when measured.
    """

    run_id: str = attrs.field(validator=checks.identifier)
    output: str | None = attrs.field(default=None, validator=_optional_text)
    steps: int = attrs.field(default=0, validator=checks.whole(0))
    duration_seconds: float | None = attrs.field(default=None, validator=_seconds)
    ts: float = attrs.field(factory=time.time, validator=_ts)


@event("agent_error")
@attrs.frozen(kw_only=True)
class AgentError:
    """An agent run failed.

    - ``message``: what went wrong, for people; ``error_type``: the exception's class name.
    - ``step``: the turn it failed in, when known.
    """

    run_id: str = attrs.field(validator=checks.identifier)
    message: str = attrs.field(validator=checks.text)
    error_type: str | None = attrs.field(default=None, validator=_optional_text)
    step: int | None = attrs.field(default=None, validator=_optional_step)
    ts: float = attrs.field(factory=time.time, validator=_ts)
