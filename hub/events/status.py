"""Task status and log lines: the general-purpose events of any background work.

Every event carries ``ts``, the Unix time in seconds when it happened.
"""

from __future__ import annotations

import time
from typing import Any, Literal, get_args

import attrs

from hub.events import checks
from hub.events.base import event

TaskState = Literal["pending", "running", "succeeded", "failed", "cancelled"]
LogLevel = Literal["debug", "info", "warning", "error", "critical"]

_ts = checks.number(minimum=0)
_optional_text = checks.optional(checks.text)


@event("task_status")
@attrs.frozen(kw_only=True)
class TaskStatus:
    """A task's state changed, or its progress moved.

    - ``task_id``: the task, the same in all its events.
    - ``state``: ``pending``, ``running``, ``succeeded``, ``failed`` or ``cancelled``
      (the last three are final).
    - ``percent``: 0-100, when the task can tell.
    - ``message``: a line for people (``"3 of 7 files"``, the failure's reason).
    - ``name``: a human name for the task, if any.
    """

    task_id: str = attrs.field(validator=checks.identifier)
    state: TaskState = attrs.field(validator=checks.choice(get_args(TaskState)))
    percent: float | None = attrs.field(
        default=None, validator=checks.optional(checks.number(minimum=0, maximum=100))
    )
    message: str | None = attrs.field(default=None, validator=_optional_text)
    name: str | None = attrs.field(default=None, validator=_optional_text)
    ts: float = attrs.field(factory=time.time, validator=_ts)


@event("log")
@attrs.frozen(kw_only=True)
class Log:
    """A log line for a dashboard's console.

    - ``message``: the line.
    - ``level``: ``debug``, ``info`` (the default), ``warning``, ``error`` or ``critical``.
    - ``source``: who logged it (a logger's name, a service), if known.
    - ``run_id``/``task_id``: the training or agent run, or the task, it belongs to.
    - ``fields``: structured context, plain JSON (``{"attempt": 2}``).
    """

    message: str = attrs.field(validator=checks.text)
    level: LogLevel = attrs.field(default="info", validator=checks.choice(get_args(LogLevel)))
    source: str | None = attrs.field(default=None, validator=_optional_text)
    run_id: str | None = attrs.field(default=None, validator=checks.optional(checks.identifier))
    task_id: str | None = attrs.field(default=None, validator=checks.optional(checks.identifier))
    fields: dict[str, Any] = attrs.field(factory=dict, validator=checks.json_object)
    ts: float = attrs.field(factory=time.time, validator=_ts)
