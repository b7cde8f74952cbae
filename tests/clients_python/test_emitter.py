"""Per-user emitter events: resent events handed to the handler once (and acknowledged each
time), batches unpacked, typed events structured. Through the HTTP API of a hub process
under trio and asyncio, and from an embedded hub (``hub.user(id).emit``) under trio."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
import trio
from hub_client import connect
from hub_client.userevents import BATCH_EVENT

from hub import Hub
from hub.events import Log, TaskStatus, TrainingProgress, to_wire
from hub.standalone import standalone_hub
from tests.clients_python.harness import Recorder, api, emit_to_user, eventually, run
from tests.conftest import StartHub
from tests.interop.interop_harness import HubProcess


async def user_stats(url: str, user: str) -> dict[str, Any]:
    users: dict[str, dict[str, Any]] = (await api(url, "/api/stats"))["emitter"]["users"]
    return users.get(user, {})


def test_resent_event_handled_once(backend: str, standalone: HubProcess) -> None:
    """Two acked events the client does not ack in time: one whose handler fails (no ack),
    one whose handler is slower than the hub's ack timeout (0.5 s). Each is resent with its
    id, acknowledged again, and handled once."""
    user = f"retry-{backend}"

    async def scenario() -> None:
        calls: list[Any] = []

        async def job_done(data: dict[str, Any]) -> None:
            calls.append(data)
            if data["job"] == 1:
                raise RuntimeError("the first delivery fails: no ack")
            await anyio.sleep(1.5)  # the hub resends meanwhile

        client = connect(standalone.url, auth={"user": user})
        client.on("job_done", job_done)
        async with client:
            for job in (1, 2):
                answer = await emit_to_user(
                    standalone.url, user, "job_done", {"job": job}, ack=True
                )
                assert answer["sessions"] == 1

            async def both_acked() -> bool:
                stats = await user_stats(standalone.url, user)
                return stats.get("acked") == 2 and stats.get("pending") == 0

            await eventually(both_acked, timeout=15)
            stats = await user_stats(standalone.url, user)
            assert stats["retried"] >= 2, stats
            assert calls == [{"job": 1}, {"job": 2}]  # once each, resends notwithstanding
            counts = client.stats()
            assert counts.duplicates >= 2 and counts.handler_errors == 1 and counts.events == 2

    run(backend, scenario)


def test_batches_and_typed_events(backend: str, standalone: HubProcess) -> None:
    """Batchable events sent together arrive as one ``hub:batch`` frame; each is handed to
    its (typed) handler in order; an invalid payload never reaches its handler."""
    user = f"batch-{backend}"
    steps = [TrainingProgress(run_id="r1", step=n, total=3, ts=1.0) for n in (1, 2, 3)]
    line = Log(message="epoch done", ts=2.0)

    async def scenario() -> None:
        progress, logs, raw = Recorder(), Recorder(), Recorder()
        client = connect(standalone.url, auth={"user": user})
        client.on(TrainingProgress, progress)
        client.on(Log, logs)
        client.on(BATCH_EVENT, raw)  # never called: batches are unpacked
        async with client:
            for event in (*steps, line):
                name, payload = to_wire(event)
                await emit_to_user(standalone.url, user, name, payload, batch=True)
            assert await progress.wait(3) == steps
            assert await logs.wait(1) == [line]
            assert client.stats().batches >= 1 and raw.calls == []

            invalid = {"run_id": "r1", "step": -1}
            await emit_to_user(standalone.url, user, "training_progress", invalid, ack=True)
            await emit_to_user(standalone.url, user, "training_progress", to_wire(steps[0])[1])
            await progress.wait(4)
            assert progress.calls == [*steps, steps[0]]
            assert client.stats().handler_errors == 1

            async def acked() -> bool:  # the refusal was acknowledged (with an error)
                return (await user_stats(standalone.url, user)).get("acked") == 1

            await eventually(acked)

    run(backend, scenario)


async def test_embedded_hub(start_hub: StartHub, nursery: trio.Nursery) -> None:
    """The client and a hub in one trio program: ``hub.user(id).emit`` with ack and batch,
    a broadcast, and a reconnect after the hub shuts down and serves again on its port."""
    hub: Hub = standalone_hub(
        emitter_ack_timeout=0.3, emitter_backoff_base=0.05, emitter_backoff_max=0.5
    )
    hub, port = await start_hub(hub)
    handled: list[Any] = []
    logs = Recorder()

    async def slow(data: Any) -> str:
        handled.append(data)
        await trio.sleep(0.8)  # longer than the ack timeout: the hub resends
        return "done"

    client = connect(f"http://127.0.0.1:{port}", auth={"user": "emb"}, reconnect_delay=0.1)
    client.on("slow", slow)
    client.on("log", logs)
    async with client:
        emitter = hub.user("emb")
        for n in range(3):
            emitter.emit_nowait("log", {"n": n}, batch=True)
        assert await logs.wait(3) == [{"n": 0}, {"n": 1}, {"n": 2}]
        assert client.stats().batches == 1

        handle = await emitter.emit("slow", {"job": 9}, ack=True)
        outcome = await handle.wait(timeout=10)
        assert outcome.state == "acked" and outcome.attempts >= 2
        assert handled == [{"job": 9}]

        status = TaskStatus(task_id="t1", state="running", ts=3.0)
        seen = client.wait_for(TaskStatus)
        await hub.emit(*to_wire(status))
        assert await seen == status

        await hub.shutdown(grace=2)
        with trio.fail_after(10):
            await nursery.start(hub.serve, "127.0.0.1", port)
            again = client.wait_for("log")
            emitter.emit_nowait("log", {"n": 3})
            assert await again == {"n": 3}
        assert client.stats().connects == 2 and client.reconnect_delays


@pytest.mark.parametrize("transport", ["polling"])
def test_user_events_over_polling(backend: str, transport: str, standalone: HubProcess) -> None:
    """The same unpacking and dedupe on long-polling."""
    user = f"polling-{backend}"

    async def scenario() -> None:
        got = Recorder()
        client = connect(standalone.url, auth={"user": user}, transports=[transport])
        client.on("note", got)
        async with client:
            assert client.transport == "polling"
            for n in range(3):
                await emit_to_user(standalone.url, user, "note", {"n": n}, batch=True)
            await emit_to_user(standalone.url, user, "note", {"n": 3}, ack=True)
            assert await got.wait(4) == [{"n": n} for n in range(4)]

    run(backend, scenario)
