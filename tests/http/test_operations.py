"""GET /api/stats, /health, /ready and /metrics on a live hub."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import trio
import trio.testing
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage

from hub import NotConnected
from hub.testing import open_test_client, wait_until
from tests.http.conftest import ApiHub, StartApi, api_client

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def stats(api: ApiHub) -> dict[str, Any]:
    response = await api.http.get("/api/stats")
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def samples(families: list[Metric]) -> Samples:
    """Every sample by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families
        for sample in family.samples
    }


async def scrape(api: ApiHub) -> Samples:
    async with api_client(api.port, key=None) as http:  # /metrics needs no key
        response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(list(text_string_to_metric_families(response.text)))


async def test_stats_shape_and_values(start_api: StartApi) -> None:
    """Connections, sessions and rooms per namespace, counters, outbox and uptime."""
    api = await start_api()
    api.hub.namespace("/dash")
    async with (
        open_test_client(api.port) as one,
        open_test_client(api.port) as two,
        open_test_client(api.port, connect="/dash", auth={"user": "u"}),
    ):
        await one.call("join", "red")
        await two.call("join", "red")
        await two.call("join", "blue")
        assert (await api.publish(event="e", room="red"))["recipients"] == 2
        assert (await api.http.get("/nope")).status_code == 404
        report = await stats(api)
        assert 0 <= report.pop("uptime") < 60
        assert report == {
            "connections": 3,
            "handshakes": 3,
            "sessions": {"/": 2, "/dash": 1},
            "rooms": {"/": {"red": 2, "blue": 1}, "/dash": {}},
            "users": 0,  # the /dash connect handler names no user
            "events_in": 3,
            "deliveries": 2,
            "published": 1,
            "recovered": 0,
            "dropped": {},
            "disconnects": {},
            "errors": {"http_not_found": 1},
            "outbox": {"bytes": 0, "connections": 0},
            "emitter": {
                "delivered": 0,
                "acked": 0,
                "retried": 0,
                "expired": {},
                "dropped": {},
                "pending": 0,
                "users": {},
            },
        }
        await one.next_event()
        await two.next_event()
    await wait_until(lambda: api.hub.counters.connections == 0)
    report = await stats(api)
    assert report["connections"] == 0 and report["sessions"] == {"/": 0, "/dash": 0}
    assert report["rooms"] == {"/": {}, "/dash": {}}
    assert sum(report["disconnects"].values()) == 3


async def test_health_and_ready_answer_without_a_key(start_api: StartApi) -> None:
    api = await start_api()
    async with api_client(api.port, key=None) as http:
        for path, answer in (("/health", {"status": "ok"}), ("/ready", {"status": "ready"})):
            response = await http.get(path)
            assert (response.status_code, response.json()) == (200, answer)


async def test_ready_is_503_during_shutdown(start_api: StartApi) -> None:
    """A request in flight when the shutdown begins is answered 503 "shutting down"."""
    api = await start_api()
    async with open_test_client(api.port) as member:
        assert (await api.http.get("/ready")).json() == {"status": "ready"}
        stream = await trio.open_tcp_stream("127.0.0.1", api.port)
        async with stream:
            # The head is in, the body is not: the request is under way, not idle.
            await stream.send_all(b"GET /ready HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\n")
            await trio.testing.wait_all_tasks_blocked(cushion=0.01)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(api.hub.shutdown, 10)
                with pytest.raises(NotConnected):  # told "server shutting down"
                    await member.next_event(timeout=5)
                await stream.send_all(b"x")
                reply = await read_to_end(stream)
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 ")
    assert orjson.loads(body) == {"status": "shutting down"}
    assert not api.hub.running


async def read_to_end(stream: trio.SocketStream) -> bytes:
    data = b""
    with trio.fail_after(5):
        while chunk := await stream.receive_some():
            data += chunk
    return data


