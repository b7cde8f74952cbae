"""The Hub: the application's handle on namespaces, rooms and broadcasts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio

from hub.core.config import HubConfig, make_config
from hub.core.namespace import Namespace, Target
from hub.core.stats import Counters, HubStats

if TYPE_CHECKING:
    import trio


class Hub:
    """Namespaces, sessions and rooms behind one listening port.

    ``await nursery.start(hub.serve, host, port)`` runs it inside a trio application.
    """

    def __init__(self, config: HubConfig | None = None, **settings: Any) -> None:
        self.config = make_config(config, **settings)
        self.namespaces: dict[str, Namespace] = {}
        self.counters = Counters()
        self.port: int | None = None
        self.namespace("/")

    def namespace(self, name: str = "/") -> Namespace:
        """The namespace called ``name``, created on first use."""
        if not name.startswith("/") or "," in name:
            raise ValueError(f"namespace must start with '/' and hold no ',': {name!r}")
        found = self.namespaces.get(name)
        if found is None:
            found = self.namespaces[name] = Namespace(self, name)
        return found

    def emit_nowait(
        self,
        event: str,
        *args: Any,
        to: Target = None,
        namespace: str = "/",
        except_: Target = None,
        volatile: bool = False,
    ) -> int:
        """Broadcast without waiting; returns how many sessions it was handed to.

        ``to``: a room, several rooms (each recipient once) or None for the whole
        namespace; a session's sid is a room of its own. ``except_`` takes the same forms.
        """
        found = self.namespaces.get(namespace)
        if found is None:
            raise KeyError(f"no namespace {namespace!r}")
        return found.broadcast(event, args, to, except_, volatile)

    async def emit(
        self,
        event: str,
        *args: Any,
        to: Target = None,
        namespace: str = "/",
        except_: Target = None,
        volatile: bool = False,
    ) -> int:
        """``emit_nowait``, then a checkpoint so tight producer loops stay fair."""
        count = self.emit_nowait(
            event, *args, to=to, namespace=namespace, except_=except_, volatile=volatile
        )
        await anyio.lowlevel.checkpoint()
        return count

    def stats(self) -> HubStats:
        c = self.counters
        return HubStats(
            connections=c.connections,
            sessions={name: len(ns.sessions) for name, ns in self.namespaces.items()},
            rooms={name: ns.rooms.sizes() for name, ns in self.namespaces.items()},
            events_in=c.events_in,
            deliveries=c.deliveries,
            dropped=dict(c.dropped),
            disconnects=dict(c.disconnects),
            errors=dict(c.errors),
        )

    async def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 8765,
        *,
        task_status: trio.TaskStatus[int] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Listen and serve until cancelled; reports the bound port to ``nursery.start``."""
        from hub.server.listener import serve

        await serve(self, host, port, task_status=task_status)
