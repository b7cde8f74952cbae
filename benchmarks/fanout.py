"""Fan-out benchmark: one publisher, N subscribers in one room, hub vs python-socketio.

Each server runs in its own process pinned to one CPU; this process (the load generator)
pins itself to another. Examples::

    python benchmarks/fanout.py                                  # 1000 subs, 10 publishes/s
    python benchmarks/fanout.py --rate max --servers python-socketio --subscribers 200
    python benchmarks/fanout.py --scenarios                      # rate 10 and max, both servers

For each run it prints deliveries/s, delivery ratio, latency percentiles, server CPU per
delivery, server RSS per idle connection and the generator's own CPU use, then a table of
hub / python-socketio ratios per scenario.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import runner
from loadgen import LoadConfig

SCENARIO_RATES: tuple[float | None, ...] = (10.0, None)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=1000)
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
            )
        )
        for rate in rates
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    banner = (
        f"{args.subscribers} subscribers, duration {args.duration:g} s, window {args.window}, "
        f"max lag {args.max_lag}"
    )
    return runner.main("fanout", args, plans(args), args.subscribers, banner=banner)


if __name__ == "__main__":
    sys.exit(main())
