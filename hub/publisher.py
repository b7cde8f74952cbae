"""A synchronous publisher for code that is not async: hooks, scripts, training callbacks.

    from hub.publisher import Publisher

    with Publisher("http://127.0.0.1:8765", api_key) as hub:
        hub.publish("task_status", {"id": 7, "state": "done"}, room="project:42")
        hub.emit_to_user("alice", "training_progress", {"step": 10}, coalesce_key="run-1")

It speaks the hub's HTTP API (``POST /api/publish``, ``POST /api/users/{id}/emit``) with
the standard library's ``http.client`` and needs no event loop. A call encodes the event
(JSON, in the caller's thread, so bad data raises at the call), puts it in a bounded
queue and returns: it never waits for the network. A small pool of worker threads, each
holding one keep-alive HTTP/1.1 connection, sends the events.

**Order.** Every calling thread is bound to one worker (round-robin, on its first call),
and a worker sends its events one at a time, each after the reply to the one before, on
its one connection: the hub then publishes them in that order (see "Order" in the HTTP
API). So events from one thread arrive in the order they were published, while several
threads use the pool in parallel. ``order_key`` binds events to a worker by key instead
(equal keys, one worker, one order, whatever thread publishes them).

**Failures** never raise in the caller's thread: they are counted (``failures``: how many
and the last one) and handed to ``on_error`` (in a worker thread). A connection error
(the hub restarting, a reset, a timeout), ``429`` (after its ``Retry-After``) and
``502``/``503``/``504`` are retried with capped exponential backoff, reconnecting, for as
long as the event is younger than ``Retry.max_age``; older, it is dropped as a failure
of kind ``expired``. Any other 4xx (a bad key, a bad body, an unknown namespace) is a
failure at once, never retried. A request whose reply was lost to a connection error is
sent again, so delivery across a failed connection is at least once.

**Full queue.** A call waits at most ``block`` seconds (default 0: not at all) for room
and then raises ``PublisherFull`` (a ``hub.errors.QueueFull``); the event is not queued.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import itertools
import logging
import random
import socket
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Final, Literal
from urllib.parse import quote, urlsplit

import attrs
import orjson

from hub.errors import HubError, QueueFull

__all__ = [
    "Failures",
    "PublishFailure",
    "Publisher",
    "PublisherClosed",
    "PublisherFull",
    "PublisherStats",
    "Retry",
]

log = logging.getLogger("hub.publisher")

# Statuses sent again after a wait: overloaded (429) or a proxy in front of a hub that is
# not there (yet).
RETRIED_STATUSES: Final = frozenset({429, 502, 503, 504})
# orjson's options: numpy arrays and scalars (common in training loops) encode as JSON.
_DUMPS: Final = orjson.OPT_SERIALIZE_NUMPY
# How long an open publisher may flush at interpreter exit.
EXIT_FLUSH = 5.0


class PublisherFull(QueueFull):
    """The publisher's queue is full (the hub is down or slower than its callers)."""


class PublisherClosed(HubError):
    """The publisher was closed: it takes no more events."""


class _Nothing:
    def __repr__(self) -> str:
        return "NOTHING"


# ``publish(event)`` with no data sends an event with no arguments; ``data=None`` sends null.
NOTHING: Any = _Nothing()


