"""Fuzzing a live hub: hostile input on every transport while good clients are served.

``test_live_fuzz``: 50 good clients (45 WebSocket, 5 long-polling) receive 500 numbered
broadcasts while 6 hostile connections at a time send 8,000 inputs drawn from a seeded
``random.Random`` (the generators are in ``fuzz_frames.py``): WebSocket frames of every
kind, Engine.IO / Socket.IO packets valid and not, JWTs (garbage, forged, signed), raw
HTTP requests, HTTP API calls, long-polling sessions fed random bodies and upgrades, and
recovery sessions cut off and resumed. The seed is random unless ``HUB_FUZZ_SEED`` is set
(it is printed, and in every assertion message); ``HUB_FUZZ_INPUTS`` and
``HUB_FUZZ_SECONDS`` (8,000 and 25 s: the fuzz stops at whichever comes first) make
longer runs. Afterwards the hub must still answer, every good client must have received
every broadcast once and in order, the error counters must show the garbage, nothing may
have logged a traceback, and the hub's tasks and file descriptors must come back to what
they were before the fuzz (see ``test_live_fuzz`` for the two baselines).

``test_random_packets_over_one_websocket``: hypothesis feeds random Engine.IO / Socket.IO
messages over one real WebSocket per example, a good client beside it.

The hub bugs the fuzz found have regression tests of their own below.
"""

from __future__ import annotations

import logging
import os
import random
import re
import socket
import struct
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jwt
import orjson
import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from trio_websocket import ConnectionClosed

from hub import ConnectRefused, Hub, Session
from hub.protocol.socketio import SioPacket, SioType
from hub.testing import TestClient, open_test_client, wait_until
from tests.conftest import StartHub
from tests.polling.wire import ENGINE, Http, Poller
from tests.security import fuzz_frames as ff

MAX_PAYLOAD = 64 * 1024
GOOD_WEBSOCKET, GOOD_POLLING = 45, 5
GOOD = GOOD_WEBSOCKET + GOOD_POLLING
EVENTS = 500
WORKERS = 6
INPUTS = int(os.environ.get("HUB_FUZZ_INPUTS", "8000"))
# The fuzz stops at INPUTS or after FUZZ_SECONDS, whichever comes first; the broadcasts
# are spread over PUBLISH_SECONDS.
FUZZ_SECONDS = float(os.environ.get("HUB_FUZZ_SECONDS", "25"))
PUBLISH_SECONDS = 10.0
# Close codes a hostile WebSocket may get: normal, parse error, bad UTF-8, too large.
CLOSE_CODES = {1000, 1002, 1007, 1009}


def fuzz_seed() -> int:
    text = os.environ.get("HUB_FUZZ_SEED")
    return int(text) if text else random.SystemRandom().randrange(2**32)


def fuzz_hub(**settings: Any) -> Hub:
    """The hub under fuzz: short timers, so abandoned sessions end within seconds."""
    settings = {
        "max_payload": MAX_PAYLOAD,
        "ping_interval": 2,
        "ping_timeout": 3,
        "connect_timeout": 5,
        "handshake_timeout": 2,
        "api_keys": (ff.API_KEY,),
        "cors_origins": (ff.ORIGIN_OK,),
        "outbox_bytes": 1024 * 1024,
        "jwt_secret": ff.JWT_SECRET,
        "jwt_leeway": 0,
        "namespace_access": (
            "/=public",
            "/rec=public",
            "/refuse=public",
            "/fuzz=public",
            "/locked=authenticated",
            "/staff=staff",
        ),
        "room_patterns": ("public:*", "user:{sub}"),
        # User emitters (the API's user events): every event done within seconds.
        "emitter_offline_ttl": 2,
        "emitter_ack_timeout": 1,
        "emitter_backoff_base": 0.1,
        "emitter_backoff_max": 0.5,
        "emitter_max_attempts": 2,
        "emitter_idle_reap": 1,
        **settings,
    }
    hub = Hub(**settings)

    async def echo(session: Session, *args: Any) -> tuple[Any, ...]:
        return args

    async def join(session: Session, room: Any = None, *_: Any) -> bool:
        if not isinstance(room, str) or not room:
            return False
        await session.enter(room)
        return True

    async def refuse(session: Session, auth: Any = None) -> None:
        raise ConnectRefused("go away", {"reason": "refused", "auth": auth})

    hub.namespace("/").on("echo")(echo)
    recovering = hub.namespace("/rec", recovery=30)
    recovering.on("echo")(echo)
    recovering.on("join")(join)
    hub.namespace("/refuse").on_connect(refuse)
    for name in ("/locked", "/staff"):
        hub.namespace(name).on("echo")(echo)
        hub.namespace(name).on("join")(join)
    hub.namespace("/fuzz")
    return hub


