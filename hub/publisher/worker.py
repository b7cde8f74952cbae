"""A publisher worker: one thread and one keep-alive HTTP/1.1 connection, sending in order."""

from __future__ import annotations

import contextlib
import http.client
import logging
import socket
import threading
import time
from collections import deque
from typing import TYPE_CHECKING

import orjson

from hub.publisher.values import (
    RETRIED_STATUSES,
    Item,
    Marker,
    Outcome,
    PublishFailure,
    Retry,
)

if TYPE_CHECKING:
    from hub.publisher.publisher import Publisher

log = logging.getLogger("hub.publisher")


class Worker:
    """One thread and one keep-alive connection, sending its queue in order."""

    def __init__(self, publisher: Publisher, index: int) -> None:
        self.publisher = publisher
        self.items: deque[Item | Marker] = deque()
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

    def put(self, item: Item | Marker) -> None:
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
            if isinstance(head, Marker):
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

    def attempt(self, item: Item) -> Outcome:
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

    def wait(self, head: Item, retry: Retry) -> None:
        delay = retry.delay(self.failures)
        if self.retry_after is not None:
            delay, self.retry_after = self.retry_after, None
        # No longer than until the head expires, so an outage fails it on time.
        left = head.born + retry.max_age - time.monotonic()
        delay = max(0.0, min(delay, left + 0.001))
        with self.ready:
            self.ready.wait_for(lambda: self.stopping, delay)

    def failure(self, item: Item, kind: str, message: str) -> PublishFailure:
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

    def settle(self, item: Item | Marker) -> None:
        if isinstance(item, Marker):
            item.reached()
            return
        reason = "closed before it was sent"
        if item.error or self.last_error:
            reason += f"; the last attempt: {item.error or self.last_error}"
        self.publisher._done(item, self.failure(item, "closed", reason))


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
