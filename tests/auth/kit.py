"""Shared pieces of the auth tests: tokens, keys, and clients that present a token in the
Engine.IO opening request (``Authorization: Bearer`` header or ``?token=`` query).

Tokens are minted with pyjwt; RSA and EC keys are made once per test run with
``cryptography`` (2048-bit RSA and P-256, so pyjwt never warns about weak keys).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
import orjson
import trio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from trio_websocket import wrap_client_stream

from hub import Hub
from hub.core.session import Session
from hub.errors import ConnectRefused, ProtocolError
from hub.protocol.engineio import EioType, decode_eio
from hub.protocol.socketio import SioPacket, SioType
from hub.testing import TestClient

# HMAC secrets of 64 bytes: pyjwt warns about keys shorter than the hash (HS512 included),
# and the hub refuses secrets under 32 bytes.
SECRET = "auth-tests-secret-" + "s" * 46
OTHER_SECRET = "another-secret-" + "o" * 49
assert len(SECRET) == len(OTHER_SECRET) == 64

STEP = 5.0  # one bounded wait (connect, ack, event)


def claims(sub: Any = "alice", *, ttl: float | None = 300, **more: Any) -> dict[str, Any]:
    """A payload naming ``sub`` and expiring in ``ttl`` seconds (None: no ``exp``)."""
    payload: dict[str, Any] = {} if sub is None else {"sub": sub}
    if ttl is not None:
        payload["exp"] = int(time.time() + ttl)
    payload.update(more)
    return payload


def token(sub: Any = "alice", *, secret: str = SECRET, ttl: float | None = 300, **more: Any) -> str:
    """An HS256 token for ``sub`` (see ``claims``)."""
    return jwt.encode(claims(sub, ttl=ttl, **more), secret, algorithm="HS256")


@functools.cache
def rsa_key(name: str = "rsa") -> rsa.RSAPrivateKey:
    """A 2048-bit RSA private key, one per ``name`` for the whole run."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def ec_key(name: str = "ec") -> ec.EllipticCurvePrivateKey:
    """A P-256 private key (ES256), one per ``name`` for the whole run."""
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_pem(path: Path, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    path.write_bytes(public_pem(key))
    return str(path)


def jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str | None) -> dict[str, Any]:
    """The public JWK of ``key``, with its ``kid`` and ``alg``."""
    if isinstance(key, rsa.RSAPrivateKey):
        found: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        found["alg"] = "RS256"
    else:
        found = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        found["alg"] = "ES256"
    found["use"] = "sig"
    if kid is not None:
        found["kid"] = kid
    return found


def write_jwks(path: Path, *keys: dict[str, Any]) -> str:
    path.write_text(json.dumps({"keys": list(keys)}))
    return str(path)


def signed(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    payload: dict[str, Any],
    *,
    kid: str | None = None,
) -> str:
    algorithm = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers)


def session_of(hub: Hub, sid: str, namespace: str = "/") -> Session:
    """The hub's side of a connected namespace session."""
    return hub.namespaces[namespace].sessions[sid]


async def refusal(client: TestClient, namespace: str = "/", auth: Any = None) -> dict[str, Any]:
    """Connect ``namespace`` expecting CONNECT_ERROR; its body ``{"message", "data"}``."""
    try:
        sid = await client.connect(namespace, auth, timeout=STEP)
    except ConnectRefused as refused:
        assert isinstance(refused.message, str) and refused.message
        return {"message": refused.message, "data": refused.data}
    raise AssertionError(f"{namespace} connected (sid {sid}) but should have been refused")


async def reason_of(client: TestClient, namespace: str = "/", auth: Any = None) -> str:
    """The ``data.reason`` of a refused CONNECT (the data holds nothing else)."""
    body = await refusal(client, namespace, auth)
    assert isinstance(body["data"], dict) and set(body["data"]) == {"reason"}, body
    reason: str = body["data"]["reason"]
    return reason


@asynccontextmanager
async def open_client(
    port: int,
    *,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    connect: str | None = "/",
    auth: dict[str, Any] | None = None,
) -> AsyncIterator[TestClient]:
    """``hub.testing.open_test_client`` with extra query parameters and request headers on
    the WebSocket opening request (where a token may travel)."""
    resource = "/socket.io/?EIO=4&transport=websocket"
    for name, value in (query or {}).items():
        resource += f"&{quote(name)}={quote(value)}"
    extra = [(name.encode(), value.encode()) for name, value in (headers or {}).items()]
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream, trio.open_nursery() as nursery:
        ws = await wrap_client_stream(
            nursery, stream, "127.0.0.1", resource, extra_headers=extra, message_queue_size=0
        )
        with trio.fail_after(STEP):
            opening = decode_eio(await ws.get_message())
        if opening.type is not EioType.OPEN:
            raise ProtocolError("server did not open the session")
        client = TestClient(ws, orjson.loads(opening.data), auto_pong=True)
        nursery.start_soon(client._read)
        if connect is not None:
            await client.connect(connect, auth)
        yield client
        with trio.move_on_after(1):
            await ws.aclose()
        nursery.cancel_scope.cancel()


async def ack_event(client: TestClient, ack_id: int, *args: Any, namespace: str = "/") -> None:
    """Answer the server's event ``ack_id`` (for tests that ack by hand, late)."""
    await client.send_packet(SioPacket(SioType.ACK, namespace, list(args), ack_id))


def asked(client: TestClient, event: str, namespace: str = "/") -> list[SioPacket]:
    """The events named ``event`` the server sent asking for an ack, in order."""
    return [
        packet
        for packet in client.received
        if packet.is_event
        and packet.id is not None
        and packet.namespace == namespace
        and packet.data[0] == event
    ]
