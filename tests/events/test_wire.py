"""Typed events on their own: round trips, validation naming the field, the registry."""

from __future__ import annotations

import math
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.errors import HubError
from hub.events import (
    AgentCompleted,
    AgentError,
    AgentStarted,
    AgentThinking,
    InvalidEvent,
    Log,
    TaskStatus,
    ToolCompleted,
    ToolExecuting,
    ToolStart,
    ToolStop,
    TrainingCompleted,
    TrainingError,
    TrainingProgress,
    TrainingStarted,
    TrainingStopped,
    checks,
    event,
    from_wire,
    is_typed,
    name_of,
    registry,
    to_wire,
)

TS = 1_790_000_000.5

# One instance of every built-in event, its optional fields filled in where it has any.
SAMPLES: dict[str, Any] = {
    "training_started": TrainingStarted(
        run_id="r1", name="resnet", total_steps=100, epochs=2, config={"lr": 3e-4}, ts=TS
    ),
    "training_progress": TrainingProgress(
        run_id="r1", step=30, total=100, epoch=0, metrics={"loss": 0.42}, eta_seconds=7.5, ts=TS
    ),
    "training_completed": TrainingCompleted(
        run_id="r1", steps=100, metrics={"loss": 0.1}, duration_seconds=12.0, checkpoint="/c"
    ),
    "training_stopped": TrainingStopped(run_id="r1", reason="early stopping", step=40),
    "training_error": TrainingError(
        run_id="r1", message="CUDA OOM", error_type="RuntimeError", step=3, traceback="..."
    ),
    "agent_started": AgentStarted(run_id="a1", agent="researcher", task="find x", model="m"),
    "agent_thinking": AgentThinking(run_id="a1", step=1, thought="search first"),
    "tool_executing": ToolExecuting(
        run_id="a1", call_id="c1", tool="search", arguments={"q": "trio", "n": [1, 2]}, step=1
    ),
    "tool_completed": ToolCompleted(
        run_id="a1", call_id="c1", tool="search", result={"hits": ["a"]}, duration_seconds=0.2
    ),
    "agent_completed": AgentCompleted(run_id="a1", output="x is 42", steps=2, duration_seconds=3),
    "agent_error": AgentError(run_id="a1", message="tool loop", error_type="Loop", step=9),
    "tool_start": ToolStart(session_id="s1", tool="Bash", call_id="t1", input={"cmd": "ls"}),
    "tool_stop": ToolStop(
        session_id="s1", tool="Bash", call_id="t1", ok=False, output=None, error="exit 1"
    ),
    "task_status": TaskStatus(task_id="t7", state="running", percent=42.5, message="3 of 7"),
    "log": Log(message="hello", level="warning", source="trainer", run_id="r1", fields={"a": 1}),
}

MINIMAL: dict[str, dict[str, Any]] = {
    "training_started": {"run_id": "r"},
    "training_progress": {"run_id": "r", "step": 0},
    "training_completed": {"run_id": "r", "steps": 0},
    "training_stopped": {"run_id": "r", "reason": ""},
    "training_error": {"run_id": "r", "message": "boom"},
    "agent_started": {"run_id": "a", "agent": "x"},
    "agent_thinking": {"run_id": "a", "step": 1, "thought": ""},
    "tool_executing": {"run_id": "a", "call_id": "c", "tool": "t"},
    "tool_completed": {"run_id": "a", "call_id": "c", "tool": "t"},
    "agent_completed": {"run_id": "a"},
    "agent_error": {"run_id": "a", "message": "m"},
    "tool_start": {"session_id": "s", "tool": "t"},
    "tool_stop": {"session_id": "s", "tool": "t"},
    "task_status": {"task_id": "t", "state": "pending"},
    "log": {"message": "m"},
}

BUILT_IN = set(SAMPLES)


def test_every_family_is_registered() -> None:
    assert set(registry) >= BUILT_IN
    for name in BUILT_IN:
        assert name_of(registry[name]) == name


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_round_trip_through_json(name: str) -> None:
    """to_wire, JSON on the wire, from_wire: the same event, under its own name."""
    sample = SAMPLES[name]
    assert is_typed(sample)
    wire_name, payload = to_wire(sample)
    assert wire_name == name
    assert set(payload) == {field.name for field in attrs.fields(type(sample))}
    decoded = orjson.loads(orjson.dumps(payload))
    assert decoded == payload  # plain JSON already: nothing changes in the encoder
    assert from_wire(name, decoded) == sample


