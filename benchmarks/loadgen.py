"""The fan-out load: N subscribers in one room, one publisher, measured end to end.

Everything runs on one asyncio loop in the benchmark's own process (pinned to a CPU the
server does not use). Subscribers stamp receive times with ``time.monotonic_ns()``; the
publisher stamps send times with the same clock, which is system-wide, so the difference
is the one-way latency through the server.

How subscribers connect (``connect``: WebSocket by default, or ``pollwire.connect`` for
long-polling) and how the publisher publishes (``open_publisher``: the Socket.IO
``publish`` event by default, or HTTP POSTs) are parameters of ``FanoutLoad``; the
phases and the measurements are the same for every combination.
"""

from __future__ import annotations

import asyncio
import time
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import orjson
import procs
import wire
from publishers import Publisher, PublishRefused, SocketPublisher
from sioclient import EventHandler, SioClient, WireError

ROOM = "bench"
EVENT = "tick"
# Warm-up publishes use seqs far below zero so they can never be mistaken for measured ones.
WARMUP_SEQ_OFFSET = -1_000_000_000
_MAX_EVENTS = 10_000_000  # hard cap on publishes per phase, whatever the rate
_SETTLE_SECONDS = 1.0


class ServerProbe(Protocol):
    """What the load needs to know about the server process."""

    def cpu_seconds(self) -> float: ...

    def rss_kib(self) -> int: ...


# Opens one subscriber connection (host, port, handler of its events): a
# ``wire.SioConnection`` or a ``pollwire.PollingConnection``.
Connector = Callable[[str, int, EventHandler], Awaitable[SioClient]]
# Opens the publisher (host, port).
PublisherFactory = Callable[[str, int], Awaitable[Publisher]]


@dataclass(frozen=True)
class LoadConfig:
    subscribers: int
    rate: float | None  # publishes per second; None means as fast as the server allows
    duration: float  # measured seconds at most
    window: int = 8  # publishes awaiting their ack
    max_lag: int = 32  # publishes not yet delivered to every subscriber; 0 disables
    batch: int = 100  # subscribers connecting concurrently
    warmup: float = 1.0
    timeout: float = 10.0  # per connect / join / ack wait
    drain_timeout: float = 15.0  # cap on waiting for in-flight deliveries after publishing
    idle_timeout: float = 2.0  # stop draining once nothing arrived for this long
    count: int | None = None  # measured publishes at most (None: as many as time allows)
    transport: str = "websocket"  # how the subscribers are connected, for the report
    name: str = ""  # the scenario's name, prefixed to the label

    @property
    def label(self) -> str:
        parts = [self.name] if self.name else []
        parts.append("rate max" if self.rate is None else f"rate {self.rate:g}/s")
        if self.count is not None:
            parts.append(f"{self.count} publishes")
        return ", ".join(parts)


class Deliveries:
    """Counters shared by all subscribers; updated on the hot path, so kept flat."""

    def __init__(self) -> None:
        self.latencies: array[int] = array("q")
        self.count = 0  # measured deliveries (seq >= 0)
        self.warmup = 0
        self.out_of_order = 0  # seq not above the previous one on the same connection
        self.gaps = 0  # seqs skipped on a connection (lost, or overtaken)
        self.malformed = 0
        self.last_ns = 0
        self.per_seq: dict[int, int] = {}
        self.target = 0  # open subscribers, i.e. deliveries that complete one publish
        # Publishing lanes (see ``Publisher.lanes``): order is checked within each; with
        # more than one, seqs within a lane are not consecutive, so gaps are not counted.
        self.lanes = 1
        self.waiting_seq: int | None = None
        self._waiter: asyncio.Future[None] | None = None

    def wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def complete(self, seq: int) -> bool:
        return self.per_seq.get(seq, 0) >= self.target

    async def wait_complete(self, seq: int, timeout: float) -> bool:
        """Wait until every open subscriber has ``seq``; False if ``timeout`` ran out."""
        if self.complete(seq):
            return True
        self.waiting_seq = seq
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(self._waiter, timeout)
        except TimeoutError:
            return self.complete(seq)
        finally:
            self.waiting_seq = None
            self._waiter = None
        return True

    def subscriber_lost(self) -> None:
        self.target -= 1
        if self.waiting_seq is not None and self.complete(self.waiting_seq):
            self.wake()


