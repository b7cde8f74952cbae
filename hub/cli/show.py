"""``hub config``: the effective settings as TOML, each line saying where its value came from.

The output is itself a valid config file (unset paths are comments).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from hub.cli import paths
from hub.cli.ports import Ports
from hub.cli.settings import HUB_KEYS, PROCESS_KEYS, SECRET_SETTINGS, Resolved

_COMMENT_COLUMN = 34
_UNSET = {
    "log_file": "run logs to stderr; start logs to {}",
    "pid_file": "run keeps none; start, stop and status use {}",
}


_SECRET = SECRET_SETTINGS


def _toml(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, Ports):
        return str(value.first) if value.first == value.last else json.dumps(str(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # a TOML basic string takes JSON's escapes


def _line(key: str, value: Any, origin: str) -> str:
    return f"{key} = {_toml(value)}".ljust(_COMMENT_COLUMN) + f"  # {origin}"


def render(resolved: Resolved, env: Mapping[str, str]) -> str:
    settings = resolved.settings
    lines = ["# precedence, lowest first: default < config file < HUB_* environment < flags"]
    if resolved.config_file is not None:
        lines.append(f"# config file: {resolved.config_file} (from {resolved.config_origin})")
    else:
        lines.append(f"# config file: none ({resolved.config_origin} does not exist)")
    defaults = {"log_file": paths.log_file(env), "pid_file": paths.pid_file(env)}
    for key in PROCESS_KEYS:
        value = getattr(settings, key)
        if value is None:
            lines.append(f"# {key}: not set; " + _UNSET[key].format(defaults[key]))
        else:
            lines.append(_line(key, value, resolved.origins[key]))
    lines += ["", "[hub]"]
    hub = attrs.asdict(settings.hub)
    for key in HUB_KEYS:
        origin = resolved.origins[f"hub.{key}"]
        if key in _SECRET and hub[key]:
            what = f"{len(hub[key])} set" if isinstance(hub[key], tuple) else "set"
            lines.append(f"# {key}: {what}, not shown  ({origin})")
        else:
            lines.append(_line(key, hub[key], origin))
    if resolved.ignored_env:
        lines += ["", "# ignored (no such setting): " + ", ".join(resolved.ignored_env)]
    return "\n".join(lines)