@attrs.frozen
class Retry:
    """How events are sent again after a connection error, a 429 or a 502/503/504."""

    # Seconds from the call: an event not sent by then is dropped as a failure ("expired").
    # It bounds how long an outage is bridged, and how old an event can be when it arrives.
    max_age: float = 30.0
    # The wait after the first failed attempt, doubled per failure up to backoff_max, times
    # a random 0.5-1.0. A reused keep-alive connection that fails is retried at once first.
    backoff: float = 0.05
    backoff_max: float = 2.0

    def __attrs_post_init__(self) -> None:
        if not self.max_age >= 0 or not self.backoff > 0 or not self.backoff_max >= self.backoff:
            raise ValueError("Retry needs max_age >= 0 and 0 < backoff <= backoff_max")

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` failed attempts in a row (>= 1)."""
        step = min(self.backoff_max, self.backoff * 2 ** min(failures - 1, 32))
        return float(step * random.uniform(0.5, 1.0))


@attrs.frozen
class PublishFailure:
    """An event that was not delivered to the hub, and why."""

    # The hub's error kind for a 4xx ("unauthorized", "invalid_body", "unknown_namespace",
    # ...; "http_<status>" when the body has none), or the publisher's own: "expired" (not
    # sent within Retry.max_age; ``message`` says what the last attempt met), "connection"
    # (a connection error with retry=None) or "closed" (closed before it was sent).
    kind: str
    message: str
    event: str
    # "/api/publish" or "/api/users/<id>/emit", after the URL's own path.
    path: str
    # The HTTP status of the last answer, None when there was none.
    status: int | None
    attempts: int


@attrs.frozen
class Failures:
    """How many events failed since the publisher was made, and the last failure."""

    count: int
    last: PublishFailure | None


@attrs.frozen
class PublisherStats:
    queued: int  # accepted, not yet sent nor failed
    sent: int  # answered 2xx by the hub
    failed: int  # as ``failures.count``
    retries: int  # attempts made again (connection errors, 429, 502-504)
    connects: int  # HTTP connections made (each reconnect is one)


class _Item:
    """One queued request: its path and body, and when it was made."""

    __slots__ = ("attempts", "body", "born", "error", "event", "kind", "path", "status")

    def __init__(self, path: str, body: bytes, event: str) -> None:
        self.path = path
        self.body = body
        self.event = event
        self.born = time.monotonic()
        self.attempts = 0
        self.error = ""  # what its last attempt met
        self.kind = ""
        self.status: int | None = None


class _Marker:
    """Put behind every worker's queue by ``flush``: set once each worker reached it."""

    def __init__(self, workers: int) -> None:
        self.left = workers
        self.lock = threading.Lock()
        self.done = threading.Event()

    def reached(self) -> None:
        with self.lock:
            self.left -= 1
            if self.left == 0:
                self.done.set()


_Outcome = Literal["sent", "failed", "retry", "retry_now"]


class Publisher:
    """Publishes to a hub over its HTTP API from any thread, without blocking the caller.

    ``url`` is the hub's base URL (``http://host:port``, or with a path prefix behind a
    proxy; ``https`` works too); ``api_key`` one of its ``api_keys``. ``pool`` worker
    threads (and connections); ``queue`` events at most waiting, over all workers;
    ``timeout`` seconds for connecting and for each reply; ``retry`` as ``Retry`` (None:
    a connection error is a failure at once); ``block`` seconds a call may wait for room
    in a full queue before it raises ``PublisherFull``; ``on_error(failure)`` is called in
    a worker thread for each failed event (what it raises is logged and ignored; it may
    publish, but not flush or close: ``RuntimeError``).
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        pool: int = 4,
        queue: int = 10_000,
        timeout: float = 5.0,
        retry: Retry | None = Retry(),  # frozen, so sharing the default is safe
        block: float = 0.0,
        on_error: Callable[[PublishFailure], object] | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must be http://host[:port][/prefix] or https://..., not {url!r}")
        if not api_key or not api_key.isascii() or not api_key.isprintable() or " " in api_key:
            raise ValueError("api_key must be one of the hub's api_keys (printable ASCII)")
        if pool < 1 or queue < 1 or not timeout > 0 or block < 0:
            raise ValueError("pool and queue must be >= 1, timeout > 0 and block >= 0")
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._base = parts.path.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "User-Agent": "hub-publisher",
        }
        self.timeout = timeout
        self.retry = retry
        self.block = block
        self.on_error = on_error
        self._limit = queue
        # Callers waiting for room are woken once the queue is down to this, all at once,
        # not one per event sent: each then queues many events in a row, instead of the
        # threads taking turns (and the GIL) for every event.
        self._low_water = queue - max(1, queue // 10)
        self._waiting = 0
        # Guards the bound, the closed flag and the counters below.
        self._lock = threading.Condition(threading.Lock())
        self._queued = 0
        self._closed = False
        self._closed_clean: bool | None = None
        self._sent = self._failed = self._retries = self._connects = 0
        self._last_failure: PublishFailure | None = None
        self._local = threading.local()
        self._next_worker = itertools.count()
        self._workers = [_Worker(self, index) for index in range(pool)]
        for worker in self._workers:
            worker.thread.start()
        # An open publisher still flushes (briefly) when the interpreter exits.
        self._at_exit = _exit_hook(weakref.ref(self))
        atexit.register(self._at_exit)

    # Calls

    def publish(
        self,
        event: str,
        data: Any = NOTHING,
        *,
        room: str | None = None,
        rooms: Iterable[str] | None = None,
        namespace: str = "/",
        except_: str | Iterable[str] | None = None,
        order_key: Hashable | None = None,
    ) -> None:
        """``POST /api/publish``: to the namespace, or to the members of ``room``/``rooms``,
        leaving out those of ``except_``. No ``data``: an event with no arguments.

        Raises ``TypeError``/``ValueError`` for data JSON cannot carry or bad arguments,
        ``PublisherFull`` when the queue stays full ``block`` seconds, ``PublisherClosed``
        once closed. Nothing else: delivery failures go to ``failures`` and ``on_error``.
        """
        _check_name("event", event)
        if room is not None and rooms is not None:
            raise ValueError("give room or rooms, not both")
        body: dict[str, Any] = {"event": event}
        if data is not NOTHING:
            body["data"] = data
        if namespace != "/":
            body["namespace"] = namespace
        if room is not None:
            body["room"] = room
        if rooms is not None:
            body["rooms"] = _names("rooms", rooms)
            if not body["rooms"]:
                raise ValueError("rooms is empty; leave it out to reach the whole namespace")
        if except_ is not None:
            body["except"] = _names("except_", except_)
        self._put(_Item(self._base + "/api/publish", _encode(body), event), order_key)

    def emit_to_user(
        self,
        user_id: str,
        event: str,
        data: Any = None,
        *,
        priority: str | None = None,
        ack: bool = False,
        batch: bool = False,
        coalesce_key: str | None = None,
        namespace: str | None = None,
        ttl: float | None = None,
        order_key: Hashable | None = None,
    ) -> None:
        """``POST /api/users/{user_id}/emit``: through the user's emitter in the hub
        (queued while the user is offline; ``priority``, ``ack``, ``batch``,
        ``coalesce_key``, ``namespace`` and ``ttl`` as ``hub.user(id).emit``).

        Raises as ``publish`` does; the hub's refusals (a bad priority, 429 past max_age,
        ...) are failures.
        """
        _check_name("user_id", user_id)
        _check_name("event", event)
        body: dict[str, Any] = {"event": event, "data": data}
        optional = {
            "priority": priority,
            "ack": ack or None,
            "batch": batch or None,
            "coalesce_key": coalesce_key,
            "namespace": namespace,
            "ttl": ttl,
        }
        body |= {name: value for name, value in optional.items() if value is not None}
        path = f"{self._base}/api/users/{quote(user_id, safe='')}/emit"
        self._put(_Item(path, _encode(body), event), order_key)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until every event accepted before this call is sent or failed.

        True once they are; False after ``timeout`` seconds (None: no limit; with
        ``retry`` set, events older than max_age fail, so it still ends).
        """
        self._not_from_a_worker("flush")
        marker = _Marker(len(self._workers))
        for worker in self._workers:
            worker.put(marker)
        return marker.done.wait(timeout)

    def close(self, timeout: float | None = 10.0) -> bool:
        """Take no more events, flush for up to ``timeout`` seconds, then stop the workers
        and close their connections. Events still queued (or in flight) by then are
        failures of kind ``closed``. True when everything was sent or had failed before
        (so nothing was cut short). Calling it again returns the same answer at once.
        """
        self._not_from_a_worker("close")
        with self._lock:
            if self._closed:
                return bool(self._closed_clean)
            self._closed = True
            self._lock.notify_all()  # callers waiting for room raise PublisherClosed
        atexit.unregister(self._at_exit)
        clean = self.flush(timeout)
        for worker in self._workers:
            worker.stop()
        for worker in self._workers:
            # Aborted sockets return at once; a connect under way takes <= timeout.
            worker.thread.join(self.timeout + 1.0)
        self._closed_clean = clean
        return clean

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # State

    @property
    def failures(self) -> Failures:
        with self._lock:
            return Failures(self._failed, self._last_failure)

    def stats(self) -> PublisherStats:
        with self._lock:
            return PublisherStats(
                self._queued, self._sent, self._failed, self._retries, self._connects
            )

    @property
    def closed(self) -> bool:
        return self._closed

    # Internals

    def _not_from_a_worker(self, call: str) -> None:
        current = threading.current_thread()
        if any(worker.thread is current for worker in self._workers):
            raise RuntimeError(f"{call}() from on_error would wait for its own worker")

    def _put(self, item: _Item, order_key: Hashable | None) -> None:
        with self._lock:
            if self._closed:
                raise PublisherClosed("the publisher is closed")
            if self._queued >= self._limit:
                if not self.block or not self._wait_for_room():
                    raise PublisherFull(
                        f"{self._queued} events are waiting to be sent to {self.url} "
                        f"(queue={self._limit}); the hub is down or slower than its callers"
                    )
                if self._closed:
                    raise PublisherClosed("the publisher is closed")
            self._queued += 1
        self._workers[self._route(order_key)].put(item)

    def _wait_for_room(self) -> bool:
        self._waiting += 1
        try:
            return self._lock.wait_for(self._has_room, self.block)
        finally:
            self._waiting -= 1

    def _has_room(self) -> bool:
        return self._queued < self._limit or self._closed

    def _route(self, order_key: Hashable | None) -> int:
        if order_key is not None:
            return hash(order_key) % len(self._workers)
        index: int | None = getattr(self._local, "worker", None)
        if index is None:
            index = self._local.worker = next(self._next_worker) % len(self._workers)
        return index

    def _connection(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        with self._lock:
            self._connects += 1
        return kind(self._host, self._port, timeout=self.timeout)

    def _done(self, item: _Item, failure: PublishFailure | None) -> None:
        with self._lock:
            self._queued -= 1
            if self._waiting and self._queued <= self._low_water:
                self._lock.notify_all()
            if failure is None:
                self._sent += 1
                return
            previous = self._last_failure
            self._failed += 1
            self._last_failure = failure
        if previous is None or previous.kind != failure.kind:  # once per streak, not per event
            log.warning(
                "%s %s: %s failed (%s): %s",
                self.url,
                failure.path,
                failure.event,
                failure.kind,
                failure.message,
            )
        if self.on_error is not None:
            try:
                self.on_error(failure)
            except Exception:
                log.exception("the publisher's on_error callback failed")

    def _retried(self) -> None:
        with self._lock:
            self._retries += 1


class _Worker:
    """One thread and one keep-alive connection, sending its queue in order."""

    def __init__(self, publisher: Publisher, index: int) -> None:
        self.publisher = publisher
        self.items: deque[_Item | _Marker] = deque()
        self.ready = threading.Condition(threading.Lock())
        self.stopping = False
        self.finished = False  # the thread is done: put() settles items itself
        # Set and read under conn_lock, so stop() can shut down its socket from another
        # thread; only this worker uses it otherwise.
        self.conn: http.client.HTTPConnection | None = None
        self.conn_lock = threading.Lock()
        self.conn_requests = 0
        self.failures = 0  # failed attempts in a row, for the backoff
        self.last_error = ""  # what the last failed attempt met
        self.retry_after: float | None = None  # a 429's Retry-After, for the next wait
        self.thread = threading.Thread(target=self.run, name=f"hub-publisher-{index}", daemon=True)

    def put(self, item: _Item | _Marker) -> None:
        with self.ready:
            if not self.finished:
                self.items.append(item)
                self.ready.notify()
                return
        self.settle(item)  # closed meanwhile: what abandon() would have done

    def stop(self) -> None:
        """Stop at once: a request in flight is cut short (its socket shut down)."""
        with self.ready:
            self.stopping = True
            self.ready.notify()
        with self.conn_lock:
            sock = self.conn.sock if self.conn is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # the worker's recv/send return at once

    def run(self) -> None:
        try:
            self.loop()
        except Exception:  # a bug of ours: say so, and still account for every event
            log.exception("a publisher worker failed")
        finally:
            self.close_connection()
            self.abandon()

    def loop(self) -> None:
        publisher = self.publisher
        while True:
            with self.ready:
                while not self.items and not self.stopping:
                    self.ready.wait()
                if self.stopping:
                    return
                head = self.items[0]
            if isinstance(head, _Marker):
                self.pop()
                head.reached()
                continue
            retry = publisher.retry
            if retry is not None and time.monotonic() - head.born > retry.max_age:
                self.pop()
                why = head.error or f"queued behind others; the last attempt: {self.last_error}"
                message = f"not sent within max_age={retry.max_age:g} s: {why}"
                publisher._done(head, self.failure(head, "expired", message))
                continue
            try:
                outcome = self.attempt(head)
            except Exception as error:  # a bug of ours, not the network's: fail this event
                log.exception("sending %s failed", head.path)
                self.close_connection()
                self.pop()
                publisher._done(head, self.failure(head, "internal", _describe(error)))
                continue
            if outcome in ("sent", "failed"):
                if self.failures:  # the hub answers again
                    log.info("%s: answering after %d failures", publisher.url, self.failures)
                    self.failures = 0
                continue
            if self.stopping:
                return
            if retry is None:
                self.pop()
                publisher._done(head, self.failure(head, head.kind, head.error))
                continue
            publisher._retried()
            if outcome == "retry_now":
                continue
            self.failures += 1
            if self.failures == 1:
                log.warning("%s: %s; retrying", publisher.url, head.error)
            self.wait(head, retry)

    def attempt(self, item: _Item) -> _Outcome:
        """One request for ``item``; pops it unless it is to be sent again."""
        publisher = self.publisher
        item.attempts += 1
        conn = self.conn
        if conn is None:
            with self.conn_lock:
                conn = self.conn = publisher._connection()
            self.conn_requests = 0
        reused = self.conn_requests > 0
        try:
            conn.request("POST", item.path, item.body, publisher._headers)
            response = conn.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close_connection()
            item.kind, item.status = "connection", None
            item.error = self.last_error = f"no answer: {_describe(error)}"
            # An idle keep-alive connection the hub closed meanwhile: once more, at once.
            return "retry_now" if reused and self.failures == 0 else "retry"
        self.conn_requests += 1
        if response.will_close:
            self.close_connection()
        status = response.status
        if 200 <= status < 300:
            self.pop()
            publisher._done(item, None)
            return "sent"
        kind, message = _refusal(status, answer)
        item.kind, item.status = kind, status
        item.error = self.last_error = f"{status} {kind}: {message}"
        if status in RETRIED_STATUSES:
            self.retry_after = _retry_after(response.getheader("Retry-After"))
            return "retry"
        self.pop()
        publisher._done(item, self.failure(item, kind, message))
        return "failed"

    def wait(self, head: _Item, retry: Retry) -> None:
        delay = retry.delay(self.failures)
        if self.retry_after is not None:
            delay, self.retry_after = self.retry_after, None
        # No longer than until the head expires, so an outage fails it on time.
        left = head.born + retry.max_age - time.monotonic()
        delay = max(0.0, min(delay, left + 0.001))
        with self.ready:
            self.ready.wait_for(lambda: self.stopping, delay)

    def failure(self, item: _Item, kind: str, message: str) -> PublishFailure:
        return PublishFailure(kind, message, item.event, item.path, item.status, item.attempts)

    def pop(self) -> None:
        with self.ready:
            self.items.popleft()

    def close_connection(self) -> None:
        with self.conn_lock:
            conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()

    def abandon(self) -> None:
        """After a stop: every event left is a failure ("closed"); markers are passed."""
        with self.ready:
            left, self.items = list(self.items), deque()
            self.stopping = self.finished = True
        for item in left:
            self.settle(item)

    def settle(self, item: _Item | _Marker) -> None:
        if isinstance(item, _Marker):
            item.reached()
            return
        reason = "closed before it was sent"
        if item.error or self.last_error:
            reason += f"; the last attempt: {item.error or self.last_error}"
        self.publisher._done(item, self.failure(item, "closed", reason))


def _exit_hook(ref: weakref.ref[Publisher]) -> Callable[[], None]:
    def close_at_exit() -> None:
        publisher = ref()
        if publisher is not None:
            publisher.close(EXIT_FLUSH)

    return close_at_exit


def _encode(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, option=_DUMPS)


def _check_name(what: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, not {value!r}")


def _names(what: str, names: str | Iterable[str]) -> list[str]:
    found = [names] if isinstance(names, str) else list(names)
    for name in found:
        _check_name(f"a name in {what}", name)
    return found


def _refusal(status: int, answer: bytes) -> tuple[str, str]:
    """The hub's ``{"error": kind, "message": text}``, or what a proxy answered."""
    try:
        decoded = orjson.loads(answer)
    except orjson.JSONDecodeError:
        decoded = None
    if isinstance(decoded, dict) and isinstance(decoded.get("error"), str):
        return decoded["error"], str(decoded.get("message", ""))
    text = answer[:200].decode("utf-8", "replace").strip()
    return f"http_{status}", text or http.client.responses.get(status, "")


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0  # an HTTP date: rare from a proxy; a second is a fair guess


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