class Subscriber:
    """One subscriber's view: counts, order checks and latency of every tick it receives."""

    __slots__ = ("conn", "d", "last_seq", "received")

    def __init__(self, deliveries: Deliveries) -> None:
        self.d = deliveries
        self.conn: SioClient | None = None
        self.last_seq = [-1] * deliveries.lanes  # per publishing lane
        self.received = 0

    def on_event(self, body: bytes, now_ns: int) -> None:
        d = self.d
        try:
            event, data = orjson.loads(body)
            seq = data["seq"]
            sent_ns = data["t"]
        except (ValueError, TypeError, KeyError):
            d.malformed += 1
            return
        if event != EVENT or type(seq) is not int or type(sent_ns) is not int:
            d.malformed += 1
            return
        count = d.per_seq.get(seq, 0) + 1
        d.per_seq[seq] = count
        if count >= d.target and seq == d.waiting_seq:
            d.wake()
        if seq < 0:
            d.warmup += 1
            return
        d.count += 1
        d.last_ns = now_ns
        d.latencies.append(now_ns - sent_ns)
        self.received += 1
        if d.lanes == 1:
            last = self.last_seq[0]
            if seq <= last:
                d.out_of_order += 1
                return
            if seq != last + 1:
                d.gaps += seq - last - 1
            self.last_seq[0] = seq
            return
        lane = data.get("lane")
        if type(lane) is not int or not 0 <= lane < d.lanes:
            d.malformed += 1
            return
        if seq <= self.last_seq[lane]:
            d.out_of_order += 1
            return
        self.last_seq[lane] = seq


@dataclass
class PublishStats:
    published: int = 0
    acked: int = 0
    ack_errors: int = 0
    ack_error_samples: list[str] = field(default_factory=list)
    recipients_total: int = 0
    recipient_mismatches: int = 0
    ack_timeouts: int = 0
    lag_stalls: int = 0
    ack_latencies: array[int] = field(default_factory=lambda: array("q"))
    last_reply_ns: int = 0

    def error(self, message: str) -> None:
        self.ack_errors += 1
        if len(self.ack_error_samples) < 5:
            self.ack_error_samples.append(message[:200])


@dataclass
class RunResult:
    server: str
    scenario: str
    subscribers: int
    transport: str = "websocket"
    publish_via: str = ""
    connected: int = 0
    connect_failures: dict[str, int] = field(default_factory=dict)
    connect_seconds: float = 0.0
    published: int = 0
    acked: int = 0
    ack_errors: int = 0
    ack_error_samples: list[str] = field(default_factory=list)
    ack_timeouts: int = 0
    recipients_total: int = 0
    recipient_mismatches: int = 0
    lag_stalls: int = 0
    expected: int = 0
    deliveries: int = 0
    window_seconds: float = 0.0
    deliveries_per_s: float = 0.0
    # From the first publish to the last reply: how fast publishes were taken.
    publish_seconds: float = 0.0
    publishes_per_s: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    ack_latency_ms: dict[str, float] = field(default_factory=dict)
    server_cpu_seconds: float = 0.0
    server_cpu_us_per_delivery: float = 0.0
    server_cpu_us_per_publish: float = 0.0
    rss_before_kib: int = 0
    rss_idle_kib: int = 0
    rss_after_kib: int = 0
    generator_cpu_pct: float = 0.0
    # How busy each core was in the window, whoever used it: shows a noisy neighbour.
    server_core_busy_pct: float = 0.0
    server_core_softirq_pct: float = 0.0
    generator_core_busy_pct: float = 0.0
    generator_core_softirq_pct: float = 0.0
    out_of_order: int = 0
    gaps: int = 0
    malformed: int = 0
    unexpected_packets: int = 0
    short_subscribers: int = 0  # got fewer measured deliveries than were published
    stalled_subscribers: int = 0  # ...and stopped before the last publish
    disconnects: dict[str, int] = field(default_factory=dict)
    pings_answered: int = 0
    notes: list[str] = field(default_factory=list)
    # Filled in by the caller, which owns the server process.
    server_pid: int = 0
    server_affinity: list[int] = field(default_factory=list)
    shutdown: str = ""
    server_log_problems: list[str] = field(default_factory=list)

    @property
    def delivery_ratio(self) -> float:
        return self.deliveries / self.expected if self.expected else 0.0

    @property
    def server_cpu_pct(self) -> float:
        return 100 * self.server_cpu_seconds / self.window_seconds if self.window_seconds else 0.0

    @property
    def rss_per_conn_kib(self) -> float:
        return (self.rss_idle_kib - self.rss_before_kib) / self.connected if self.connected else 0.0