# What the fuzz must leave as it found


def task_count() -> int:
    """Every live trio task of this run (the hub's and the test's)."""
    return sum(1 for _ in _tasks(trio.lowlevel.current_root_task()))


def task_names() -> Counter[str]:
    return Counter(task.name for task in _tasks(trio.lowlevel.current_root_task()))


def _tasks(task: trio.lowlevel.Task) -> Iterator[trio.lowlevel.Task]:
    yield task
    for nursery in task.child_nurseries:
        for child in nursery.child_tasks:
            yield from _tasks(child)


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


async def settled() -> tuple[int, int]:
    """Tasks and fds once two readings 0.2 s apart agree (bounded)."""
    last = (task_count(), fd_count())
    with trio.move_on_after(5):
        while True:
            await trio.sleep(0.2)
            now = (task_count(), fd_count())
            if now == last:
                break
            last = now
    return last


async def back_to(baseline: tuple[int, int], before: Counter[str], timeout: float) -> None:
    """Wait until tasks and fds are back to ``baseline``; else fail naming the extra tasks."""
    try:
        await wait_until(lambda: (task_count(), fd_count()) == baseline, timeout, poll=0.1)
    except trio.TooSlowError:
        extra = task_names() - before
        missing = before - task_names()
        now = (task_count(), fd_count())
        raise AssertionError(
            f"(tasks, fds) {now} did not return to {baseline} within {timeout} s; "
            f"extra tasks {dict(extra)}, missing {dict(missing)}"
        ) from None