async def test_metrics_parse_and_move_with_traffic(start_api: StartApi) -> None:
    """/metrics parses as Prometheus text; counters, gauges and the histogram move."""
    api = await start_api()
    before = await scrape(api)
    assert before[("hub_published_total", ())] == 0
    assert before[("hub_deliveries_total", ())] == 0
    assert before[("hub_dropped_total", (("reason", "volatile"),))] == 0
    assert before[("hub_publish_seconds_count", ())] == 0
    assert before[("hub_connections", ())] == 0
    async with open_test_client(api.port) as one, open_test_client(api.port) as two:
        for client in (one, two):
            await client.call("join", "red")
        for n in range(3):
            await api.publish(event="e", data=n, room="red")
        await api.http.get("/nope")
        after = await scrape(api)
    assert after[("hub_published_total", ())] == 3
    assert after[("hub_deliveries_total", ())] == 6
    assert after[("hub_events_in_total", ())] == 2
    assert after[("hub_handshakes_total", ())] == 2
    assert after[("hub_connections", ())] == 2
    assert after[("hub_errors_total", (("kind", "http_not_found"),))] == 1
    assert after[("hub_namespace_sessions", (("namespace", "/"),))] == 2
    assert after[("hub_namespace_rooms", (("namespace", "/"),))] == 1
    assert after[("hub_outbox_bytes", ())] == 0
    assert after[("hub_publish_seconds_count", ())] == 3
    assert after[("hub_publish_seconds_bucket", (("le", "+Inf"),))] == 3
    assert 0 < after[("hub_publish_seconds_sum", ())] < 3
    assert after[("hub_start_time_seconds", ())] == api.hub.started_at


async def test_metrics_speak_openmetrics_when_asked(start_api: StartApi) -> None:
    api = await start_api()
    accept = {"Accept": "application/openmetrics-text; version=1.0.0"}
    response = await api.http.get("/metrics", headers=accept)
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    found = samples(list(openmetrics_families(response.text)))
    assert found[("hub_published_total", ())] == 0


async def test_metrics_of_two_hubs_stay_apart(start_api: StartApi) -> None:
    """Each server has its own registry: one hub's traffic does not show in the other's."""
    first, second = await start_api(), await start_api()
    await first.publish(event="e")
    assert (await scrape(first))[("hub_published_total", ())] == 1
    assert (await scrape(second))[("hub_published_total", ())] == 0


async def stalled_client(port: int) -> trio.SocketStream:
    """A WebSocket client that joins / and then never reads again."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    ws = WSConnection(ConnectionType.CLIENT)
    target = "/socket.io/?EIO=4&transport=websocket"
    await stream.send_all(ws.send(Request(host="127.0.0.1", target=target)))
    expected: list[type] = [AcceptConnection, TextMessage]  # the 101, then Engine.IO's open
    with trio.fail_after(5):
        while expected:
            ws.receive_data(await stream.receive_some())
            for event in ws.events():
                assert isinstance(event, expected.pop(0)), event
                if isinstance(event, AcceptConnection):
                    await stream.send_all(ws.send(TextMessage("40")))
                    expected.append(TextMessage)  # the CONNECT reply
    return stream


async def test_outbox_depth_shows_a_stalled_reader(start_api: StartApi) -> None:
    """A client that stops reading: its queued bytes show in /api/stats and /metrics."""
    api = await start_api(outbox_bytes=256 * 1024 * 1024)
    stream = await stalled_client(api.port)
    async with stream:
        chunk = "x" * 65536
        for _ in range(2000):  # bounded: the kernel's buffers hold a few MB at most
            await api.publish(event="big", data=chunk)
            if (await stats(api))["outbox"]["bytes"]:
                break
        outbox = (await stats(api))["outbox"]
        assert outbox["bytes"] > 0 and outbox["connections"] == 1
        found = await scrape(api)
        assert found[("hub_outbox_bytes", ())] == outbox["bytes"]
        assert found[("hub_outbox_connections", ())] == 1
        assert api.hub.stats().disconnects == {}
