"""Hostile inputs for the live fuzz test (``test_fuzz.py``), sans-IO.

Every generator takes a seeded ``random.Random`` and returns what to write on a socket:
WebSocket frames (masked or not, fragmented, with bad opcodes, reserved bits, lying
lengths), Engine.IO / Socket.IO messages (valid, nearly valid and garbage), JWTs
(garbage, forged, signed), raw HTTP/1.1 requests (random methods, paths, queries and
headers, truncated, oversized, bad chunked encoding, bad upgrades) and HTTP API bodies.
Nothing here does I/O, so one seed gives one sequence of inputs whatever the timing of
the run (only the expiry times in signed tokens follow the clock).

The generators never produce an input that could legitimately reach the good clients of
the fuzz test (sessions of "/" with no user): a client's EVENT is only answered by the
hub's ``echo`` (an ack to the sender), an API publish carrying the valid key goes to
"/fuzz", "/rec" or an unknown namespace, and user events go to users (of signed tokens).
"""

from __future__ import annotations

import json
import random
import string
import time
from base64 import b64encode
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import jwt
import orjson

API_KEY = "fuzz-key-0123456789"
JWT_SECRET = "fuzz-jwt-secret-0123456789abcdef0123"
# Users of signed tokens, and of the API's user routes.
USERS = ["alice", "bob", "alice", "carol"]
ORIGIN_OK = "http://good.example"
ENGINE_PATH = "/socket.io/"
# Namespaces of the fuzz hub: "/" (the good clients, and ``echo``), "/rec" (recovery on,
# ``echo`` and ``join``), "/locked" (needs a valid token), "/staff" (a token with the
# role staff), "/refuse" (its connect handler refuses everyone) and "/fuzz" (where the
# API's publishes land; nobody joins it); the others are unknown.
NAMESPACES = ["/", "/rec", "/locked", "/staff", "/refuse", "/fuzz", "/nope", "/a,b", "//", ""]
EVENT_NAMES = [
    "echo",
    "echo",
    "join",
    "hub:refresh",
    "nope",
    "",
    "connect",
    "disconnect",
    "newListener",
]

TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


# WebSocket frames (RFC 6455 5.2), as a client writes them


def mask(data: bytes, key: bytes) -> bytes:
    if not data:
        return data
    repeated = (key * (len(data) // 4 + 1))[: len(data)]
    masked = int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")
    return masked.to_bytes(len(data), "big")


def frame(
    payload: bytes,
    opcode: int = TEXT,
    *,
    fin: bool = True,
    rsv: int = 0,
    key: bytes | None = b"\x00\x00\x00\x00",
    length: int | None = None,
    wide: bool = False,
) -> bytes:
    """One frame; ``key=None`` leaves it unmasked (a client must mask), ``length`` lies
    about the payload's length, ``wide`` uses a longer length encoding than needed."""
    declared = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv & 7) << 4 | (opcode & 0xF)])
    bit = 0x80 if key is not None else 0
    if declared < 126 and not wide:
        head += bytes([bit | declared])
    elif declared < 65536:
        head += bytes([bit | 126]) + declared.to_bytes(2, "big")
    else:
        head += bytes([bit | 127]) + declared.to_bytes(8, "big")
    if key is None:
        return head + payload
    return head + key + mask(payload, key)


def random_key(rng: random.Random) -> bytes:
    return rng.randbytes(4)


def message_frames(rng: random.Random, message: str | bytes) -> bytes:
    """A well-formed (masked) message, sometimes fragmented, with pings between parts."""
    data = message.encode() if isinstance(message, str) else message
    opcode = TEXT if isinstance(message, str) else BINARY
    if len(data) < 2 or rng.random() < 0.8:
        return frame(data, opcode, key=random_key(rng))
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 4))))
    parts = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    out = b""
    for index, part in enumerate(parts):
        code = opcode if index == 0 else CONTINUATION
        out += frame(part, code, fin=index == len(parts) - 1, key=random_key(rng))
        if rng.random() < 0.3 and index < len(parts) - 1:
            out += frame(b"mid", PING, key=random_key(rng))  # allowed between fragments
    return out


