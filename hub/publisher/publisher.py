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
import http.client
import itertools
import logging
import threading
import weakref
from collections.abc import Callable, Hashable, Iterable
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from hub.publisher.values import (
    DEFAULT_RETRY,
    DUMPS,
    EXIT_FLUSH,
    NOTHING,
    Failures,
    Item,
    Marker,
    PublisherClosed,
    PublisherFull,
    PublisherStats,
    PublishFailure,
    Retry,
)
from hub.publisher.worker import Worker

log = logging.getLogger("hub.publisher")


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
        retry: Retry | None = DEFAULT_RETRY,
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
        self._workers = [Worker(self, index) for index in range(pool)]
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
        self._put(Item(self._base + "/api/publish", _encode(body), event), order_key)

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
        self._put(Item(path, _encode(body), event), order_key)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until every event accepted before this call is sent or failed.

        True once they are; False after ``timeout`` seconds (None: no limit; with
        ``retry`` set, events older than max_age fail, so it still ends).
        """
        self._not_from_a_worker("flush")
        marker = Marker(len(self._workers))
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

    def _put(self, item: Item, order_key: Hashable | None) -> None:
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

    def _done(self, item: Item, failure: PublishFailure | None) -> None:
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


def _exit_hook(ref: weakref.ref[Publisher]) -> Callable[[], None]:
    def close_at_exit() -> None:
        publisher = ref()
        if publisher is not None:
            publisher.close(EXIT_FLUSH)

    return close_at_exit


def _encode(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, option=DUMPS)


def _check_name(what: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, not {value!r}")


def _names(what: str, names: str | Iterable[str]) -> list[str]:
    found = [names] if isinstance(names, str) else list(names)
    for name in found:
        _check_name(f"a name in {what}", name)
    return found
