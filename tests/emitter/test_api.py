"""POST /api/users/{id}/emit through the emitter; the emitter's figures in /api/stats
and /metrics."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from hub import Session
from hub.testing import open_test_client
from tests.http.conftest import KEY, StartApi


async def post(api_http: httpx.AsyncClient, user: str, **body: Any) -> httpx.Response:
    return await api_http.post(f"/api/users/{user}/emit", json=body)


async def test_api_emit_goes_through_the_emitter(start_api: StartApi) -> None:
    """Every user emit is queued by the emitter and answered with its id and state at once."""
    api = await start_api(emitter_ack_timeout=30)
    async with open_test_client(api.port, auth={"user": "alice"}) as client:
        response = await post(api.http, "alice", event="job_done", data={"id": 7}, ack=True)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["state"] == "sent" and answer["sessions"] == 1
        name, args = await client.next_event()
        assert (name, args) == ("job_done", [{"id": 7}, {"id": answer["id"]}])
        handle_entry = api.hub.user("alice")
        assert len(handle_entry.queue) == 1  # waiting for the ack nobody sends

        response = await post(api.http, "nobody", event="hello", priority="high", ttl=60)
        assert response.json()["state"] == "queued" and response.json()["sessions"] == 0
        response = await post(api.http, "alice", event="p", data=1, coalesce_key="k", batch=True)
        assert response.status_code == 200


async def test_api_emit_refusals(start_api: StartApi) -> None:
    api = await start_api(emitter_queue=1)
    cases = [
        ({"event": "e", "priority": "urgent"}, 400, "invalid_body"),
        ({"event": "e", "ttl": 0}, 400, "invalid_body"),
        ({"event": "e", "ttl": "soon"}, 400, "invalid_body"),
        ({"event": "e", "ack": True, "batch": True}, 400, "invalid_body"),
        ({"event": "e", "args": [1], "ack": True}, 400, "invalid_body"),
        ({"event": "e", "args": [1]}, 400, "invalid_body"),
        ({"event": "hub:batch", "priority": "low"}, 400, "reserved_event"),
        ({"event": "e", "priority": "low", "namespace": "/nope"}, 404, "unknown_namespace"),
        ({"event": "e", "priority": "low"}, 200, None),
        ({"event": "e", "priority": "low"}, 429, "queue_full"),
    ]
    for body, status, kind in cases:
        response = await post(api.http, "zed", **body)
        assert response.status_code == status, (body, response.text)
        if kind is not None:
            assert response.json()["error"] == kind


async def test_emitter_figures_in_stats_and_metrics(start_api: StartApi) -> None:
    api = await start_api(emitter_offline_ttl=0.05)
    dash = api.hub.namespace("/dash")

    @dash.on_connect
    async def connect(session: Session, auth: Any) -> None:
        session.user_id = auth["user"]

    async with open_test_client(api.port, auth={"user": "alice"}) as client:
        handle = await api.hub.user("alice").emit("hi", 1)
        await client.next_event()
    gone = api.hub.user("ghost").emit_nowait("boo")
    await gone.wait(timeout=5)
    assert (await handle.wait(5)).state == "delivered"

    report = (await api.http.get("/api/stats")).json()["emitter"]
    assert report["delivered"] == 1 and report["expired"] == {"offline": 1}
    assert report["users"]["alice"]["delivered"] == 1
    assert report["users"]["ghost"]["expired"] == {"offline": 1}

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api.port}", trust_env=False) as http:
        text = (await http.get("/metrics", headers={"Authorization": f"Bearer {KEY}"})).text
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert found[("hub_user_delivered_total", ())] == 1
    assert found[("hub_user_expired_total", (("reason", "offline"),))] == 1
    assert found[("hub_user_expired_total", (("reason", "ttl"),))] == 0
    assert found[("hub_user_dropped_total", (("reason", "coalesced"),))] == 0
    assert found[("hub_user_retried_total", ())] == 0
    assert found[("hub_user_pending", ())] == 0
    assert found[("hub_user_emitters", ())] == 2
