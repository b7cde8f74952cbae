"""Print what one user receives: a python-socketio client in the hub's default namespace.

    python examples/watch.py --user alice                          # the hub on :8765
    python examples/watch.py --url http://127.0.0.1:9000 --user bob --json

It connects with ``auth={"user": ...}`` (how the standalone hub's namespace learns who a
client is) and prints one line per event: batches (``hub:batch``) are unpacked, resent
events (same id) shown once, and events sent with ``ack`` acknowledged. Typed events
(``hub.events``) are checked and structured with ``from_wire``, as a Python dashboard
would; a payload that does not match its declared type is printed as ``INVALID`` with
the reason. ``--until EVENTS`` stops after the first of those events, ``--timeout S``
gives up (status 1).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from typing import Any

import attrs
import socketio

from hub.events import InvalidEvent, from_wire, registry

# How a user emitter sends several events in one frame (hub.core.emitter.BATCH_EVENT).
BATCH_EVENT = "hub:batch"

# What a field set to these values adds to a line: nothing.
QUIET: tuple[Any, ...] = (None, {}, [])


def summary(event: Any) -> str:
    """``key=value`` for the fields a reader cares about (ts shown once, up front)."""
    parts = []
    for field in attrs.fields(type(event)):
        value = getattr(event, field.name)
        if field.name in ("ts", "traceback") or any(value == quiet for quiet in QUIET):
            continue
        shown = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
        parts.append(f"{field.name}={shown}")
    return " ".join(parts)


def unpack(event: str, args: list[Any]) -> list[tuple[str, Any, str | None]]:
    """``(event, data, id)`` of each event one Socket.IO event carries.

    A user emitter's event is ``[name, data, {"id": ...}]``; its batches are
    ``["hub:batch", [{"event", "data", "id"}, ...]]``; anything else (a broadcast) is
    shown with its first argument as its data.
    """
    if event == BATCH_EVENT and args and isinstance(args[0], list):
        return [(item["event"], item["data"], item.get("id")) for item in args[0]]
    data = args[0] if args else None
    meta = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
    return [(event, data, meta.get("id"))]


def line(event: str, data: Any, event_id: str | None, as_json: bool) -> str:
    """One printed line for one received event."""
    typed: object | None = None
    problem: str | None = None
    if event in registry:
        try:
            typed = from_wire(event, data)
        except InvalidEvent as error:
            problem = str(error)
    if as_json:
        record = {"event": event, "data": data, "id": event_id, "typed": typed is not None}
        if problem:
            record["invalid"] = problem
        return json.dumps(record, ensure_ascii=False)
    stamp = time.strftime("%H:%M:%S")
    if problem:
        return f"{stamp} {event:<18} INVALID {problem}"
    if typed is not None:
        return f"{stamp} {event:<18} {summary(typed)}"
    return f"{stamp} {event:<18} {json.dumps(data, ensure_ascii=False)}"


async def watch(args: argparse.Namespace) -> int:
    until = set(args.until.split(",")) if args.until else set()
    done = asyncio.Event()
    seen: set[str] = set()  # ids already shown: an acked event may come again
    client = socketio.AsyncClient(reconnection=True)

    @client.on("*")
    async def any_event(event: str, *received: Any) -> bool:
        for name, data, event_id in unpack(event, list(received)):
            if done.is_set():
                break  # what comes after the --until event is not shown
            if event_id is not None:
                if event_id in seen:
                    continue
                seen.add(event_id)
            print(line(name, data, event_id, args.json), flush=True)
            if name in until:
                done.set()
        return True  # the ack, for events sent with ack=True

    @client.event
    async def connect() -> None:
        print(f"watching user {args.user!r} at {args.url} (sid {client.sid})", file=sys.stderr)

    @client.event
    async def disconnect(reason: Any = None) -> None:
        print(f"disconnected: {reason}", file=sys.stderr)

    await client.connect(args.url, auth={"user": args.user}, wait_timeout=10)
    try:
        await asyncio.wait_for(done.wait(), args.timeout)
        await asyncio.sleep(0.1)  # the last event's ack leaves before the disconnect
    except TimeoutError:
        if args.timeout is not None and until:
            print(f"no {args.until} within {args.timeout} s", file=sys.stderr)
            return 1
    finally:
        await client.disconnect()
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8765", help="the hub's URL")
    parser.add_argument("--user", default="alice", help="the user to watch (default alice)")
    parser.add_argument("--json", action="store_true", help="one JSON object per event")
    parser.add_argument("--until", help="stop after the first of these events (comma-separated)")
    parser.add_argument("--timeout", type=float, help="give up after this many seconds")
    return parser.parse_args(argv)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how one stops watching
        sys.exit(asyncio.run(watch(parse())))
