"""Training lifecycle: what a training run tells its owner's dashboard.

One run, one ``run_id``: ``training_started``, then ``training_progress`` as often as the
loop likes (send it coalesced: only the latest matters), then one of
``training_completed``, ``training_stopped`` or ``training_error``. Every event carries
``ts``, the Unix time in seconds when it happened (by default: when it was made).
"""

from __future__ import annotations

import time
from typing import Any

import attrs

from hub.events import checks
from hub.events.base import event

_ts = checks.number(minimum=0)
_count = checks.whole(0)
_optional_count = checks.optional(checks.whole(0))
_seconds = checks.optional(checks.number(minimum=0))
_percent = checks.optional(checks.number(minimum=0, maximum=100))


def _percent_of(progress: Any) -> float | None:
    total = progress.total
    return round(100.0 * progress.step / total, 2) if total else None


@event("training_started")
@attrs.frozen(kw_only=True)
class TrainingStarted:
    """A run began.

    - ``run_id``: the run, the same in all its events.
    - ``name``: a human name for it (model, experiment), if any.
    - ``total_steps``: the steps it will take, when known (progress percentages use it).
    - ``epochs``: the epochs it will take, when known.
    - ``config``: hyperparameters and settings, plain JSON (``{"lr": 3e-4}``).
    """

    run_id: str = attrs.field(validator=checks.identifier)
    name: str | None = attrs.field(default=None, validator=checks.optional(checks.text))
    total_steps: int | None = attrs.field(default=None, validator=checks.optional(checks.whole(1)))
    epochs: int | None = attrs.field(default=None, validator=checks.optional(checks.whole(1)))
    config: dict[str, Any] = attrs.field(factory=dict, validator=checks.json_object)
    ts: float = attrs.field(factory=time.time, validator=_ts)


@event("training_progress")
@attrs.frozen(kw_only=True)
class TrainingProgress:
    """Where a run is.

    - ``step``: steps done so far; ``total``: steps in all, when known (``step <= total``).
    - ``percent``: 0-100; computed from ``step``/``total`` when not given.
    - ``epoch``: the current epoch (from 0), when the loop counts them.
    - ``metrics``: the latest values by name, finite numbers (``{"loss": 0.42}``).
    - ``eta_seconds``: the estimated time left, when the producer knows it.
    """

    run_id: str = attrs.field(validator=checks.identifier)
    step: int = attrs.field(validator=_count)
    total: int | None = attrs.field(default=None, validator=checks.optional(checks.whole(1)))
    percent: float | None = attrs.field(
        default=attrs.Factory(_percent_of, takes_self=True), validator=_percent
    )
    epoch: int | None = attrs.field(default=None, validator=_optional_count)
    metrics: dict[str, float] = attrs.field(factory=dict, validator=checks.metrics)
    eta_seconds: float | None = attrs.field(default=None, validator=_seconds)
    ts: float = attrs.field(factory=time.time, validator=_ts)

    @total.validator
    def _within_total(self, attribute: attrs.Attribute[int | None], total: int | None) -> None:
        # Here rather than after init: validators run in field order, and a step past
        # the total would otherwise be reported as the percent it yields.
        if total is not None and self.step > total:
            checks.fail(self, "step", f"step {self.step} is past total {total}")


@event("training_completed")
@attrs.frozen(kw_only=True)
class TrainingCompleted:
    """A run finished all its work.

    - ``steps``: the steps it took; ``metrics``: the final values (``{"loss": 0.1}``).
    - ``duration_seconds``: wall time from start to finish, when measured.
    - ``checkpoint``: where the result was saved (a path or URL), if anywhere.
    """

    run_id: str = attrs.field(validator=checks.identifier)
    steps: int = attrs.field(validator=_count)
    metrics: dict[str, float] = attrs.field(factory=dict, validator=checks.metrics)
    duration_seconds: float | None = attrs.field(default=None, validator=_seconds)
    checkpoint: str | None = attrs.field(default=None, validator=checks.optional(checks.text))
    ts: float = attrs.field(factory=time.time, validator=_ts)


@event("training_stopped")
@attrs.frozen(kw_only=True)
class TrainingStopped:
    """A run ended early on purpose (a user's stop, early stopping, a budget).

    - ``reason``: why, for people (``"early stopping: no improvement in 5 epochs"``).
    - ``step``: the step it stopped at, when known.
    """

    run_id: str = attrs.field(validator=checks.identifier)
    reason: str = attrs.field(validator=checks.text)
    step: int | None = attrs.field(default=None, validator=_optional_count)
    ts: float = attrs.field(factory=time.time, validator=_ts)


@event("training_error")
@attrs.frozen(kw_only=True)
class TrainingError:
    """A run failed.

    - ``message``: what went wrong, for people (``str(exception)``).
    - ``error_type``: the exception's class name (``"RuntimeError"``), if any.
    - ``step``: the step it failed at, when known.
    - ``traceback``: the formatted traceback, when the owner may see it.
    """

    run_id: str = attrs.field(validator=checks.identifier)
    message: str = attrs.field(validator=checks.text)
    error_type: str | None = attrs.field(default=None, validator=checks.optional(checks.text))
    step: int | None = attrs.field(default=None, validator=_optional_count)
    traceback: str | None = attrs.field(default=None, validator=checks.optional(checks.text))
    ts: float = attrs.field(factory=time.time, validator=_ts)
