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

import sys
from collections.abc import Sequence

import pollwire
import runner


def main(argv: Sequence[str] | None = None) -> int:
    args = runner.parse_rate_command(__doc__, argv, subscribers=200)
    banner = (
        f"{args.subscribers} long-polling subscribers, duration {args.duration:g} s, "
        f"window {args.window}, max lag {args.max_lag}"
    )
    plans = runner.rate_plans(args, pollwire.connect, transport="polling", name="polling")
    # Two keep-alive connections per subscriber.
    return runner.main("polling", args, plans, 2 * args.subscribers, banner=banner)


if __name__ == "__main__":
    sys.exit(main())
