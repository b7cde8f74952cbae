"""SIGHUP: re-read the config file and the environment, apply what can change live."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import attrs

from hub.cli import logs
from hub.cli.logs import LogFile
from hub.cli.settings import SECRET_SETTINGS, Resolved, Settings
from hub.core.hub import Hub
from hub.errors import ConfigError

log = logging.getLogger("hub.cli")

# Bound to the listening socket or the files the process holds: only a restart applies them.
RESTART_ONLY = ("host", "port", "log_file", "pid_file")


def _flat(settings: Settings) -> dict[str, Any]:
    own = attrs.asdict(settings, recurse=False)
    del own["hub"]
    return own | {f"hub.{key}": value for key, value in attrs.asdict(settings.hub).items()}


def _changes(old: Settings, new: Settings) -> dict[str, tuple[Any, Any]]:
    before, after = _flat(old), _flat(new)
    return {key: (before[key], after[key]) for key in before if before[key] != after[key]}


def _describe(key: str, old: Any, new: Any) -> str:
    if key.removeprefix("hub.") in SECRET_SETTINGS:
        return f"{key} changed (not shown)"
    return f"{key} {old} -> {new}"


class Reloader:
    """Holds the live settings; ``reload()`` is the SIGHUP handler."""

    def __init__(
        self,
        hub: Hub,
        current: Settings,
        source: Callable[[], Resolved],
        log_file: LogFile | None,
    ) -> None:
        self.hub = hub
        self.current = current
        self.source = source
        self.log_file = log_file

    def reload(self) -> None:
        if self.log_file is not None:
            self.log_file.reopen()  # first, so the lines below land in the new file
        try:
            new = self.source().settings
        except ConfigError as error:
            log.error("SIGHUP: reload failed, keeping the current settings: %s", error)
            return
        changes = _changes(self.current, new)
        for key in RESTART_ONLY:
            if key in changes:
                old, value = changes.pop(key)
                log.warning("SIGHUP: %s changed (%s -> %s): applies on restart", key, old, value)
        logging.getLogger().setLevel(new.log_level)
        self.hub.reconfigure(**attrs.asdict(new.hub))
        logs.update_redaction(new.hub.redact_keys)
        self.current = attrs.evolve(
            self.current,
            log_level=new.log_level,
            shutdown_grace=new.shutdown_grace,
            hub=new.hub,
        )
        described = ", ".join(_describe(key, *change) for key, change in changes.items())
        log.info("SIGHUP: reloaded settings: %s", described or "nothing changed")
        shown = {
            key: "(not shown)" if key.removeprefix("hub.") in SECRET_SETTINGS else value
            for key, value in _flat(self.current).items()
        }
        log.debug("SIGHUP: settings now %s", shown)
