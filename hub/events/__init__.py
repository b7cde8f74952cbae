"""Typed events: declare an event once, get validation and (un)structuring on both sides.

    from hub.events import TrainingProgress, to_wire, from_wire

    progress = TrainingProgress(run_id="r7", step=30, total=100, metrics={"loss": 0.4})
    name, payload = to_wire(progress)        # ("training_progress", {"run_id": "r7", ...})
    await session.emit(*to_wire(progress))   # any emit takes the pair
    assert from_wire(name, payload) == progress

    @namespace.on(TrainingProgress)         # the handler gets the structured object
    async def progress(session, event: TrainingProgress) -> None: ...

Declare your own with ``@event("name")`` above ``@attrs.frozen(kw_only=True)``, with
validators from ``hub.events.checks`` on the fields. A bad value raises ``InvalidEvent``
at construction; a bad incoming payload raises it from ``from_wire`` (or, in a typed
handler, is refused with an ``invalid_event`` error ack).
"""

from hub.events.agent import AgentCompleted as AgentCompleted
from hub.events.agent import AgentError as AgentError
from hub.events.agent import AgentStarted as AgentStarted
from hub.events.agent import AgentThinking as AgentThinking
from hub.events.agent import ToolCompleted as ToolCompleted
from hub.events.agent import ToolExecuting as ToolExecuting
from hub.events.base import TypedEvent as TypedEvent
from hub.events.base import event as event
from hub.events.base import from_wire as from_wire
from hub.events.base import is_typed as is_typed
from hub.events.base import name_of as name_of
from hub.events.base import registry as registry
from hub.events.base import structure as structure
from hub.events.base import to_wire as to_wire
from hub.events.errors import InvalidEvent as InvalidEvent
from hub.events.hooks import ToolStart as ToolStart
from hub.events.hooks import ToolStop as ToolStop
from hub.events.status import Log as Log
from hub.events.status import LogLevel as LogLevel
from hub.events.status import TaskState as TaskState
from hub.events.status import TaskStatus as TaskStatus
from hub.events.training import TrainingCompleted as TrainingCompleted
from hub.events.training import TrainingError as TrainingError
from hub.events.training import TrainingProgress as TrainingProgress
from hub.events.training import TrainingStarted as TrainingStarted
from hub.events.training import TrainingStopped as TrainingStopped

__all__ = [
    "AgentCompleted",
    "AgentError",
    "AgentStarted",
    "AgentThinking",
    "InvalidEvent",
    "Log",
    "LogLevel",
    "TaskState",
    "TaskStatus",
    "ToolCompleted",
    "ToolExecuting",
    "ToolStart",
    "ToolStop",
    "TrainingCompleted",
    "TrainingError",
    "TrainingProgress",
    "TrainingStarted",
    "TrainingStopped",
    "TypedEvent",
    "event",
    "from_wire",
    "is_typed",
    "name_of",
    "registry",
    "structure",
    "to_wire",
]