class ServerFrames:
    """Reads the frames a server writes (unmasked) after its 101 reply."""

    def __init__(self) -> None:
        self.buffer = b""
        self.head_done = False
        self.status = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self.buffer += data
        if not self.head_done:
            end = self.buffer.find(b"\r\n\r\n")
            if end == -1:
                return []
            self.status = self.buffer[: self.buffer.find(b"\r\n")]
            self.buffer = self.buffer[end + 4 :]
            self.head_done = True
            if b" 101 " not in self.status:
                return []
        if b" 101 " not in self.status:
            return []
        frames = []
        while len(self.buffer) >= 2:
            b0, b1 = self.buffer[0], self.buffer[1]
            size, offset = b1 & 0x7F, 2
            if size == 126:
                if len(self.buffer) < 4:
                    break
                size, offset = int.from_bytes(self.buffer[2:4], "big"), 4
            elif size == 127:
                if len(self.buffer) < 10:
                    break
                size, offset = int.from_bytes(self.buffer[2:10], "big"), 10
            if len(self.buffer) < offset + size:
                break
            frames.append((b0 & 0xF, self.buffer[offset : offset + size]))
            self.buffer = self.buffer[offset + size :]
        return frames


# JSON and Socket.IO / Engine.IO packets


def random_text(rng: random.Random, size: int | None = None) -> str:
    size = rng.randint(0, 12) if size is None else size
    alphabet = string.printable + "\u00e9\u2603\U0001f4a5\x00\x1e\u200b"
    return "".join(rng.choice(alphabet) for _ in range(size))


