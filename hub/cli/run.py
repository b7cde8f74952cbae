"""``hub run``: serve in the foreground until SIGTERM or SIGINT.

It prints ``hub listening on http://HOST:PORT`` on stdout once ready (scripts parse it).
With a PID file it refuses to run beside a live hub, keeps its state beside the PID
file for ``status``, and removes both on exit. ``start`` runs this same command, detached.
"""

from __future__ import annotations

import errno
import logging
import signal
import sys
from collections.abc import Callable

import attrs
import trio

from hub.cli import logs
from hub.cli.codes import FAILURE, OK
from hub.cli.pidfile import AlreadyRunning, PidFile
from hub.cli.reload import Reloader
from hub.cli.settings import Resolved, Settings
from hub.cli.signals import HANDLED, obey_signals
from hub.core.hub import Hub
from hub.standalone import standalone_hub

log = logging.getLogger("hub.cli")

# How often the connection count in the state file is brought up to date.
STATE_REFRESH = 1.0


def url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class Foreground:
    """One run of the hub: serve, keep the state file, obey signals."""

    def __init__(
        self, resolved: Resolved, source: Callable[[], Resolved], *, detached: bool
    ) -> None:
        self.settings: Settings = resolved.settings
        self.detached = detached
        self.source = source
        self.pid_file = PidFile(self.settings.pid_file) if self.settings.pid_file else None
        self.forced = False

    async def serve(self, log_file: logs.LogFile | None) -> None:
        hub = standalone_hub(**attrs.asdict(self.settings.hub))
        reloader = Reloader(hub, self.settings, self.source, log_file)

        async def drain() -> None:
            await hub.shutdown(reloader.current.shutdown_grace)

        with trio.open_signal_receiver(*HANDLED) as signals:
            async with trio.open_nursery() as nursery:
                port = await nursery.start(self._serve_hub, hub, nursery.cancel_scope)
                self._announce(hub, port)
                nursery.start_soon(self._keep_state, hub)
                self.forced = await obey_signals(signals, nursery, drain, reloader.reload)

    async def _serve_hub(
        self, hub: Hub, everything: trio.CancelScope, *, task_status: trio.TaskStatus[int]
    ) -> None:
        settings = self.settings
        await hub.serve(settings.host, settings.port.candidates, task_status=task_status)
        everything.cancel()  # serve returns once a shutdown is done: nothing left to do

    def _announce(self, hub: Hub, port: int) -> None:
        address = url(self.settings.host, port)
        if self.pid_file is not None:
            self.pid_file.update_state(
                host=self.settings.host,
                port=port,
                ports=str(self.settings.port),
                url=address,
                path=self.settings.hub.path,
                started_at=hub.started_at,
                log_file=str(self.settings.log_file) if self.settings.log_file else None,
                connections=0,
            )
        if not self.detached:  # a detached hub's stdout is its log, which has this line
            print(f"hub listening on {address}", flush=True)

    async def _keep_state(self, hub: Hub) -> None:
        if self.pid_file is None:
            return
        written = 0
        while True:
            await trio.sleep(STATE_REFRESH)
            connections = hub.counters.connections  # stats() would copy every room's size
            if connections != written:
                self.pid_file.update_state(connections=connections)
                written = connections


def _listen_failure(settings: Settings, error: OSError) -> str:
    where = f"{settings.host}:{settings.port}"
    if error.errno == errno.EADDRINUSE and settings.port.first != settings.port.last:
        return f"hub: cannot listen on {where}: every port of the range is taken"
    return f"hub: cannot listen on {where}: {error}"


def _first_leaf(group: BaseExceptionGroup[OSError]) -> OSError:
    found: BaseException = group
    while isinstance(found, BaseExceptionGroup):
        found = found.exceptions[0]
    assert isinstance(found, OSError)
    return found


def _exit_now(signum: int, frame: object) -> None:
    raise SystemExit(FAILURE)


def _until_trio_takes_signals() -> None:
    # A stop signal before trio's handlers are in place must still unwind through the
    # `finally` that removes the PID file; a SIGHUP then has nothing to reload yet.
    signal.signal(signal.SIGTERM, _exit_now)
    signal.signal(signal.SIGINT, _exit_now)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def run(resolved: Resolved, source: Callable[[], Resolved], *, detached: bool = False) -> int:
    """Serve until stopped; the exit status (0 after a graceful drain)."""
    settings = resolved.settings
    log_file = logs.configure(
        settings.log_level,
        settings.log_file,
        detached=detached,
        redact_keys=settings.hub.redact_keys,
    )
    foreground = Foreground(resolved, source, detached=detached)
    pid_file = foreground.pid_file
    _until_trio_takes_signals()
    if pid_file is not None:
        try:
            stale = pid_file.acquire()
        except AlreadyRunning as running:
            where = running.found.state.get("url", "address unknown")
            print(
                f"hub: already running (pid {running.found.pid}, {where}); "
                f"PID file {pid_file.path}",
                file=sys.stderr,
            )
            return FAILURE
        if stale is not None:
            log.warning(
                "replaced stale PID file %s (pid %d: %s)",
                pid_file.path,
                stale.pid,
                stale.liveness.value,
            )
    failure = None
    try:
        trio.run(foreground.serve, log_file)
    except* OSError as group:
        # Binding fails inside the nursery, so the error arrives wrapped in a group.
        failure = _listen_failure(settings, _first_leaf(group))
    finally:
        if pid_file is not None:
            pid_file.release()
    if failure is not None:
        print(failure, file=sys.stderr, flush=True)
        return FAILURE
    status = FAILURE if foreground.forced else OK
    log.info("hub stopped: exit status %d", status)
    return status
