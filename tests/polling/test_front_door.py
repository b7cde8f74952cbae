"""The HTTP/1.1 front door: keep-alive, limits, slow requests and CORS, over real sockets."""

from __future__ import annotations

import orjson
import trio

from hub import Hub
from tests.conftest import StartHub
from tests.polling.conftest import OpenHttp
from tests.polling.wire import ENGINE, raw_exchange

HANDSHAKE = f"GET {ENGINE} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


async def test_keep_alive_serves_many_requests_on_one_connection(
    start_hub: StartHub, open_http: OpenHttp
) -> None:
    hub, port = await start_hub()
    http = await open_http(port)
    sids = set()
    for _ in range(5):
        reply = await http.request("GET", ENGINE)
        assert reply.status == 200
        sids.add(orjson.loads(reply.body[1:])["sid"])
    assert len(sids) == 5
    assert hub.stats().connections == 5


async def test_pipelined_requests_are_answered_in_order(start_hub: StartHub) -> None:
    _, port = await start_hub()
    last = f"GET {ENGINE} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    reply = await raw_exchange(port, HANDSHAKE * 2 + last)
    assert reply.count(b"HTTP/1.1 200 ") == 3


async def test_connection_close_is_honoured(start_hub: StartHub) -> None:
    _, port = await start_hub()
    request = f"GET {ENGINE} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    # raw_exchange returns only once the server has closed the connection.
    assert (await raw_exchange(port, request)).startswith(b"HTTP/1.1 200 ")


async def test_oversized_head_gets_431(start_hub: StartHub) -> None:
    hub, port = await start_hub()
    request = f"GET {ENGINE} HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * 20000}\r\n\r\n".encode()
    reply = await raw_exchange(port, request)
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ")
    assert orjson.loads(body)["error"] == "bad_request"
    assert hub.stats().errors["bad_request_head"] == 1


async def test_a_slow_head_times_out_with_408(start_hub: StartHub) -> None:
    hub, port = await start_hub(handshake_timeout=0.3)
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHo")
        reply = b""
        with trio.fail_after(5):
            while chunk := await stream.receive_some(65536):
                reply += chunk
    assert reply.startswith(b"HTTP/1.1 408 ")
    assert hub.stats().errors["bad_request_head"] == 1


async def test_a_silent_connection_is_closed(start_hub: StartHub) -> None:
    _, port = await start_hub(handshake_timeout=0.3)
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        with trio.fail_after(5):
            reply = await stream.receive_some(65536)
    assert reply.startswith(b"HTTP/1.1 408 ")


async def test_a_slow_body_times_out(start_hub: StartHub) -> None:
    _, port = await start_hub(handshake_timeout=0.3)
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(
            f"POST {ENGINE}&sid=x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n40".encode()
        )
        with trio.fail_after(5):
            reply = await stream.receive_some(65536)
    assert reply.startswith(b"HTTP/1.1 408 ")


async def test_an_idle_keep_alive_connection_is_closed(
    start_hub: StartHub, open_http: OpenHttp
) -> None:
    _, port = await start_hub(keepalive_timeout=0.3)
    http = await open_http(port)
    assert (await http.request("GET", ENGINE)).status == 200
    with trio.fail_after(5):
        assert await http.stream.receive_some(100) == b""


async def test_chunked_post_bodies_are_read(start_hub: StartHub, open_http: OpenHttp) -> None:
    hub, port = await start_hub()
    http = await open_http(port)
    sid = orjson.loads((await http.request("GET", ENGINE)).body[1:])["sid"]
    request = (
        f"POST {ENGINE}&sid={sid} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n1\r\n4\r\n1\r\n0\r\n0\r\n\r\n"
    )
    reply = await raw_exchange(port, request.encode())
    assert reply.startswith(b"HTTP/1.1 200 ")
    assert reply.endswith(b"\r\n\r\nok")
    assert hub.stats().sessions["/"] == 1


async def test_cors_headers_only_for_allowed_origins(
    start_hub: StartHub, open_http: OpenHttp
) -> None:
    _, port = await start_hub(Hub(cors_origins=["http://dash.example"], cors_credentials=True))
    http = await open_http(port)
    allowed = await http.request("GET", ENGINE, headers={"Origin": "http://dash.example"})
    assert allowed.headers["access-control-allow-origin"] == "http://dash.example"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    other = await http.request("GET", ENGINE, headers={"Origin": "http://evil.example"})
    assert other.status == 200
    assert "access-control-allow-origin" not in other.headers


async def test_cors_preflight(start_hub: StartHub, open_http: OpenHttp) -> None:
    _, port = await start_hub(Hub(cors_origins=["*"]))
    http = await open_http(port)
    asked = {
        "Origin": "http://any.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    reply = await http.request("OPTIONS", "/api/publish", headers=asked)
    assert reply.status == 204
    assert reply.headers["access-control-allow-origin"] == "http://any.example"
    assert "POST" in reply.headers["access-control-allow-methods"]
    assert reply.headers["access-control-allow-headers"] == "authorization, content-type"
    # Once only: browsers refuse a preflight that repeats it.
    assert reply.raw_headers.count("access-control-allow-origin") == 1


async def test_no_cors_configured_refuses_preflight(
    start_hub: StartHub, open_http: OpenHttp
) -> None:
    _, port = await start_hub()
    http = await open_http(port)
    asked = {"Origin": "http://any.example", "Access-Control-Request-Method": "POST"}
    reply = await http.request("OPTIONS", ENGINE, headers=asked)
    assert reply.status == 403
    assert "access-control-allow-origin" not in reply.headers


async def test_http_1_0_gets_its_reply_then_a_close(start_hub: StartHub) -> None:
    _, port = await start_hub()
    reply = await raw_exchange(port, f"GET {ENGINE} HTTP/1.0\r\n\r\n".encode())
    assert reply.startswith(b"HTTP/1.1 200 ")
    assert b"Connection: close" in reply


async def test_a_head_sent_in_pieces_is_bounded(start_hub: StartHub) -> None:
    hub, port = await start_hub()
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(f"GET {ENGINE} HTTP/1.1\r\nX-Big: ".encode())
        reply = b""
        with trio.fail_after(10):
            try:
                for _ in range(200):  # up to 200 KiB, far past the limit
                    await stream.send_all(b"a" * 1024)
            except trio.BrokenResourceError:
                pass  # the hub answered and hung up mid-head, as it should
            while chunk := await stream.receive_some(65536):
                reply += chunk
    assert reply.startswith(b"HTTP/1.1 431 ")
    assert hub.stats().errors["bad_request_head"] == 1


async def test_head_requests_get_no_body(start_hub: StartHub, open_http: OpenHttp) -> None:
    _, port = await start_hub()
    http = await open_http(port)
    reply = await http.request("HEAD", "/health")
    assert reply.status == 200
    assert reply.body == b""
    assert int(reply.headers["content-length"]) > 0
    # The connection goes on: the reply had no body to skip.
    assert (await http.request("GET", ENGINE)).status == 200


async def test_a_websocket_opening_needs_connection_upgrade(start_hub: StartHub) -> None:
    hub, port = await start_hub()
    request = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    reply = await raw_exchange(port, request.encode())
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert hub.stats().errors["bad_request"] == 1
