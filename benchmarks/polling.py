"""Polling benchmark: N subscribers on Engine.IO long-polling only, hub vs python-socketio.

The subscribers never upgrade: each holds two keep-alive HTTP connections, one for its
long-poll GETs and one for its POSTs (``pollwire``), joins the room with the ``join``
event, and receives a broadcast stream that one WebSocket publisher sends at a fixed rate
(or as fast as flow control allows). Examples::

    python benchmarks/polling.py                          # 200 polling subscribers, 10/s
    python benchmarks/polling.py --rate max --subscribers 100
    python benchmarks/polling.py --scenarios              # rate 10 and max, both servers

For each run it prints deliveries/s, latency percentiles (publish sent to GET reply
read), server CPU per delivery, server RSS per polling client, then hub /
python-socketio ratios.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pollwire
import runner
from loadgen import LoadConfig

SCENARIO_RATES: tuple[float | None, ...] = (10.0, None)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument(
        "--rate", type=runner.parse_rate, default=10.0, help="publishes/s, or 'max'"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument(
        "--scenarios", action="store_true", help="run --rate 10 and --rate max (ignores --rate)"
    )
    parser.add_argument("--window", type=int, default=8, help="max publishes awaiting an ack")
    parser.add_argument(
        "--max-lag",
        type=int,
        default=32,
        help="max publishes not yet received by every subscriber (0: no limit)",
    )
    runner.add_common_arguments(parser)
    args = parser.parse_args(argv)
    runner.check_common_arguments(parser, args)
    if args.window < 1 or args.max_lag < 0:
        parser.error("--window must be >= 1 and --max-lag >= 0")
    return args


def plans(args: argparse.Namespace) -> list[runner.Plan]:
    rates = SCENARIO_RATES if args.scenarios else (args.rate,)
    return [
        runner.Plan(
            LoadConfig(
                subscribers=args.subscribers,
                rate=rate,
                duration=args.duration,
                window=args.window,
                max_lag=args.max_lag,
                batch=args.batch,
                warmup=args.warmup,
                transport="polling",
                name="polling",
            ),
            connect=pollwire.connect,
        )
        for rate in rates
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    banner = (
        f"{args.subscribers} long-polling subscribers, duration {args.duration:g} s, "
        f"window {args.window}, max lag {args.max_lag}"
    )
    # Two keep-alive connections per subscriber.
    return runner.main("polling", args, plans(args), 2 * args.subscribers, banner=banner)


if __name__ == "__main__":
    sys.exit(main())
