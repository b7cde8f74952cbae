"""The command line: subcommands, and one flag per setting (``--port``, ``--ping-interval``...)."""

from __future__ import annotations

import argparse

import attrs

from hub.cli.settings import HUB_KEYS, PROCESS_KEYS, all_keys, flag_name
from hub.core.config import HubConfig

_HELP = {
    "host": "address to bind (127.0.0.1)",
    "port": "port, 0 for any free one, or a range tried in order, e.g. 8765-8775 (8765)",
    "log_level": "DEBUG, INFO, WARNING, ERROR or CRITICAL (INFO)",
    "log_file": "log here instead of stderr; start: $XDG_STATE_HOME/hub/hub.log",
    "pid_file": "PID file; run keeps one only when set; start: $XDG_RUNTIME_DIR/hub/hub.pid",
    "shutdown_grace": "seconds clients get to drain on SIGTERM/SIGINT (10)",
    "ping_interval": "seconds between server pings",
    "ping_timeout": "seconds a pong may take before the client is dropped",
    "max_payload": "largest incoming message, in bytes",
    "connect_timeout": "seconds a client has to connect a namespace after the handshake",
    "outbox_messages": "per-connection outbox bound, in messages",
    "outbox_bytes": "per-connection outbox bound, in bytes",
    "handshake_timeout": "seconds a new connection has to send its request head",
    "path": "where Engine.IO is served",
}
_METAVARS = {
    "host": "HOST",
    "port": "PORT",
    "log_level": "LEVEL",
    "path": "PATH",
    "shutdown_grace": "SECONDS",
}


def _metavar(key: str) -> str:
    if key in _METAVARS:
        return _METAVARS[key]
    if key.endswith("_file"):
        return "FILE"
    if key.endswith(("_interval", "_timeout")):
        return "SECONDS"
    return "N" if key.startswith(("max_", "outbox_")) else "VALUE"


def _settings_flags() -> argparse.ArgumentParser:
    # Every flag defaults to "absent", so the flags given can be told from the defaults.
    parent = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    parent.add_argument(
        "--config", metavar="FILE", help="TOML config file ($XDG_CONFIG_HOME/hub/hub.toml)"
    )
    own = parent.add_argument_group("settings (also HUB_* variables and the config file)")
    for key in PROCESS_KEYS:
        own.add_argument(flag_name(key), dest=key, metavar=_metavar(key), help=_HELP[key])
    hub = parent.add_argument_group("hub settings (the [hub] table of the config file)")
    defaults = attrs.asdict(HubConfig())
    for key in HUB_KEYS:
        # HubConfig may gain settings this table does not describe yet: still a flag.
        help_text = f"{_HELP.get(key, key.replace('_', ' '))} ({defaults[key]})"
        hub.add_argument(flag_name(key), dest=f"hub.{key}", metavar=_metavar(key), help=help_text)
    return parent


def parser() -> argparse.ArgumentParser:
    settings = _settings_flags()
    top = argparse.ArgumentParser(
        prog="hub",
        description="A Socket.IO v5 event hub. With no command, runs in the foreground.",
    )
    commands = top.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("run", parents=[settings], help="serve in the foreground")
    run.add_argument("--detached", action="store_true", help=argparse.SUPPRESS)
    start = commands.add_parser("start", parents=[settings], help="start in the background")
    stop = commands.add_parser("stop", parents=[settings], help="stop the background hub")
    restart = commands.add_parser("restart", parents=[settings], help="stop, then start")
    for command in (start, restart):
        command.add_argument(
            "--wait", type=float, default=15.0, metavar="SECONDS", help="for readiness (15)"
        )
    for command in (stop, restart):
        command.add_argument(
            "--timeout",
            type=float,
            default=None,
            metavar="SECONDS",
            help="from SIGTERM to SIGKILL (shutdown_grace + 5)",
        )
    status = commands.add_parser("status", parents=[settings], help="is it running and answering")
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.add_argument(
        "--timeout", type=float, default=3.0, metavar="SECONDS", help="for the probe (3)"
    )
    commands.add_parser("config", parents=[settings], help="print the effective settings")
    return top


def parse(argv: list[str]) -> argparse.Namespace:
    """Parse ``argv``; flags with no command mean ``run`` (``python -m hub --port 0``)."""
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]
    return parser().parse_args(argv)


def given_settings(args: argparse.Namespace) -> dict[str, str]:
    """The settings flags present on the command line, as dotted keys to text."""
    return {key: getattr(args, key) for key in all_keys() if hasattr(args, key)}
