"""``GET /metrics``: the hub's counters in the Prometheus text format.

A custom collector reads ``hub.counters`` (and the live transports, for the outbox
depth) when a scrape comes, so the hot path pays nothing beyond the plain integer
bumps it already makes. Each server gets its own ``CollectorRegistry``: several hubs may
share a process, and the global registry would mix them up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector, CollectorRegistry

from hub.server.engine import max_sockets
from hub.server.http import Request, Response

if TYPE_CHECKING:
    from hub.core.hub import Hub
    from hub.server.listener import Server

# Reasons reported from the start (at 0), so rate() has a series before the first drop.
DROPPED = {"volatile": 0, "slow_consumer": 0}
USER_EXPIRED = {"ttl": 0, "offline": 0, "max_attempts": 0}
USER_DROPPED = {"coalesced": 0, "overflow": 0}


def outbox_depth(server: Server) -> tuple[int, int]:
    """Bytes queued for clients over every live transport, and how many have any."""
    queued = [transport.wire.queued_bytes for transport in server.transports]
    queued += [polling.queued_bytes for polling in server.polling.values()]
    return sum(queued), sum(1 for size in queued if size)


class HubCollector(Collector):
    def __init__(self, server: Server) -> None:
        self.server = server

    def collect(self) -> Iterator[Metric]:
        hub = self.server.hub
        c = hub.counters
        yield GaugeMetricFamily("hub_connections", "Open Engine.IO connections", c.connections)
        totals = (
            ("hub_handshakes", "Engine.IO sessions opened (upgrades not counted)", c.handshakes),
            ("hub_events_in", "Socket.IO events received from clients", c.events_in),
            ("hub_deliveries", "Packets handed to connections, one per recipient", c.deliveries),
            ("hub_published", "Broadcasts, whatever their number of recipients", c.published),
            ("hub_recovered", "Sessions resumed by connection state recovery", c.recovered),
        )
        for name, documentation, value in totals:
            yield CounterMetricFamily(name, documentation, value)
        by_label = (
            ("hub_dropped", "Packets dropped, by reason", "reason", DROPPED | dict(c.dropped)),
            ("hub_disconnects", "Namespace sessions ended, by reason", "reason", c.disconnects),
            ("hub_errors", "Errors and refused input, by kind", "kind", c.errors),
        )
        for name, documentation, label, values in by_label:
            family = CounterMetricFamily(name, documentation, labels=[label])
            for key, count in sorted(values.items()):
                family.add_metric([key], count)
            yield family
        yield from _limit_metrics(self.server)
        queued, backed_up = outbox_depth(self.server)
        yield GaugeMetricFamily("hub_outbox_bytes", "Bytes queued for clients", queued)
        yield GaugeMetricFamily(
            "hub_outbox_connections", "Connections with bytes queued", backed_up
        )
        sessions = GaugeMetricFamily(
            "hub_namespace_sessions", "Connected sessions", labels=["namespace"]
        )
        rooms = GaugeMetricFamily("hub_namespace_rooms", "Rooms with members", labels=["namespace"])
        for name, namespace in hub.namespaces.items():
            sessions.add_metric([name], len(namespace.sessions))
            rooms.add_metric([name], len(namespace.rooms.sizes()))
        yield sessions
        yield rooms
        yield from _emitter_metrics(hub)
        yield from c.publish_seconds.collect()
        if hub.started_at is not None:
            yield GaugeMetricFamily(
                "hub_start_time_seconds", "When the hub began serving (Unix time)", hub.started_at
            )


def _limit_metrics(server: Server) -> Iterator[Metric]:
    """What the connection limits count, and the limits (0: none)."""
    gate, config = server.gate, server.hub.config
    yield GaugeMetricFamily(
        "hub_engine_sessions",
        "Engine.IO sessions counted against max_connections (an upgrade counts once)",
        gate.total,
    )
    yield GaugeMetricFamily(
        "hub_remote_ips", "Remote addresses with at least one Engine.IO session", len(gate.by_ip)
    )
    yield GaugeMetricFamily(
        "hub_remote_ip_sessions_max",
        "Engine.IO sessions of the remote address that has the most",
        max(gate.by_ip.values(), default=0),
    )
    yield GaugeMetricFamily(
        "hub_sockets", "Open TCP connections (HTTP and WebSocket, sessions or not)", server.sockets
    )
    yield GaugeMetricFamily(
        "hub_http_connections", "TCP connections speaking HTTP (not WebSocket)", len(server.http)
    )
    limits = GaugeMetricFamily(
        "hub_connection_limit", "Configured connection limits (0: none)", labels=["limit"]
    )
    limits.add_metric(["max_connections"], config.max_connections)
    limits.add_metric(["max_connections_per_ip"], config.max_connections_per_ip)
    limits.add_metric(["max_sockets"], max_sockets(config))
    yield limits


def _emitter_metrics(hub: Hub) -> Iterator[Metric]:
    """User emitters, hub-wide (per user only in /api/stats: user ids are unbounded)."""
    counts = hub.counters.emitter
    yield CounterMetricFamily(
        "hub_user_delivered",
        "User emitter events handed to a session (no ack asked)",
        counts.delivered,
    )
    yield CounterMetricFamily(
        "hub_user_acked", "User emitter events acknowledged by a client", counts.acked
    )
    yield CounterMetricFamily(
        "hub_user_retried", "User emitter events resent for want of an ack", counts.retried
    )
    by_reason = (
        (
            "hub_user_expired",
            "User emitter events expired, by reason",
            USER_EXPIRED,
            counts.expired,
        ),
        (
            "hub_user_dropped",
            "User emitter events dropped, by reason",
            USER_DROPPED,
            counts.dropped,
        ),
    )
    for name, documentation, zeros, values in by_reason:
        family = CounterMetricFamily(name, documentation, labels=["reason"])
        for key, count in sorted((zeros | dict(values)).items()):
            family.add_metric([key], count)
        yield family
    emitters = list(hub.emitters.values())
    yield GaugeMetricFamily(
        "hub_user_pending",
        "User emitter events not finished (queued, or waiting for their ack)",
        sum(len(emitter.queue) for emitter in emitters),
    )
    yield GaugeMetricFamily("hub_user_emitters", "Live user emitters", len(emitters))


def new_registry(server: Server) -> CollectorRegistry:
    """A registry of ``server``'s own: several hubs may share a process."""
    found = CollectorRegistry()
    found.register(HubCollector(server))
    return found


def render(server: Server, request: Request) -> Response:
    """The scrape: text format 0.0.4, or OpenMetrics when the scraper asks for it."""
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(200, encode(server.metrics), content_type)