def json_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.45:
        return rng.choice(
            [
                None,
                True,
                False,
                0,
                -1,
                rng.randint(-(2**63), 2**63 - 1),
                rng.random() * 1e300,
                random_text(rng),
                {"_placeholder": True, "num": rng.choice([0, 1, -1, 7, "0", 1.0, True, None])},
            ]
        )
    if roll < 0.75:
        return [json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {random_text(rng, 4): json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def json_text(rng: random.Random, value: Any = None) -> str:
    """JSON for ``value`` (random if None), or text that is nearly JSON."""
    text = orjson.dumps(json_value(rng) if value is None else value).decode()
    roll = rng.random()
    if roll < 0.75:
        return text
    if roll < 0.82 and text:
        return text[: rng.randint(0, len(text) - 1)]  # truncated
    return rng.choice(
        [
            text + "]",
            "[" * rng.choice([10, 900, 1100]) + "]" * rng.choice([0, 10, 900, 1100]),
            '"\\ud800"',
            "NaN",
            "1e999",
            "1" * rng.randint(20, 400),
            "[1,]",
            "{'a': 1}",
            "\x00",
            "[" + ",".join(['{"_placeholder":true,"num":0}'] * rng.randint(2, 50)) + "]",
        ]
    )


def b64url(data: bytes) -> str:
    return b64encode(data, b"-_").decode().rstrip("=")


def token(rng: random.Random) -> Any:
    """Something presented as a JWT: garbage, forged, or signed with the hub's secret.

    Signed tokens expire within seconds, in an hour, never, or out of any float's range.
    """
    now = time.time()
    kind = rng.choices(["garbage", "forged", "none", "wrong_key", "signed"], [2, 3, 1, 1, 4])[0]
    if kind == "garbage":
        return rng.choice(
            [random_text(rng, rng.randint(0, 40)), 5, None, [], {}, "a.b.c", "..", "x" * 5000]
        )
    claims: dict[str, Any] = {
        "sub": rng.choice([*USERS, "", 7, True, None, ["x"], random_text(rng, 6)]),
    }
    if rng.random() < 0.6:
        claims["exp"] = rng.choice(
            [now - 100, now + rng.uniform(0.2, 3), now + 3600, "soon", None, 10**400, 1e300]
        )
    if rng.random() < 0.3:
        claims["nbf"] = rng.choice([now + 100, now - 100, "x"])
    if rng.random() < 0.3:
        claims["iat"] = rng.choice([now, "x", now + 1000])
    if rng.random() < 0.5:
        claims["roles"] = rng.choice([["staff"], "staff admin", [], 5, [1, 2], None])
    if rng.random() < 0.5:
        claims["rooms"] = rng.choice(
            [["public:*"], ["user:{sub}"], ["{nope}"], "a b c", ["*"], [5], ["{sub}{sub}"]]
        )
    if kind == "signed":
        return jwt.encode(claims, JWT_SECRET, algorithm="HS256")
    if kind == "wrong_key":
        return jwt.encode(claims, JWT_SECRET[::-1], algorithm="HS256")
    alg = rng.choice(["HS256", "none", "RS256", "ES256", "PS256", "HS512", 5, None, ["HS256"]])
    header = {"alg": alg, "typ": "JWT"}
    if rng.random() < 0.3:
        header["kid"] = rng.choice(["k1", 5, None, "../../etc/passwd", {"a": 1}])
    parts = [
        b64url(orjson.dumps(header if rng.random() < 0.9 else json_value(rng))),
        b64url(json.dumps(claims).encode()),  # json: exp may not fit 64 bits
        "" if kind == "none" else b64url(rng.randbytes(rng.choice([0, 32, 256]))),
    ]
    text = ".".join(parts)
    if rng.random() < 0.1:
        text = text[: rng.randint(0, len(text))]
    return text


def deep(rng: random.Random, inner: str) -> str:
    levels = rng.choice([100, 300, 800, 1020])
    return "[" * levels + inner + "]" * levels


def sio_packet(rng: random.Random) -> tuple[str, int]:
    """A Socket.IO packet's text and how many binary attachments to send after it.

    Mostly valid for the fuzz hub, often nearly valid, sometimes garbage.
    """
    ptype = rng.choices("0123456789x", weights=[8, 3, 40, 8, 2, 8, 3, 1, 1, 1, 1])[0]
    if rng.random() < 0.03:
        ptype = ""
    attachments = 0
    head = ptype
    if ptype in "56":
        attachments = rng.choice([0, 1, 1, 2, 3])
        count = rng.choice(
            [str(attachments)] * 6 + ["", "x", "-1", "99999", "1001", "01", "\u0661"]
        )
        head += count + "-"
    if rng.random() < 0.3:
        namespace = rng.choice(NAMESPACES)
        head += namespace + ("," if rng.random() < 0.9 else "")
    if ptype in "2356" and rng.random() < 0.4:
        head += str(rng.choice([0, 1, 7, 2**31, 2**53, 10**14, 10**15, 10**20, 10**40]))
    if ptype == "0":
        body = rng.choice(
            [
                "",
                json_text(rng, {"token": token(rng)}),
                json_text(rng, {"token": token(rng)}),
                json_text(rng, {"pid": random_text(rng, 8), "offset": random_text(rng, 6)}),
                json_text(rng, {"pid": rng.choice([1, None, [], "x"]), "offset": 5}),
                json_text(rng),
            ]
        )
    elif ptype in "25":
        name = rng.choice([*EVENT_NAMES, random_text(rng)])
        args = [json_value(rng) for _ in range(rng.randint(0, 3))]
        if name == "hub:refresh":
            args = rng.choice([[], [token(rng)], [{"token": token(rng)}], args])
        if ptype == "5":
            args += [{"_placeholder": True, "num": n} for n in range(attachments)]
        body = json_text(rng, [name, *args])
        if rng.random() < 0.05:
            body = deep(rng, orjson.dumps(name).decode())
    elif ptype in "36":
        body = json_text(rng, [json_value(rng) for _ in range(rng.randint(0, 2))])
    else:
        body = rng.choice(["", json_text(rng), random_text(rng)])
    return head + body, attachments


def eio_messages(rng: random.Random) -> list[str | bytes]:
    """One logical Engine.IO input: a message, or a binary packet and its attachments."""
    roll = rng.random()
    if roll < 0.7:
        text, attachments = sio_packet(rng)
        messages: list[str | bytes] = ["4" + text]
        sent = attachments + rng.choice([0] * 8 + [-1, 1, 2])
        messages += [rng.randbytes(rng.randint(0, 64)) for _ in range(max(0, sent))]
        return messages
    if roll < 0.9:
        return [
            rng.choice(
                ["2", "2probe", "3", "3probe", "5", "6", "1", "0", "0{}", "7", "", "4", "40"]
            )
        ]
    if roll < 0.95:
        return [rng.randbytes(rng.randint(0, 32))]  # an attachment nobody announced
    return [random_text(rng)]


# The plan of one hostile WebSocket connection


@dataclass
class WsPlan:
    """What one hostile WebSocket connection writes, in order, and how it ends."""

    head: bytes
    chunks: list[bytes] = field(default_factory=list)
    end: str = "fin"  # fin, rst, close_frame, cut (half a frame, then fin), wait
    # Read nothing until everything is written (a stalled reader).
    stall: bool = False
    # Answer the server's close frame (else just hang up).
    answer_close: bool = False
    # Seconds to keep reading once everything is written, before the end.
    linger: float = 0.0
    counts: Counter[str] = field(default_factory=Counter)


def upgrade_head(rng: random.Random, query: str = "EIO=4&transport=websocket") -> bytes:
    """A valid WebSocket opening request for the Engine.IO path."""
    key = b64encode(rng.randbytes(16)).decode()
    if rng.random() < 0.1:
        query += "&token=" + str(token(rng)).replace("&", "").replace(" ", "")
    extra = ""
    if rng.random() < 0.2:
        extra = rng.choice(
            [
                f"Origin: {ORIGIN_OK}\r\n",
                "Origin: http://evil.example\r\n",
                "Sec-WebSocket-Extensions: permessage-deflate\r\n",
                "Sec-WebSocket-Protocol: chat\r\n",
                f"Authorization: Bearer {token(rng)}\r\n",
                "X-Junk: \xff\xfe\r\n",
            ]
        )
    return (
        f"GET {ENGINE_PATH}?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Key: {key}\r\n{extra}\r\n"
    ).encode()


# (kind, weight): what a hostile WebSocket connection sends after connecting.
WS_INPUTS = {
    "engineio": 40,
    "random_text": 4,
    "random_binary": 4,
    "bad_utf8": 3,
    "bad_fragments": 5,
    "unmasked": 2,
    "bad_opcode": 2,
    "reserved_bits": 2,
    "bad_control": 3,
    "oversized": 2,
    "ping_flood": 2,
    "pong": 1,
    "truncated": 2,
    "close": 1,
    "echo_big": 2,
}


def ws_input(rng: random.Random, kind: str, max_payload: int) -> tuple[bytes, int, bool]:
    """The bytes of one hostile input, how many frames they hold, and whether they end the
    connection's plan (a frame left incomplete, or a close)."""
    key = random_key(rng)
    if kind == "engineio":
        messages = eio_messages(rng)
        return b"".join(message_frames(rng, m) for m in messages), len(messages), False
    if kind == "random_text":
        return frame(random_text(rng, rng.randint(0, 200)).encode(), TEXT, key=key), 1, False
    if kind == "random_binary":
        return frame(rng.randbytes(rng.randint(0, 200)), BINARY, key=key), 1, False
    if kind == "bad_utf8":
        data = rng.choice([b"4\xff", b"42[\xc3]", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])
        return frame(data, TEXT, key=key), 1, False
    if kind == "bad_fragments":
        variant = rng.randrange(5)
        if variant == 0:  # a continuation with nothing to continue
            return frame(b"42", CONTINUATION, key=key), 1, False
        if variant == 1:  # a new data frame while a message is unfinished
            return frame(b"4", TEXT, fin=False, key=key) + frame(b"2", TEXT, key=key), 2, False
        if variant == 2:  # a text message split inside a UTF-8 sequence (valid)
            data = '42["echo","\u2603"]'.encode()
            cut = data.index(b"\xe2") + 1
            first = frame(data[:cut], TEXT, fin=False, key=key)
            return first + frame(data[cut:], CONTINUATION, key=key), 2, False
        if variant == 3:  # hundreds of tiny fragments
            count = rng.randint(50, 400)
            parts = [frame(b"", TEXT, fin=False, key=key)]
            parts += [frame(b"", CONTINUATION, fin=False, key=key)] * count
            parts.append(frame(b"6", CONTINUATION, key=key))
            return b"".join(parts), count + 2, False
        # a fragmented message never finished, then the connection ends
        return frame(b"42", TEXT, fin=False, key=key), 1, True
    if kind == "unmasked":
        return frame(b"40", TEXT, key=None), 1, False
    if kind == "bad_opcode":
        opcode = rng.choice([3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
        return frame(b"x", opcode, key=key), 1, False
    if kind == "reserved_bits":
        return frame(b"3", TEXT, rsv=rng.randint(1, 7), key=key), 1, False
    if kind == "bad_control":
        variant = rng.randrange(6)
        if variant == 0:
            return frame(b"p" * rng.randint(126, 300), PING, key=key), 1, False
        if variant == 1:
            return frame(b"p", PING, fin=False, key=key), 1, False
        if variant == 2:
            code = rng.choice([0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535])
            return frame(code.to_bytes(2, "big"), CLOSE, key=key), 1, True
        if variant == 3:
            return frame(b"\x03", CLOSE, key=key), 1, True  # a one-byte close payload
        if variant == 4:
            return frame(b"\x03\xe8\xff\xfe", CLOSE, key=key), 1, True  # reason not UTF-8
        return frame(b"pong", PONG, fin=False, key=key), 1, False
    if kind == "oversized":
        size = max_payload + rng.randint(1, 4096)
        data = b"4" + b"x" * (size - 1)
        if rng.random() < 0.5:
            return frame(data, rng.choice([TEXT, BINARY]), key=key), 1, False
        half = size // 2
        first = frame(data[:half], BINARY, fin=False, key=key)
        return first + frame(data[half:], CONTINUATION, key=key), 2, False
    if kind == "ping_flood":
        count = rng.randint(20, 300)
        one = frame(b"flood", PING, key=key)
        return one * count, count, False
    if kind == "pong":
        return frame(b"unsolicited", PONG, key=key), 1, False
    if kind == "truncated":
        whole = frame(b'42["echo","' + b"y" * rng.randint(0, 300) + b'"]', TEXT, key=key)
        variant = rng.randrange(3)
        if variant == 0:  # the length claims more than ever comes
            claimed = rng.choice([200, 70000, 2**40, 2**63 - 1])
            return frame(b"42[", TEXT, key=key, length=claimed), 1, True
        if variant == 1:  # a wide length encoding for a short payload (valid or not)
            return frame(b"6", TEXT, key=key, wide=True), 1, False
        return whole[: rng.randint(1, len(whole) - 1)], 1, True
    if kind == "close":
        return frame(b"\x03\xe8bye", CLOSE, key=key), 1, True
    if kind == "echo_big":
        # Events whose acks are large: a reader that stalls becomes a slow consumer.
        count = rng.randint(5, 40)
        blob = b"z" * (max_payload - 100)
        one = frame(b'421["echo","' + blob + b'"]', TEXT, key=key)
        return one * count, count, False
    raise ValueError(kind)


def ws_plan(rng: random.Random, max_payload: int, query: str | None = None) -> WsPlan:
    plan = WsPlan(upgrade_head(rng, query or "EIO=4&transport=websocket"))
    plan.counts["ws_connections"] += 1
    if query is None and rng.random() < 0.9:
        text = rng.choice(["0", "0", "0", "0", "0/rec,", "0/nope,", "0/refuse,", "0/locked,"])
        if rng.random() < 0.3:
            text += orjson.dumps({"token": token(rng)}).decode()
        if rng.random() < 0.2:
            text = sio_packet(rng)[0]
        connect = frame(("4" + text).encode(), TEXT, key=random_key(rng))
        if rng.random() < 0.3:
            plan.head += connect  # early data: the first frame in the opening's segment
        else:
            plan.chunks.append(connect)
        plan.counts["ws_frames"] += 1
    plan.stall = rng.random() < 0.1
    plan.answer_close = rng.random() < 0.5
    kinds, weights = list(WS_INPUTS), list(WS_INPUTS.values())
    for _ in range(rng.randint(1, 10)):
        kind = rng.choices(kinds, weights)[0]
        data, frames, ends = ws_input(rng, kind, max_payload)
        plan.chunks.append(data)
        plan.counts["ws_frames"] += frames
        plan.counts[f"ws_{kind}"] += 1
        if ends:
            plan.end = "fin" if kind != "close" or rng.random() < 0.5 else "wait"
            if kind == "truncated" and rng.random() < 0.3:
                plan.end = "rst"
            return plan
    plan.end = rng.choice(["fin", "fin", "rst", "close_frame", "cut"])
    if plan.end == "cut":
        plan.chunks.append(frame(b'42["echo","cut"]', TEXT, key=random_key(rng))[:5])
        plan.counts["ws_frames"] += 1
    elif plan.end == "close_frame":
        plan.chunks.append(frame(b"\x03\xe8", CLOSE, key=random_key(rng)))
        plan.counts["ws_frames"] += 1
    return plan


# HTTP/1.1 requests


METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "BREW", "G ET"]
PATHS = [
    "/",
    "/socket.io/",
    "/socket.io",
    "/socket.io//",
    "/health",
    "/ready",
    "/metrics",
    "/api/publish",
    "/api/stats",
    "/api/users/alice/emit",
    "/api/users/%2F%00%ff/emit",
    "/api/users//emit",
    "/api//publish",
    "*",
    "http://127.0.0.1/health",
    "/%",
    "/\u00e9",
    "/..%2f..%2fetc%2fpasswd",
    "/client/hub-client.js",
    "/client/../pyproject.toml",
    "/client/%2e%2e/hub-client.js",
    "/api/users/x/disconnect",
]


def random_query(rng: random.Random, sid: str | None = None) -> str:
    fields = []
    if rng.random() < 0.85:
        fields.append("EIO=" + rng.choice(["4", "4", "4", "3", "5", "", "x", "44", "4%00"]))
    if rng.random() < 0.85:
        transport = ["polling", "polling", "websocket", "flashsocket", "", "POLLING", "poll%ing"]
        fields.append("transport=" + rng.choice(transport))
    if rng.random() < 0.5:
        choices = [random_text(rng, 20).replace("&", "")]
        if sid:
            choices += [sid, sid, sid + "x", sid[:-1], sid.upper()]
        fields.append("sid=" + rng.choice(choices))
    if rng.random() < 0.2:
        fields.append(rng.choice(["t=Nx1", "b64=1", "sid=", "sid", "&&", "=", "%zz", "a=" * 50]))
    rng.shuffle(fields)
    return "&".join(fields)


def api_body(rng: random.Random, route: str = "publish") -> bytes:
    """A body for the API with the valid key: never one that reaches namespace "/".

    ``route``: publish (to "/fuzz", "/rec" or an unknown namespace), emit (a user event,
    to a namespace other than "/" or to every namespace of the user: the good clients
    have no user) or disconnect. Valid about half the time, then one field made wrong.
    """
    body: dict[str, Any]
    if route == "disconnect":
        body = {"namespace": rng.choice(["/rec", "/locked", "/nope", 5])}
        if rng.random() < 0.5:
            return b"" if rng.random() < 0.5 else orjson.dumps(body)
    elif route == "publish":
        body = {
            "event": rng.choice(["update", "tick", random_text(rng, 6)]),
            "namespace": rng.choice(["/fuzz", "/rec", "/rec"]),
            "data": json_value(rng),
        }
        if rng.random() < 0.5:
            body["room"] = rng.choice(["public:a", "public:b", "user:alice"])
    else:
        body = {
            "event": rng.choice(["progress", "job_done", random_text(rng, 6)]),
            "data": json_value(rng),
            "ttl": rng.choice([0.5, 1, 2]),
        }
        namespace = rng.choice(["/rec", "/locked", "/", None])
        if namespace is not None:
            body["namespace"] = namespace
        for name in rng.sample(["priority", "ack", "batch", "coalesce_key"], rng.randint(0, 2)):
            body[name] = {
                "priority": rng.choice(["low", "normal", "high", "critical"]),
                "ack": True,
                "batch": True,
                "coalesce_key": "k",
            }[name]
        if body.get("ack") and body.get("batch"):
            del body["batch"]
    if rng.random() < 0.5:
        # One field wrong: a bad value, a reserved event name, an unknown field, or
        # another namespace (never "/" for a publish).
        name = rng.choice([*body, random_text(rng, 5)])
        body[name] = rng.choice(
            [json_value(rng), "connect", "hub:batch", "/nope", "", -1, None, [1], {"a": 1}]
        )
        if route == "publish" and body.get("namespace") in ("/", None):
            body["namespace"] = "/nope"
    text = orjson.dumps(body)
    roll = rng.random()
    if roll < 0.15:
        text = text[: rng.randint(0, len(text) - 1)]
    elif roll < 0.25:
        text = rng.choice([b"{", b"nul", b"\xff\xfe", b"[1,]", b'{"event": NaN}', b"{}{}"])
    return text


def chunked(rng: random.Random, body: bytes) -> bytes:
    """``body`` in chunked transfer coding, well-formed or broken."""
    variant = rng.randrange(8)
    good = b"".join(
        b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:3], body[3:]) if part
    ) + (b"0\r\n\r\n")
    if variant < 3:
        return good
    return rng.choice(
        [
            b"zz\r\n" + body + b"\r\n0\r\n\r\n",  # not hex
            b"-5\r\nhello\r\n0\r\n\r\n",
            b"ffffffffffffffffff\r\n" + body,  # a chunk size overflowing 64 bits
            b"5\r\nhello" + b"0\r\n\r\n",  # CRLF missing after the data
            b"5;ext=" + b"e" * 100 + b"\r\nhello\r\n0\r\n\r\n",
            b"3\r\nhello\r\n0\r\n\r\n",  # the data longer than its size
            good[: len(good) // 2],
        ]
    )


def http_request(rng: random.Random, max_payload: int, sid: str | None = None) -> tuple[bytes, str]:
    """One raw request and its kind."""
    kind = rng.choices(
        [
            "random",
            "api",
            "ops",
            "engine",
            "upgrade_bad",
            "head_oversized",
            "body_oversized",
            "chunked",
            "smuggle",
            "preflight",
            "garbage",
        ],
        weights=[20, 12, 6, 15, 8, 4, 4, 8, 4, 4, 5],
    )[0]
    method, path, query = rng.choice(METHODS), rng.choice(PATHS), ""
    version = rng.choice(["HTTP/1.1"] * 12 + ["HTTP/1.0", "HTTP/2.0", "HTTP/1.1x", "", "HTTP/9"])
    headers: list[str] = ["Host: 127.0.0.1"] if rng.random() < 0.95 else []
    body = b""
    if kind == "garbage":
        return rng.randbytes(rng.randint(1, 400)), kind
    if kind == "random":
        if rng.random() < 0.5:
            query = random_query(rng, sid)
        for _ in range(rng.randint(0, 4)):
            headers.append(
                rng.choice(
                    [
                        f"{random_text(rng, 6).replace(':', '')}: {random_text(rng, 10)}",
                        "X-Fold: a\r\n  folded",
                        "NoColonHere",
                        ": empty-name",
                        "Content-Length: " + rng.choice(["5", "-1", "abc", "99999999999999999999"]),
                        "Connection: " + rng.choice(["close", "keep-alive", "Upgrade", "\x00"]),
                        "Upgrade: " + rng.choice(["websocket", "h2c", "WebSocket"]),
                        "Authorization: " + rng.choice(["Bearer", "Bearer  ", "Basic x", "x" * 50]),
                    ]
                )
            )
        if method in ("POST", "PUT", "PATCH") or rng.random() < 0.1:
            body = rng.randbytes(rng.randint(0, 200))
            headers.append(f"Content-Length: {len(body)}")
    elif kind == "api":
        route = rng.choice(["publish", "publish", "publish", "emit", "emit", "disconnect"])
        user = rng.choice([*USERS, random_text(rng, 5)])
        path = "/api/publish" if route == "publish" else f"/api/users/{user}/{route}"
        path = path.replace(" ", "%20").replace("?", "%3F").replace("#", "%23")
        method = rng.choice(["POST"] * 8 + ["GET", "PUT"])
        auth = rng.choice([API_KEY] * 6 + ["wrong-key", "", API_KEY + "x", API_KEY[:-1]])
        headers.append(f"Authorization: Bearer {auth}")
        if auth == API_KEY:
            body = api_body(rng, route)
        else:
            body = rng.choice([rng.randbytes(rng.randint(0, 80)), b'{"event":"tick","data":1}'])
        headers.append(f"Content-Length: {len(body)}")
        if rng.random() < 0.3:
            headers.append("Origin: " + rng.choice([ORIGIN_OK, "http://evil.example"]))
    elif kind == "ops":
        method = rng.choice(["GET", "HEAD", "GET", "POST", "DELETE"])
        path = rng.choice(["/health", "/ready", "/metrics", "/api/stats"])
        if rng.random() < 0.3:
            headers.append("Accept: application/openmetrics-text; version=1.0.0")
        if path == "/api/stats":
            headers.append(f"Authorization: Bearer {rng.choice([API_KEY, 'nope'])}")
    elif kind == "engine":
        path = rng.choice([ENGINE_PATH, ENGINE_PATH, "/socket.io", "/engine.io/"])
        method = rng.choice(["GET", "POST", "POST", "PUT", "OPTIONS", "HEAD"])
        query = random_query(rng, sid)
        if method == "POST":
            body = polling_body(rng, max_payload)
            headers.append(f"Content-Length: {len(body)}")
    elif kind == "upgrade_bad":
        method = rng.choice(["GET"] * 5 + ["POST", "HEAD"])
        path = rng.choice([ENGINE_PATH] * 4 + ["/health", "/api/publish", "/"])
        query = random_query(rng, sid)
        headers += ["Upgrade: websocket", "Connection: Upgrade"]
        version_header = rng.choice(["13", "13", "8", "", "thirteen"])
        if rng.random() < 0.85:
            headers.append(f"Sec-WebSocket-Version: {version_header}")
        if rng.random() < 0.8:
            headers.append("Sec-WebSocket-Key: " + rng.choice(["", "short", "a" * 24, "\xff"]))
        if rng.random() < 0.2:
            headers.remove("Connection: Upgrade")
    elif kind == "head_oversized":
        if rng.random() < 0.5:
            headers.append("X-Big: " + "b" * rng.randint(17_000, 40_000))
        else:
            headers += [f"X-H{i}: {'v' * 100}" for i in range(rng.randint(170, 400))]
        if rng.random() < 0.3:
            path = "/" + "p" * rng.randint(17_000, 30_000)
    elif kind == "body_oversized":
        method, path = "POST", rng.choice(["/api/publish", ENGINE_PATH])
        query = random_query(rng, sid) if path == ENGINE_PATH else ""
        headers.append(f"Authorization: Bearer {API_KEY}")
        size = max_payload + rng.randint(1, 10_000)
        if rng.random() < 0.5:
            headers.append(f"Content-Length: {size}")
            body = b"4" * rng.choice([0, 100, size])
        else:
            headers.append("Transfer-Encoding: chunked")
            body = b"%x\r\n%s\r\n0\r\n\r\n" % (size, b"4" * size)
    elif kind == "chunked":
        method = "POST"
        path = rng.choice(["/api/publish", ENGINE_PATH, "/health"])
        query = random_query(rng, sid) if path == ENGINE_PATH else ""
        headers.append("Transfer-Encoding: " + rng.choice(["chunked"] * 4 + ["gzip, chunked", "x"]))
        headers.append(f"Authorization: Bearer {rng.choice([API_KEY, 'nope'])}")
        inner = api_body(rng) if path == "/api/publish" else polling_body(rng, 200)
        body = chunked(rng, inner)
    elif kind == "smuggle":
        method, path = "POST", rng.choice(["/api/publish", "/health", ENGINE_PATH])
        body = b'{"event":"x","namespace":"/nope"}'
        headers += rng.choice(
            [
                ["Content-Length: 5", "Content-Length: 6"],
                ["Content-Length: 5", "Transfer-Encoding: chunked"],
                ["Content-Length:  +5"],
                ["Content-Length: 0x10"],
                ["Transfer-Encoding: chunked", "Transfer-Encoding: identity"],
                ["Transfer-Encoding:\tchunked"],
            ]
        )
    elif kind == "preflight":
        method = "OPTIONS"
        path = rng.choice([ENGINE_PATH, "/api/publish", "/health"])
        headers.append("Origin: " + rng.choice([ORIGIN_OK, "http://evil.example", "null", ""]))
        headers.append("Access-Control-Request-Method: " + rng.choice(["POST", "GET", "\x7f"]))
        if rng.random() < 0.5:
            headers.append("Access-Control-Request-Headers: " + random_text(rng, 30))
    target = path + ("?" + query if query else "")
    newline = "\r\n" if rng.random() < 0.95 else "\n"
    line = f"{method} {target} {version}".rstrip(" ") if version else f"{method} {target}"
    head = newline.join([line, *headers]) + newline + newline
    return head.encode("utf-8", "surrogatepass") + body, kind


def polling_body(rng: random.Random, max_payload: int) -> bytes:
    """A long-polling POST body: packets joined by \\x1e, binary ones as b<base64>."""
    roll = rng.random()
    if roll < 0.05:
        return rng.randbytes(rng.randint(0, 100))  # not UTF-8, most likely
    if roll < 0.08:
        return b"4" + b"z" * (max_payload + rng.randint(1, 1000))
    if roll < 0.12:
        return b"b" + rng.choice([b"!!", b"QQ=", b"QUJD", b"", b"====", b"QU JD"])
    parts: list[bytes] = []
    for _ in range(rng.randint(1, 4)):
        for message in eio_messages(rng):
            if isinstance(message, bytes):
                parts.append(b"b" + b64encode(message))
            else:
                parts.append(message.encode("utf-8", "surrogatepass"))
    return b"\x1e".join(parts)


def polling_request(
    method: str, sid: str | None, body: bytes = b"", *, query: str | None = None
) -> bytes:
    """A well-formed polling request (``Connection: close``) for session ``sid``."""
    if query is None:
        query = "EIO=4&transport=polling" + (f"&sid={sid}" if sid else "")
    head = f"{method} {ENGINE_PATH}?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if method == "POST":
        head += f"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def recovery_plan(
    rng: random.Random, max_payload: int, pid: str | None, offset: str | None
) -> WsPlan:
    """A WebSocket of namespace "/rec" (connection state recovery on).

    Without ``pid``: connect (maybe with a token), join rooms, linger for events, then
    vanish with a reset (a recoverable disconnect). With it: come back with that pid and
    offset, or a mangled, foreign or random one, then send random input.
    """
    plan = WsPlan(upgrade_head(rng))
    auth: dict[str, Any] = {}
    if rng.random() < 0.5:
        auth["token"] = token(rng)
    if pid is None:
        connect = "40/rec," + (orjson.dumps(auth).decode() if auth else "")
        plan.chunks.append(frame(connect.encode(), key=random_key(rng)))
        for room in rng.sample(["public:a", "public:b", "user:alice", "x"], 2):
            join = orjson.dumps(["join", room]).decode()
            plan.chunks.append(frame(f"42/rec,{join}".encode(), key=random_key(rng)))
        plan.counts["ws_frames"] += len(plan.chunks)
        plan.linger, plan.end = rng.uniform(0.05, 0.4), "rst"
        return plan
    auth["pid"] = rng.choice([pid, pid, pid + "x", "", None, 5, random_text(rng, 8)])
    auth["offset"] = rng.choice([offset, offset, None, "", "0-0", 7, random_text(rng, 10)])
    plan.chunks.append(frame(b"40/rec," + orjson.dumps(auth), key=random_key(rng)))
    plan.counts["ws_frames"] += 1
    kinds, weights = list(WS_INPUTS), list(WS_INPUTS.values())
    for _ in range(rng.randint(0, 4)):
        data, frames, ends = ws_input(rng, rng.choices(kinds, weights)[0], max_payload)
        plan.chunks.append(data)
        plan.counts["ws_frames"] += frames
        if ends:
            break
    plan.linger, plan.end = 0.1, rng.choice(["fin", "rst", "close_frame"])
    if plan.end == "close_frame":
        plan.chunks.append(frame(b"\x03\xe8", CLOSE, key=random_key(rng)))
    return plan
