"""HTTP publish benchmark: producers POST to /api/publish, WebSocket subscribers receive.

A fixed number of publishes goes out over a few keep-alive HTTP/1.1 connections (one
request in flight on each, as an ordinary client does) to N subscribers in one room,
connected over WebSocket; the same runs against the hub (``HUB_API_KEYS``) and against
python-socketio with an equivalent aiohttp route (``psio_server.py --api-key``).
Examples::

    python benchmarks/http_publish.py                # 20,000 publishes, 4 conns, 10 subscribers
    python benchmarks/http_publish.py --rate 500 --publishes 5000
    python benchmarks/http_publish.py --scenarios    # 1 subscriber, then 100 (~2 min)

For each run it prints publishes/s, the POST's reply latency, delivery latency (POST sent
to subscriber receive, from the send time in the event data), server CPU per publish and
per delivery, then hub / python-socketio ratios.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import runner
from loadgen import LoadConfig, PublisherFactory
from publishers import HttpPublisher, Publisher
from report import PUBLISH_ROWS

API_KEY = "bench"
# (subscribers, publishes): the HTTP path with the least fan-out behind it, then a room
# of 100 where the fan-out is most of the work.
SCENARIOS: tuple[tuple[int, int], ...] = ((1, 20_000), (100, 5_000))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = runner.new_parser(__doc__)
    parser.add_argument("--publishes", type=int, default=20_000, help="measured publishes")
    parser.add_argument(
        "--connections", type=int, default=4, help="keep-alive connections, one POST each"
    )
    parser.add_argument("--subscribers", type=int, default=10, help="WebSocket, one room")
    parser.add_argument(
        "--rate", type=runner.parse_rate, default=None, help="publishes/s, or 'max' (default)"
    )
    parser.add_argument(
        "--duration", type=float, default=60.0, help="cap on the measured seconds per run"
    )
    parser.add_argument(
        "--scenarios",
        action="store_true",
        help="run 20000 publishes to 1 subscriber, then 5000 to 100 (ignores --subscribers "
        "and --publishes)",
    )
    args = runner.parse_arguments(parser, argv)
    if not 1 <= args.publishes <= 1_000_000:
        parser.error("--publishes must be in [1, 1000000]")
    if not 1 <= args.connections <= 64:
        parser.error("--connections must be in [1, 64]")
    return args


def http_publisher(connections: int) -> PublisherFactory:
    async def open_publisher(host: str, port: int) -> Publisher:
        return await HttpPublisher.open(host, port, connections, API_KEY, timeout=10.0)

    return open_publisher


def plans(args: argparse.Namespace) -> list[runner.Plan]:
    scenarios = SCENARIOS if args.scenarios else ((args.subscribers, args.publishes),)
    return [
        runner.Plan(
            LoadConfig(
                subscribers=subscribers,
                rate=args.rate,
                duration=args.duration,
                # One request in flight per keep-alive connection.
                window=args.connections,
                max_lag=args.max_lag,
                batch=args.batch,
                warmup=args.warmup,
                count=count,
                name=f"http publish x{args.connections} conns",
            ),
            open_publisher=http_publisher(args.connections),
            api_key=API_KEY,
        )
        for subscribers, count in scenarios
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    banner = (
        f"{args.connections} keep-alive connections, max {args.duration:g} s per run, "
        f"max lag {args.max_lag}"
    )
    most = max(s for s, _ in SCENARIOS) if args.scenarios else args.subscribers
    return runner.main(
        "http_publish",
        args,
        plans(args),
        most + args.connections,
        rows=PUBLISH_ROWS,
        banner=banner,
    )


if __name__ == "__main__":
    sys.exit(main())
