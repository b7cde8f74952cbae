"""Where the CLI looks for its config file and keeps its PID, state and log files."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def _xdg(env: Mapping[str, str], name: str, fallback: str) -> Path:
    # The XDG spec says relative values are invalid and must be ignored.
    value = env.get(name, "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def config_file(env: Mapping[str, str]) -> Path:
    """The config file read when none is named: ``$XDG_CONFIG_HOME/hub/hub.toml``."""
    return _xdg(env, "XDG_CONFIG_HOME", ".config") / "hub" / "hub.toml"


def state_dir(env: Mapping[str, str]) -> Path:
    """Logs outlive a reboot: ``$XDG_STATE_HOME/hub``."""
    return _xdg(env, "XDG_STATE_HOME", ".local/state") / "hub"


def runtime_dir(env: Mapping[str, str]) -> Path:
    """PID files belong to this boot: ``$XDG_RUNTIME_DIR/hub``, else the state directory."""
    value = env.get("XDG_RUNTIME_DIR", "")
    if value and os.path.isabs(value):
        return Path(value) / "hub"
    return state_dir(env)


def pid_file(env: Mapping[str, str]) -> Path:
    return runtime_dir(env) / "hub.pid"


def log_file(env: Mapping[str, str]) -> Path:
    return state_dir(env) / "hub.log"


def state_file(pid_path: Path) -> Path:
    """The JSON state the hub keeps beside its PID file: ``hub.pid`` -> ``hub.pid.json``."""
    return pid_path.with_name(pid_path.name + ".json")