@pytest.mark.parametrize("name", sorted(MINIMAL))
def test_minimal_payloads_take_defaults(name: str) -> None:
    """Only the required fields: optional ones default, ts is when it was made."""
    made = from_wire(name, MINIMAL[name])
    assert type(made) is registry[name]
    assert made.ts > 1_700_000_000
    assert from_wire(*to_wire(made)) == made


@pytest.mark.parametrize("name", sorted(MINIMAL))
def test_unknown_keys_are_refused(name: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        from_wire(name, MINIMAL[name] | {"surprise": 1})
    assert "unknown field(s) surprise" in str(caught.value)
    assert caught.value.event == name


@pytest.mark.parametrize("name", sorted(MINIMAL))
def test_missing_required_fields_are_named(name: str) -> None:
    for field in MINIMAL[name]:
        payload = {key: value for key, value in MINIMAL[name].items() if key != field}
        with pytest.raises(InvalidEvent, match=rf"required field missing @ \$\.{field}$"):
            from_wire(name, payload)


@pytest.mark.parametrize(
    ("name", "payload", "problem"),
    [
        # Strict types: no strings for numbers, no booleans for numbers, no numbers for text.
        ("training_progress", {"run_id": "r", "step": "3"}, "expected a number, got '3' @ $.step"),
        ("training_progress", {"run_id": "r", "step": True}, "got True @ $.step"),
        ("training_progress", {"run_id": 7, "step": 1}, "expected a string, got 7 @ $.run_id"),
        # Ranges and relations, checked by the validators on both sides.
        ("training_progress", {"run_id": "r", "step": -1}, ">= 0, got -1 @ $.step"),
        ("training_progress", {"run_id": "", "step": 1}, "non-empty string, got '' @ $.run_id"),
        ("training_progress", {"run_id": "r", "step": 11, "total": 10}, "past total 10 @ $.step"),
        ("training_progress", {"run_id": "r", "step": 1, "percent": 101}, "got 101.0 @ $.percent"),
        ("training_progress", {"run_id": "r", "step": 1, "metrics": {"loss": "x"}}, "$.metrics"),
        ("training_progress", {"run_id": "r", "step": 1, "metrics": [1]}, "@ $.metrics"),
        ("training_started", {"run_id": "r", "total_steps": 0}, ">= 1, got 0 @ $.total_steps"),
        ("training_started", {"run_id": "r", "config": []}, "@ $.config"),
        ("agent_thinking", {"run_id": "a", "step": 0, "thought": ""}, ">= 1, got 0 @ $.step"),
        ("tool_completed", {"run_id": "a", "call_id": "c", "tool": "t", "ok": False}, "$.error"),
        ("tool_completed", {"run_id": "a", "call_id": "c", "tool": "t", "ok": 1}, "$.ok"),
        ("task_status", {"task_id": "t", "state": "done"}, "got 'done' @ $.state"),
        ("log", {"message": "m", "level": "loud"}, "got 'loud' @ $.level"),
        ("log", {"message": "m", "ts": -5}, "got -5.0 @ $.ts"),
    ],
)
def test_bad_payloads_name_the_field(name: str, payload: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        from_wire(name, payload)
    assert str(caught.value).startswith(f"invalid {name} event: ")
    assert problem in str(caught.value)


def test_several_bad_fields_are_all_named() -> None:
    with pytest.raises(InvalidEvent) as caught:
        from_wire("training_progress", {"run_id": 1, "step": "x"})
    assert sorted(caught.value.problems) == [
        "expected a number, got 'x' @ $.step",
        "expected a string, got 1 @ $.run_id",
    ]


@pytest.mark.parametrize("payload", [None, [], "step", 3])
def test_a_payload_must_be_an_object(payload: Any) -> None:
    with pytest.raises(InvalidEvent, match=r"expected an object, got .* @ \$$"):
        from_wire("log", payload)


def test_unknown_event_name() -> None:
    with pytest.raises(InvalidEvent, match="no typed event is called 'nope'; known: agent_"):
        from_wire("nope", {})


def test_invalid_event_is_a_value_error_and_a_hub_error() -> None:
    assert issubclass(InvalidEvent, ValueError)
    assert issubclass(InvalidEvent, HubError)


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: TrainingProgress(run_id="r", step=-1), "got -1 @ $.step"),
        (lambda: TrainingProgress(run_id="r", step=2.5), "got 2.5 @ $.step"),  # type: ignore[arg-type]
        (
            lambda: TrainingProgress(run_id="r", step=1, metrics={"loss": math.nan}),
            "expected a finite number, got nan @ $.metrics['loss']",
        ),
        (lambda: TrainingStarted(run_id="r", config={"when": b"x"}), "not JSON: a bytes"),
        (lambda: TrainingStarted(run_id="r", config={1: 2}), "keys are strings"),  # type: ignore[dict-item]
        (lambda: ToolCompleted(run_id="a", call_id="c", tool="t", result=math.inf), "no inf"),
        (lambda: ToolStart(session_id="s", tool="t", input={"n": 2**64}), "past 64 bits"),
        (lambda: TrainingCompleted(run_id="r", steps=2**64), "got 18446744073709551616"),
        (lambda: TaskStatus(task_id="t", state="done"), "got 'done' @ $.state"),  # type: ignore[arg-type]
        (lambda: Log(message=None), "expected a string, got None @ $.message"),  # type: ignore[arg-type]
    ],
)
def test_construction_refuses_bad_values(make: Any, problem: str) -> None:
    """An invalid event cannot exist: the producer learns at its emit, with the field."""
    with pytest.raises(InvalidEvent) as caught:
        make()
    assert problem in str(caught.value)