class Tracebacks(logging.Handler):
    """Records of the hub's logger that carry a traceback, or are CRITICAL."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.CRITICAL:
            self.records.append(record)

    def report(self) -> str:
        return "\n".join(self.format(record) for record in self.records[:5])


@contextmanager
def catching_tracebacks() -> Iterator[Tracebacks]:
    handler = Tracebacks()
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("hub")
    level = logger.level
    logger.setLevel(logging.ERROR)  # whatever another test left: errors must be seen
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# Good clients


async def good_websocket(
    port: int, seen: list[int], ready: trio.Semaphore, done: trio.Event
) -> None:
    async with open_test_client(port) as client:
        ready.release()
        while len(seen) < EVENTS:
            name, args = await client.next_event(timeout=60)
            assert name == "tick", (name, args)
            seen.append(args[0])
        await done.wait()


async def good_polling(port: int, seen: list[int], ready: trio.Semaphore, done: trio.Event) -> None:
    # Poller.open, with each socket closed even if the test is cancelled half-way.
    getter = await Http.open(port)
    try:
        poster = await Http.open(port)
    except BaseException:
        await getter.aclose()
        raise
    try:
        opening = await getter.request("GET", ENGINE)
        assert opening.status == 200 and opening.body.startswith(b"0"), opening
        poller = Poller(port, getter, poster, orjson.loads(opening.body[1:]))
        await poller.connect()

        async def poll() -> None:
            while True:
                for packet in await poller.get(timeout=30):
                    if packet == "2":
                        assert (await poller.post("3")).status == 200
                    elif packet != "6":
                        assert isinstance(packet, str) and packet.startswith("42["), packet
                        name, number = orjson.loads(packet[2:])
                        assert name == "tick", packet
                        seen.append(number)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(poll)
            ready.release()
            await done.wait()
            nursery.cancel_scope.cancel()
    finally:
        with trio.CancelScope(shield=True):  # aclose raises Cancelled once it has closed
            await getter.aclose()
            await poster.aclose()


# Hostile connections


class Tally:
    """What the hostile connections sent and got, for the report and the assertions."""

    def __init__(self, *parts: Tally) -> None:
        self.sent: Counter[str] = Counter()
        self.got: Counter[str] = Counter()
        self.close_codes: Counter[int] = Counter()
        self.statuses: Counter[int] = Counter()
        for part in parts:
            self.sent.update(part.sent)
            self.got.update(part.got)
            self.close_codes.update(part.close_codes)
            self.statuses.update(part.statuses)

    @property
    def inputs(self) -> int:
        return self.sent["ws_inputs"] + self.sent["http_requests"] + self.sent["polling_requests"]


ABORTED = (trio.BrokenResourceError, trio.ClosedResourceError, OSError)


def reset_on_close(stream: trio.SocketStream) -> None:
    """Make closing the stream send a TCP reset (SO_LINGER 0), not a FIN."""
    stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def run_websocket(port: int, tally: Tally, plan: ff.WsPlan) -> list[bytes]:
    """Write ``plan`` on a new connection while reading whatever comes back; returns
    the first text frames the server sent."""
    texts: list[bytes] = []
    tally.sent.update(plan.counts)
    tally.sent["ws_inputs"] += len(plan.chunks)
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    closed = trio.Event()
    frames = ff.ServerFrames()
    close_reply: list[bytes] = []
    written = trio.Event()

    async def read() -> None:
        try:
            if plan.stall:
                await written.wait()
            while data := await stream.receive_some(65536):
                tally.got["ws_bytes"] += len(data)
                for opcode, payload in frames.feed(data):
                    if opcode == ff.TEXT and len(texts) < 50:
                        texts.append(payload)
                    if opcode == ff.CLOSE:
                        code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                        tally.close_codes[code] += 1
                        if plan.answer_close:  # else just hang up
                            close_reply.append(ff.frame(payload[:2], ff.CLOSE))
                        return
        except ABORTED:
            pass
        finally:
            closed.set()

    async with stream, trio.open_nursery() as nursery:
        nursery.start_soon(read)
        try:
            await stream.send_all(plan.head)
            for chunk in plan.chunks:
                if closed.is_set():
                    break
                await stream.send_all(chunk)
            written.set()
            if plan.linger:
                with trio.move_on_after(plan.linger):
                    await closed.wait()
            if plan.end == "rst":
                reset_on_close(stream)
            else:
                if plan.end in ("fin", "cut"):
                    await stream.send_eof()
                with trio.move_on_after(1):
                    await closed.wait()
                if close_reply:
                    await stream.send_all(close_reply[0])
        except ABORTED:
            tally.got["ws_send_failed"] += 1
        written.set()
        nursery.cancel_scope.cancel()
    if not frames.head_done or b" 101 " not in frames.status:
        tally.got["ws_not_upgraded"] += 1
    return texts


async def run_recovery(port: int, rng: random.Random, tally: Tally) -> None:
    """A session of "/rec" cut off (a reset), then resumed with its pid and the offset
    of the last event it got, or with someone else's, a random one, another token."""
    first = ff.recovery_plan(rng, MAX_PAYLOAD, None, None)
    tally.sent["recovery_sessions"] += 1
    texts = await run_websocket(port, tally, first)
    pid = offset = None
    for text in texts:
        if text.startswith(b"40/rec,{"):
            pid = orjson.loads(text[len(b"40/rec,") :]).get("pid")
        elif text.startswith(b"42/rec,["):
            try:
                args = orjson.loads(text[len(b"42/rec,") :])
            except orjson.JSONDecodeError:
                continue
            if args and isinstance(args[-1], str):
                offset = args[-1]
    tally.got["recovery_pid_seen"] += pid is not None
    await run_websocket(port, tally, ff.recovery_plan(rng, MAX_PAYLOAD, pid, offset))


async def exchange(port: int, data: bytes, *, read_for: float, eof: bool = True) -> bytes:
    """Write ``data`` on a new connection; what came back until EOF or ``read_for``."""
    reply = b""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        try:
            await stream.send_all(data)
            if eof:
                await stream.send_eof()
            with trio.move_on_after(read_for):
                while chunk := await stream.receive_some(65536):
                    reply += chunk
        except ABORTED:
            pass
    return reply


def count_statuses(tally: Tally, reply: bytes) -> None:
    for match in re.finditer(rb"HTTP/1\.1 (\d{3}) ", reply):
        tally.statuses[int(match.group(1))] += 1


