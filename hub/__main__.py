"""``python -m hub``: a standalone hub on 127.0.0.1:8765 until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

import trio

from hub.standalone import standalone_hub


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hub", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks one (8765)")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING... (INFO)")
    return parser.parse_args(argv)


async def run(host: str, port: int) -> None:
    hub = standalone_hub()
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            bound = await nursery.start(hub.serve, host, port)
            print(f"hub listening on http://{host}:{bound}", flush=True)
            async for signum in signals:
                logging.getLogger("hub").info("%s: shutting down", signal.Signals(signum).name)
                nursery.cancel_scope.cancel()
                break


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    failure = None
    try:
        trio.run(run, args.host, args.port)
    except* OSError as group:
        # Binding fails inside the nursery, so the error arrives wrapped in a group.
        error = group.exceptions[0]
        failure = f"hub: cannot listen on {args.host}:{args.port}: {error}"
    if failure is not None:
        sys.exit(failure)


if __name__ == "__main__":
    main()
