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

import sys
from collections.abc import Sequence

import runner


def main(argv: Sequence[str] | None = None) -> int:
    args = runner.parse_rate_command(__doc__, argv, subscribers=1000)
    banner = (
        f"{args.subscribers} subscribers, duration {args.duration:g} s, window {args.window}, "
        f"max lag {args.max_lag}"
    )
    return runner.main("fanout", args, runner.rate_plans(args), args.subscribers, banner=banner)


if __name__ == "__main__":
    sys.exit(main())