async def run_http(port: int, rng: random.Random, tally: Tally) -> None:
    """One connection of raw requests: pipelined, maybe truncated, maybe slow."""
    requests = [ff.http_request(rng, MAX_PAYLOAD) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
    for _, kind in requests:
        tally.sent[f"http_{kind}"] += 1
    tally.sent["http_requests"] += len(requests)
    tally.sent["http_connections"] += 1
    data = b"".join(request for request, _ in requests)
    mode = rng.choices(["eof", "idle", "truncated", "slow"], weights=[60, 25, 14, 1])[0]
    tally.sent[f"http_mode_{mode}"] += 1
    if mode == "truncated":
        data = data[: rng.randint(1, max(1, len(data) - 1))]
        reply = await exchange(port, data, read_for=0.3, eof=rng.random() < 0.5)
    elif mode == "slow":
        # Half a head, then nothing: the hub answers 408 after handshake_timeout.
        reply = await exchange(port, data[: len(data) // 2 or 1], read_for=3, eof=False)
    else:
        reply = await exchange(
            port, data, read_for=0.15 if mode == "idle" else 2, eof=mode == "eof"
        )
    count_statuses(tally, reply)


def upgrade_plan(rng: random.Random, sid: str) -> ff.WsPlan:
    """A WebSocket upgrading polling session ``sid``: probe, upgrade packet, then input."""
    plan = ff.ws_plan(rng, MAX_PAYLOAD, query=f"EIO=4&transport=websocket&sid={sid}")
    probe = b""
    if rng.random() < 0.8:
        probe += ff.frame(b"2probe", key=ff.random_key(rng))
        if rng.random() < 0.7:
            probe += ff.frame(b"5", key=ff.random_key(rng))
    if rng.random() < 0.3:
        plan.head += probe  # in the opening's own segment
    else:
        plan.chunks.insert(0, probe)
    return plan


SID = re.compile(rb'"sid":"([^"]+)"')


async def run_polling(port: int, rng: random.Random, tally: Tally) -> None:
    """A long-polling session fed random requests, maybe an upgrade, then ended or left."""

    async def request(data: bytes, read_for: float = 2) -> bytes:
        tally.sent["polling_requests"] += 1
        reply = await exchange(port, data, read_for=read_for, eof=False)
        count_statuses(tally, reply)
        return reply

    tally.sent["polling_sessions"] += 1
    found = SID.search(await request(ff.polling_request("GET", None)))
    if found is None:
        return
    sid = found.group(1).decode()
    if rng.random() < 0.8:
        await request(ff.polling_request("POST", sid, rng.choice([b"40", b"40/rec,", b"40\x1e2"])))
    for _ in range(rng.randint(1, 6)):
        action = rng.choices(
            [
                "post",
                "get",
                "double_get",
                "random",
                "bad_query",
                "upgrade",
                "double_upgrade",
                "slow_post",
            ],
            weights=[40, 15, 5, 20, 10, 10, 3, 1],
        )[0]
        tally.sent[f"polling_{action}"] += 1
        if action == "post":
            await request(ff.polling_request("POST", sid, ff.polling_body(rng, MAX_PAYLOAD)))
        elif action == "get":
            await request(ff.polling_request("GET", sid), read_for=0.15)
        elif action == "double_get":
            async with trio.open_nursery() as nursery:
                for _ in range(2):
                    nursery.start_soon(request, ff.polling_request("GET", sid), 0.15)
        elif action == "random":
            data, kind = ff.http_request(rng, MAX_PAYLOAD, sid=sid)
            tally.sent[f"http_{kind}"] += 1
            await request(data, read_for=0.15)
        elif action == "bad_query":
            method = rng.choice(["GET", "POST", "PUT"])
            query = ff.random_query(rng, sid)
            body = ff.polling_body(rng, 500) if method == "POST" else b""
            await request(ff.polling_request(method, sid, body, query=query), read_for=0.15)
        elif action == "slow_post":
            # A body that never finishes: 408 after handshake_timeout, and the session ends.
            body = ff.polling_request("POST", sid, b"42" + b"x" * 50)
            await request(body[:-20], read_for=3)
        else:
            plans = [upgrade_plan(rng, sid) for _ in range(2 if action == "double_upgrade" else 1)]
            async with trio.open_nursery() as nursery:
                for plan in plans:
                    nursery.start_soon(run_websocket, port, tally, plan)
    end = rng.choice(["close", "close", "garbage", "abandon"])
    tally.sent[f"polling_end_{end}"] += 1
    if end == "close":
        await request(ff.polling_request("POST", sid, b"1"))
    elif end == "garbage":
        await request(ff.polling_request("POST", sid, b"9garbage"))


async def hostile(port: int, rng: random.Random, tally: Tally, budget: int) -> None:
    """Hostile connections one after another until ``budget`` inputs are sent."""
    while tally.inputs < budget:
        kind = rng.choices(["websocket", "http", "polling", "recovery"], [45, 40, 15, 4])[0]
        began = trio.current_time()
        with trio.move_on_after(8) as scope:
            try:
                if kind == "websocket":
                    await run_websocket(port, tally, ff.ws_plan(rng, MAX_PAYLOAD))
                elif kind == "http":
                    await run_http(port, rng, tally)
                elif kind == "recovery":
                    await run_recovery(port, rng, tally)
                else:
                    await run_polling(port, rng, tally)
            except ABORTED:
                tally.got["connection_failed"] += 1
        if scope.cancelled_caught:
            tally.got["connection_timed_out"] += 1
        tally.got[f"time_ms_{kind}"] += int((trio.current_time() - began) * 1000)
        tally.got[f"runs_{kind}"] += 1


# The live fuzz


async def test_live_fuzz(start_hub: StartHub) -> None:
    seed = fuzz_seed()
    print(f"fuzz seed {seed} (replay with HUB_FUZZ_SEED={seed})")
    began = time.monotonic()
    hub, port = await start_hub(fuzz_hub())
    tallies = [Tally() for _ in range(WORKERS)]
    seen: list[list[int]] = [[] for _ in range(GOOD)]
    ready = trio.Semaphore(0)
    done = trio.Event()
    with catching_tracebacks() as tracebacks:
        # Baseline A: the hub alone, before any client.
        alone = await settled()
        alone_names = task_names()
        async with trio.open_nursery() as good:
            for index in range(GOOD):
                client = good_polling if index < GOOD_POLLING else good_websocket
                good.start_soon(client, port, seen[index], ready, done)
            with trio.fail_after(20):
                for _ in range(GOOD):
                    await ready.acquire()
            await wait_until(lambda: hub.stats().sessions["/"] == GOOD, 10)
            # Baseline B: the hub and its 50 good clients, connected and idle, before the
            # fuzz. The good clients keep the same tasks and sockets before and after it
            # (each waits for events, then for ``done``), so whatever the fuzz leaves
            # behind (a task, a socket, a session's timer) shows against this one.
            baseline = await settled()
            baseline_names = task_names()

            async def publish() -> None:
                interval = PUBLISH_SECONDS / EVENTS
                start = trio.current_time()
                for seq in range(EVENTS):
                    await trio.sleep_until(start + seq * interval)
                    published = hub.publish("tick", seq)
                    assert published.recipients >= GOOD, (seq, published)

            fuzz_began = time.monotonic()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(publish)
                with trio.move_on_after(FUZZ_SECONDS):
                    async with trio.open_nursery() as fuzzers:
                        for worker, part in enumerate(tallies):
                            rng = random.Random(f"{seed}-{worker}")
                            fuzzers.start_soon(hostile, port, rng, part, INPUTS // WORKERS)
                fuzz_time = time.monotonic() - fuzz_began
            tally = Tally(*tallies)
            assert not tracebacks.records, (seed, tracebacks.report())

            # Nothing lost: every good client got every broadcast, once, in order.
            await wait_until(lambda: all(len(s) >= EVENTS for s in seen), 30)
            for index, numbers in enumerate(seen):
                assert numbers == list(range(EVENTS)), (seed, index, numbers[:20])

            # The hub still answers: a new client gets its ack, /health says ok.
            http = await Http.open(port)
            try:
                health = await http.request("GET", "/health")
            finally:
                await http.aclose()
            assert (health.status, health.json()) == (200, {"status": "ok"}), (seed, health)
            async with open_test_client(port) as fresh:
                assert await fresh.call("echo", "alive") == ["alive"], seed

            # Nothing left behind: back to baseline B (the good clients still connected).
            await back_to(baseline, baseline_names, 20)
            settle_time = time.monotonic() - fuzz_began - fuzz_time
            done.set()
        await wait_until(lambda: hub.stats().connections == 0, 10)
        # And once the good clients are gone, back to baseline A.
        await back_to(alone, alone_names, 10)

    stats = hub.stats()
    summary = {
        "seed": seed,
        "inputs": tally.inputs,
        "fuzz_seconds": round(fuzz_time, 1),
        "settle_seconds": round(settle_time, 1),
        "total_seconds": round(time.monotonic() - began, 1),
        "sent": dict(sorted(tally.sent.items())),
        "got": dict(tally.got),
        "close_codes": dict(tally.close_codes),
        "statuses": dict(sorted(tally.statuses.items())),
        "errors": stats.errors,
        "disconnects": stats.disconnects,
        "recovered": stats.recovered,
        "user_events": {"delivered": stats.emitter.delivered, "expired": stats.emitter.expired},
    }
    print(orjson.dumps(summary, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())
    assert not tracebacks.records, (seed, tracebacks.report())
    assert stats.errors.get("internal", 0) == 0, (seed, stats.errors)
    assert set(tally.close_codes) <= CLOSE_CODES, (seed, tally.close_codes)
    assert 500 not in tally.statuses, (seed, tally.statuses)
    # The hub saw the garbage and counted it, by kind (a group: any of its kinds).
    for kinds in (
        ("protocol",),  # bad Engine.IO / Socket.IO packets and frames
        ("payload_too_large",),  # over max_payload, on WebSocket or HTTP
        ("bad_request",),  # Engine.IO refusals: path, EIO, transport, sid, method
        ("bad_request_head",),  # HTTP that httptools refuses, 408s and 431s
        ("http_not_found", "http_method_not_allowed"),
        ("http_unauthorized",),
        ("http_bad_json", "http_invalid_body", "http_bad_body"),
        ("invalid_namespace",),
        ("invalid_token", "token_required"),
    ):
        assert any(stats.errors.get(kind, 0) > 0 for kind in kinds), (seed, kinds, stats.errors)
    assert stats.disconnects.get("parse error", 0) > 0, (seed, stats.disconnects)
    assert tally.inputs >= min(INPUTS, 1000), (seed, tally.inputs)


# Hub bugs the fuzz found (fixed in 66da1b2), kept as regression tests


async def test_signed_token_with_a_huge_exp_is_refused(start_hub: StartHub) -> None:
    """An exp that does not fit a float (10**400) was an OverflowError in
    ``TokenVerifier._claims``: an 'internal' error with a traceback, and a 1001 close
    instead of a connect_error."""
    hub, port = await start_hub(fuzz_hub())
    token = jwt.encode({"sub": "alice", "exp": 10**400}, ff.JWT_SECRET, algorithm="HS256")
    with catching_tracebacks() as tracebacks:
        async with open_test_client(port, connect=None) as client:
            with pytest.raises(ConnectRefused):
                await client.connect("/", {"token": token}, timeout=2)
    assert not tracebacks.records, tracebacks.report()
    assert "internal" not in hub.stats().errors


async def test_nothing_is_kept_for_ended_sessions_with_expiring_tokens(
    start_hub: StartHub,
) -> None:
    """The expiry watch kept an entry per session that connected with an expiring token,
    and its task, until the token's exp, long after the session ended: memory grew with
    every reconnect for the token's lifetime."""
    hub, port = await start_hub(fuzz_hub())
    baseline = await settled()
    names = task_names()
    token = jwt.encode({"sub": "alice", "exp": time.time() + 3600}, ff.JWT_SECRET, "HS256")
    for _ in range(3):
        async with open_test_client(port, auth={"token": token}) as client:
            assert await client.call("echo", "hi") == ["hi"]
    await wait_until(lambda: hub.stats().connections == 0)
    await back_to(baseline, names, 2)


async def test_refresh_with_extra_arguments_is_refused_quietly(start_hub: StartHub) -> None:
    """The built-in 'hub:refresh' took one argument: an event with more
    ('42["hub:refresh",1,2]', no token needed) was a TypeError, logged with a traceback
    as a failed handler, every time."""
    hub, port = await start_hub(fuzz_hub())
    with catching_tracebacks() as tracebacks:
        async with open_test_client(port) as client:
            await client.send_raw('42999["hub:refresh",1,2]')
            assert await client.call("echo", "after") == ["after"]
    assert not tracebacks.records, tracebacks.report()
    assert "handler" not in hub.stats().errors


# Hypothesis: random packets over one real WebSocket per example

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)
placeholders = st.fixed_dictionaries(
    {"_placeholder": st.just(True), "num": st.integers(-1, 3) | st.text(max_size=1)}
)


@st.composite
def sio_packets(draw: st.DrawFn) -> str:
    """Socket.IO packet text: type, attachment count, namespace, ack id, payload."""
    head = draw(st.sampled_from("0123456") | st.text(max_size=1))
    if head in ("5", "6"):
        head += draw(st.sampled_from(["0", "1", "2", "", "x", "1001"])) + "-"
    namespace = draw(st.none() | st.sampled_from(["/", "/rec", "/locked", "/nope"]) | st.text())
    if namespace is not None:
        head += namespace + draw(st.sampled_from([",", ""]))
    ack = draw(st.none() | st.integers(0, 10**20))
    if ack is not None:
        head += str(ack)
    payload = draw(
        st.none()
        | st.builds(
            lambda name, args: [name, *args],
            st.sampled_from(["echo", "join", "nope", "connect", ""]) | st.text(max_size=5),
            st.lists(json_values | placeholders, max_size=3),
        )
        | json_values
        | st.text(max_size=10)
    )
    if payload is None:
        return head
    if isinstance(payload, str) and draw(st.booleans()):
        return head + payload  # raw text where JSON belongs
    return head + orjson.dumps(payload).decode()


valid_events = st.builds(
    lambda namespace, ack, name, args: f"42{namespace}{ack}" + orjson.dumps([name, *args]).decode(),
    st.sampled_from(["", "", "/rec,", "/locked,"]),
    st.sampled_from(["", "", "7", "123456789012345"]),
    st.sampled_from(["echo", "join", "nope", "hub:refresh"]),
    st.lists(json_values, max_size=2),
)
engineio_messages = st.one_of(
    valid_events,
    st.sampled_from(["3", "6", "40/rec,", "41/rec,", "40/nope,", "40/locked,"]),
    sio_packets().map(lambda text: "4" + text),
    st.sampled_from(["2", "2probe", "3", "3probe", "5", "6", "1", "0", "", "4", "40", "41"]),
    st.text(max_size=12),
    st.binary(max_size=12),
)


@settings(
    max_examples=int(os.environ.get("HUB_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(messages=st.lists(engineio_messages, min_size=1, max_size=6))
async def test_random_packets_over_one_websocket(messages: list[str | bytes]) -> None:
    """Whatever one connection sends, the hub answers or closes it with a fitting code
    and leaves no task or fd behind; a good client beside it keeps receiving, and a new
    client is served. One hub per example."""
    hub = fuzz_hub()
    with catching_tracebacks() as tracebacks:
        async with trio.open_nursery() as nursery:
            port = await nursery.start(hub.serve, "127.0.0.1", 0)
            async with open_test_client(port) as good:
                await trio.testing.wait_all_tasks_blocked(0.01)
                baseline, names = (task_count(), fd_count()), task_names()
                async with open_test_client(port) as bad:
                    outcome = await feed(bad, messages)
                    event(outcome)
                    if outcome == "closed":
                        assert bad.ws.closed is not None
                        assert bad.ws.closed.code in CLOSE_CODES, (messages, bad.ws.closed)
                    assert hub.publish("tick", 1).recipients >= 1
                    assert await good.next_event() == ("tick", [1]), messages
                await back_to(baseline, names, 5)
                assert await good.call("echo", "ok") == ["ok"], messages
            async with open_test_client(port) as fresh:
                assert await fresh.call("echo", "alive") == ["alive"], messages
            nursery.cancel_scope.cancel()
    assert not tracebacks.records, (messages, tracebacks.report())
    assert hub.stats().errors.get("internal", 0) == 0, (messages, hub.stats().errors)


SENTINEL = 987_654_321


async def feed(bad: TestClient, messages: list[str | bytes]) -> str:
    """Send ``messages``, then an EVENT asking an ack: "acked" once the hub has dealt
    with all of them and kept the connection, "closed" if it closed it."""
    try:
        for message in messages:
            await bad.send_raw(message)
        await bad.send_packet(SioPacket(SioType.EVENT, "/", ["echo", "sentinel"], SENTINEL))
    except ConnectionClosed:
        pass

    def settled() -> bool:
        acked = any(p.is_ack and p.id == SENTINEL for p in bad.received)
        return acked or bad.ws.closed is not None

    await wait_until(settled, 5)
    return "closed" if bad.ws.closed is not None else "acked"