def percentiles_ms(samples: array[int], points: tuple[float, ...]) -> dict[str, float]:
    """Nearest-rank percentiles of nanosecond samples, in milliseconds, plus the max."""
    if not samples:
        return {}
    ordered = sorted(samples)
    last = len(ordered) - 1
    result = {f"p{p:g}": ordered[min(last, round(p / 100 * last))] / 1e6 for p in points}
    result["max"] = ordered[last] / 1e6
    return result


def _single_reply(ack: object) -> dict[str, Any] | None:
    """The one object an ack should carry, or None if it carries anything else."""
    if isinstance(ack, list) and len(ack) == 1 and isinstance(ack[0], dict):
        return ack[0]
    return None


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:120] if text else type(exc).__name__


async def websocket_publisher(host: str, port: int) -> Publisher:
    """The default publisher: the ``publish`` event on its own WebSocket connection."""
    return SocketPublisher(await wire.connect(host, port))


class FanoutLoad:
    """One measured run: connect, warm up, publish for ``duration``, drain, report."""

    def __init__(
        self,
        host: str,
        port: int,
        cfg: LoadConfig,
        probe: ServerProbe,
        cores: tuple[int, int],
        connect: Connector = wire.connect,
        open_publisher: PublisherFactory = websocket_publisher,
    ) -> None:
        self.host = host
        self.port = port
        self.cfg = cfg
        self.probe = probe
        self.cores = cores  # (server's CPU, generator's CPU)
        self.connect = connect
        self.open_publisher = open_publisher
        self.d = Deliveries()
        self.subscribers: list[Subscriber] = []
        self.publisher: Publisher | None = None
        self.shape_notes: Counter[str] = Counter()

    async def run(self, server_name: str) -> RunResult:
        cfg = self.cfg
        result = RunResult(
            server=server_name,
            scenario=cfg.label,
            subscribers=cfg.subscribers,
            transport=cfg.transport,
        )
        # The publisher connects first so that whatever a server sets up lazily on its
        # first connection (imports, buffers) is in the baseline, not in the per-connection
        # figure.
        self.publisher = await asyncio.wait_for(
            self.open_publisher(self.host, self.port), cfg.timeout
        )
        result.publish_via = self.publisher.via
        self.d.lanes = self.publisher.lanes
        await asyncio.sleep(_SETTLE_SECONDS)
        result.rss_before_kib = self.probe.rss_kib()
        await self._connect_all(result)
        await asyncio.sleep(_SETTLE_SECONDS)  # let per-connection allocations settle
        result.rss_idle_kib = self.probe.rss_kib()
        if not self.subscribers:
            result.notes.append("no subscriber connected; nothing measured")
            return result
        if cfg.warmup > 0:
            warm = await self._publish(cfg.warmup, WARMUP_SEQ_OFFSET)
            await self._drain(lambda: self.d.warmup, warm.published * self.d.target)
        await self._measure(result)
        result.rss_after_kib = self.probe.rss_kib()
        self._collect_connection_health(result)
        return result

    def close(self) -> None:
        """Drop every connection (teardown; the server is expected to cope)."""
        for sub in self.subscribers:
            if sub.conn is not None:
                sub.conn.close()
        if self.publisher is not None:
            self.publisher.close()

    # -- phases -----------------------------------------------------------------------

    async def _connect_all(self, result: RunResult) -> None:
        failures: Counter[str] = Counter()
        started = time.monotonic()
        total, batch = self.cfg.subscribers, max(1, self.cfg.batch)
        for first in range(0, total, batch):
            size = min(batch, total - first)
            outcomes = await asyncio.gather(
                *(self._open_subscriber() for _ in range(size)), return_exceptions=True
            )
            for outcome in outcomes:
                if isinstance(outcome, Subscriber):
                    self.subscribers.append(outcome)
                else:
                    failures[_reason(outcome)] += 1
        result.connect_seconds = time.monotonic() - started
        result.connected = len(self.subscribers)
        result.connect_failures = dict(failures)
        self.d.target = len(self.subscribers)
        for sub in self.subscribers:
            assert sub.conn is not None
            sub.conn.closed.add_done_callback(lambda _f: self.d.subscriber_lost())

    async def _open_subscriber(self) -> Subscriber:
        sub = Subscriber(self.d)
        conn = await asyncio.wait_for(
            self.connect(self.host, self.port, sub.on_event), self.cfg.timeout
        )
        sub.conn = conn
        try:
            ack = await asyncio.wait_for(conn.emit("join", ROOM), self.cfg.timeout)
        except BaseException:
            conn.close()
            raise
        reply = _single_reply(ack)
        if reply is None or reply.get("ok") is not True:
            conn.close()
            raise WireError(f"join refused: {ack!r}")
        # The hub also echoes the room.
        self._check_shape("join", reply, frozenset({"ok"}), frozenset({"room"}))
        return sub

    def _check_shape(
        self,
        event: str,
        reply: dict[str, Any],
        keys: frozenset[str],
        optional: frozenset[str] = frozenset(),
    ) -> None:
        # Extra or missing keys are tolerated but reported: they are contract drift.
        if not keys <= reply.keys() <= keys | optional:
            note = f"{event} reply has keys {sorted(reply)}, expected {sorted(keys)}"
            self.shape_notes[note] += 1

    async def _measure(self, result: RunResult) -> None:
        gen_cpu0, srv_cpu0 = time.process_time(), self.probe.cpu_seconds()
        core0 = [procs.core_ticks(cpu) for cpu in self.cores]
        t0 = time.monotonic_ns()
        stats = await self._publish(self.cfg.duration, 0, self.cfg.count)
        published_ns, gen_cpu1 = time.monotonic_ns(), time.process_time()
        core1 = [procs.core_ticks(cpu) for cpu in self.cores]
        server_core, generator_core = (
            after.percent_since(before) for before, after in zip(core0, core1, strict=True)
        )
        result.server_core_busy_pct, result.server_core_softirq_pct = server_core
        result.generator_core_busy_pct, result.generator_core_softirq_pct = generator_core
        # Against everyone who joined: a subscriber the server dropped still counts as lost.
        expected = stats.published * len(self.subscribers)
        await self._drain(lambda: self.d.count, expected)
        srv_cpu1 = self.probe.cpu_seconds()

        result.expected = expected
        result.deliveries = self.d.count
        end_ns = max(published_ns, self.d.last_ns)
        result.window_seconds = (end_ns - t0) / 1e9
        result.deliveries_per_s = self.d.count / result.window_seconds
        result.server_cpu_seconds = srv_cpu1 - srv_cpu0
        if self.d.count:
            result.server_cpu_us_per_delivery = result.server_cpu_seconds * 1e6 / self.d.count
        if stats.published:
            result.server_cpu_us_per_publish = result.server_cpu_seconds * 1e6 / stats.published
        if stats.last_reply_ns > t0:
            result.publish_seconds = (stats.last_reply_ns - t0) / 1e9
            result.publishes_per_s = stats.acked / result.publish_seconds
        # Over the publishing phase only: that is when a saturated generator would distort.
        result.generator_cpu_pct = 100 * (gen_cpu1 - gen_cpu0) / ((published_ns - t0) / 1e9)
        result.latency_ms = percentiles_ms(self.d.latencies, (50, 95, 99))
        result.ack_latency_ms = percentiles_ms(stats.ack_latencies, (50, 99))
        for name in (
            "published",
            "acked",
            "ack_errors",
            "ack_error_samples",
            "ack_timeouts",
            "recipients_total",
            "recipient_mismatches",
            "lag_stalls",
        ):
            setattr(result, name, getattr(stats, name))

    async def _publish(
        self, seconds: float, seq_offset: int, count: int | None = None
    ) -> PublishStats:
        """Publish for ``seconds`` (and at most ``count`` times) at the configured rate, or
        as fast as flow control allows.

        Two bounds keep "max" a measure of the server rather than of a queue: at most
        ``window`` publishes wait for their ack, and (since a server may ack before it has
        delivered) at most ``max_lag`` publishes may be missing from some subscriber.
        """
        cfg, stats, publisher = self.cfg, PublishStats(), self.publisher
        assert publisher is not None
        window = asyncio.Semaphore(cfg.window)
        pending: set[asyncio.Future[Any]] = set()
        started = time.monotonic()
        deadline = started + seconds
        limit = _MAX_EVENTS if cfg.rate is None else int(seconds * cfg.rate) + 1
        if count is not None:
            limit = min(limit, count)
        for n in range(limit):
            if cfg.rate is not None:
                due = started + n / cfg.rate
                if due >= deadline:
                    break
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            elif time.monotonic() >= deadline:
                break
            if not await self._flow_control(window, stats, seq_offset + n - cfg.max_lag, n):
                break
            sent_ns = time.monotonic_ns()
            data = {"t": sent_ns, "seq": seq_offset + n}
            fut = publisher.publish(ROOM, EVENT, data)
            stats.published += 1
            pending.add(fut)
            fut.add_done_callback(partial(self._on_ack, window, stats, pending, sent_ns))
        if pending:
            await asyncio.wait(set(pending), timeout=cfg.timeout)
        if cfg.rate is not None and count is None:
            # A paced phase lasts its full length, so deliveries/s comes out as rate x N.
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        return stats

    async def _flow_control(
        self, window: asyncio.Semaphore, stats: PublishStats, lag_seq: int, n: int
    ) -> bool:
        """Wait for an ack slot and for delivery lag; False means give up publishing."""
        try:
            await asyncio.wait_for(window.acquire(), self.cfg.timeout)
        except TimeoutError:
            stats.ack_timeouts += 1
            return False
        lagging = self.cfg.max_lag and n >= self.cfg.max_lag
        # A lost delivery would block forever; a stall is counted and we move on.
        if lagging and not await self.d.wait_complete(lag_seq, 1.0):
            stats.lag_stalls += 1
        assert self.publisher is not None
        return self.publisher.is_open

    def _on_ack(
        self,
        window: asyncio.Semaphore,
        stats: PublishStats,
        pending: set[asyncio.Future[Any]],
        sent_ns: int,
        fut: asyncio.Future[Any],
    ) -> None:
        window.release()
        pending.discard(fut)
        if fut.cancelled():
            stats.error("ack cancelled")
            return
        exc = fut.exception()
        if exc is not None:
            stats.error(_reason(exc))
            return
        now_ns = time.monotonic_ns()
        stats.ack_latencies.append(now_ns - sent_ns)
        stats.last_reply_ns = now_ns
        assert self.publisher is not None
        try:
            reply = self.publisher.parse_reply(fut.result())
        except PublishRefused as exc:
            stats.error(str(exc))
            return
        self._check_shape("publish", reply, self.publisher.reply_keys, self.publisher.optional_keys)
        stats.acked += 1
        recipients = reply.get("recipients")
        if isinstance(recipients, int):
            stats.recipients_total += recipients
        if recipients != self.d.target:
            stats.recipient_mismatches += 1

    async def _drain(self, progress: Callable[[], int], expected: int) -> None:
        """Wait for in-flight deliveries: until all arrived, or none for ``idle_timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.cfg.drain_timeout
        last_count, last_change = progress(), loop.time()
        while loop.time() < deadline and progress() < expected:
            await asyncio.sleep(0.005)
            if progress() != last_count:
                last_count, last_change = progress(), loop.time()
            elif loop.time() - last_change > self.cfg.idle_timeout:
                break

    def _collect_connection_health(self, result: RunResult) -> None:
        disconnects: Counter[str] = Counter()
        for sub in self.subscribers:
            assert sub.conn is not None
            result.unexpected_packets += sub.conn.unexpected
            result.pings_answered += sub.conn.pings
            if not sub.conn.is_open:
                disconnects[sub.conn.closed.result()[:120]] += 1
            if sub.received < result.published:
                result.short_subscribers += 1
                if max(sub.last_seq) < result.published - 1:
                    result.stalled_subscribers += 1
        if self.publisher is not None and not self.publisher.is_open:
            disconnects["publisher: " + self.publisher.describe_closed()[:100]] += 1
        result.disconnects = dict(disconnects)
        result.notes.extend(f"{n} x {what}" for what, n in self.shape_notes.items())
        result.out_of_order = self.d.out_of_order
        result.gaps = self.d.gaps
        result.malformed = self.d.malformed