def test_to_wire_checks_again_after_a_change() -> None:
    """A dict field mutated after construction is caught at the emit."""
    progress = TrainingProgress(run_id="r", step=1, metrics={"loss": 1.0})
    progress.metrics["loss"] = math.nan
    with pytest.raises(InvalidEvent, match=r"\$\.metrics\['loss'\]"):
        to_wire(progress)


def test_percent_is_derived_from_step_and_total() -> None:
    assert TrainingProgress(run_id="r", step=1, total=3).percent == 33.33
    assert TrainingProgress(run_id="r", step=1).percent is None
    assert TrainingProgress(run_id="r", step=1, total=3, percent=50).percent == 50


def test_is_typed_and_to_wire_only_for_instances_of_registered_classes() -> None:
    assert not is_typed(TrainingProgress)
    assert not is_typed({"run_id": "r"})
    assert not is_typed(None)
    with pytest.raises(TypeError, match="not a typed event"):
        to_wire({"run_id": "r"})
    with pytest.raises(TypeError, match="not a registered typed event"):
        name_of(dict)


@event("test_custom_reading")
@attrs.frozen(kw_only=True)
class Reading:
    """An application's own event, declared the same way as the built-in ones."""

    sensor: str = attrs.field(validator=checks.identifier)
    value: float = attrs.field(validator=checks.number(minimum=-50, maximum=50))


def test_applications_declare_their_own_events() -> None:
    reading = Reading(sensor="s1", value=21.5)
    assert registry["test_custom_reading"] is Reading
    assert to_wire(reading) == ("test_custom_reading", {"sensor": "s1", "value": 21.5})
    assert from_wire("test_custom_reading", {"sensor": "s1", "value": 21.5}) == reading
    with pytest.raises(InvalidEvent, match=r"from -50 to 50, got 99.0 @ \$\.value"):
        from_wire("test_custom_reading", {"sensor": "s1", "value": 99})


def test_registration_mistakes() -> None:
    with pytest.raises(ValueError, match="already"):
        event("test_custom_reading")(attrs.frozen(type("Other", (), {})))
    with pytest.raises(ValueError, match="reserved"):
        event("disconnect")
    with pytest.raises(ValueError, match="non-empty"):
        event("")
    with pytest.raises(TypeError, match="attrs class"):
        event("test_not_attrs")(type("Plain", (), {}))
    assert "test_not_attrs" not in registry
    # The same class again under its own name is harmless (a module imported twice).
    assert event("test_custom_reading")(Reading) is Reading


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(
    step=st.integers(min_value=0, max_value=10**9),
    extra=st.integers(min_value=0, max_value=10**9),
    metrics=st.dictionaries(
        st.text(min_size=1), st.floats(allow_nan=False, allow_infinity=False), max_size=5
    ),
    result=json_values,
)
def test_round_trips_hold_for_any_valid_values(
    step: int, extra: int, metrics: dict[str, float], result: Any
) -> None:
    progress = TrainingProgress(run_id="r", step=step, total=step + extra or None, metrics=metrics)
    assert from_wire(*orjson.loads(orjson.dumps(to_wire(progress)))) == progress
    done = ToolCompleted(run_id="a", call_id="c", tool="t", result=result)
    assert from_wire(*orjson.loads(orjson.dumps(to_wire(done)))) == done
