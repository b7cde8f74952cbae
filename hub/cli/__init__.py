"""``python -m hub``: run, start, stop, restart, status and config of a standalone hub."""

from __future__ import annotations

import os
import sys

from hub.cli import codes, daemon, show
from hub.cli.args import given_settings, parse
from hub.cli.run import run
from hub.cli.settings import Resolved, resolve
from hub.cli.status import status
from hub.errors import ConfigError


def dispatch(argv: list[str]) -> int:
    """Run the command ``argv`` names; its exit status."""
    args = parse(argv)
    flags = given_settings(args)
    config = getattr(args, "config", None)
    env = os.environ

    def source() -> Resolved:
        # Read again on SIGHUP: the file may have changed since.
        return resolve(flags, env, config)

    try:
        resolved = source()
    except ConfigError as error:
        print(f"hub: {error}", file=sys.stderr)
        return codes.USAGE
    command = args.command or "run"
    if command == "run":
        return run(resolved, source, detached=args.detached)
    if command == "start":
        return daemon.start(resolved, flags, env, args.wait)
    if command == "stop":
        return daemon.stop(resolved.settings, env, args.timeout)
    if command == "restart":
        return daemon.restart(resolved, flags, env, args.wait, args.timeout)
    if command == "status":
        return status(resolved.settings, env, args.timeout, args.json)
    print(show.render(resolved, env))
    return codes.OK


def main(argv: list[str] | None = None) -> None:
    try:
        sys.exit(dispatch(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C outside the hub's own signal handling: no traceback
