"""What every benchmark command shares: arguments, pinning, one run per server, the end.

A benchmark module (``fanout.py``, ``http_publish.py``, ``polling.py``) builds its
``LoadConfig``s and says how subscribers connect and how the publisher publishes
(``parse_arguments`` adds and checks the options they all have; ``parse_rate_command``
and ``rate_plans`` are the whole set-up of the two that publish at a rate for a time);
``run_one`` starts a server, runs one ``FanoutLoad`` against it and stops the server
whatever happens; ``main`` runs the whole plan on uvloop and prints the ratio tables.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import re
import resource
import signal
import sys
import traceback
from collections.abc import Awaitable, Sequence
from pathlib import Path

import uvloop
import wire
from loadgen import (
    Connector,
    FanoutLoad,
    LoadConfig,
    PublisherFactory,
    RunResult,
    websocket_publisher,
)
from procs import REPO_ROOT, SERVER_COMMANDS, ServerProcess
from publishers import PublishRefused
from report import FANOUT_ROWS, Row, format_comparison, format_run
from sioclient import ConnectionClosed, WireError

_LOG_PROBLEM = re.compile(r"traceback|error|exception|warning|critical|unhandled", re.IGNORECASE)
# "SomeError: message", the line a traceback ends with.
_EXCEPTION_SUMMARY = re.compile(r"\b[A-Za-z_][\w.]*(Error|Exception|Group|Warning): ")
_MAX_LOG_LINES = 8
# ``--scenarios`` of the commands that publish at a rate: 10/s, then as fast as possible.
SCENARIO_RATES: tuple[float | None, ...] = (10.0, None)


def parse_rate(text: str) -> float | None:
    if text.lower() == "max":
        return None
    rate = float(text)
    if not 0 < rate <= 100_000:
        raise argparse.ArgumentTypeError("rate must be 'max' or a number in (0, 100000]")
    return rate


def parse_servers(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in SERVER_COMMANDS]
    if unknown or not names:
        known = ", ".join(SERVER_COMMANDS)
        raise argparse.ArgumentTypeError(f"unknown server {unknown}; known: {known}")
    return names


def new_parser(doc: str) -> argparse.ArgumentParser:
    """A command's parser, described by the first line of its module docstring."""
    return argparse.ArgumentParser(
        description=doc.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter
    )


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--servers", type=parse_servers, default=parse_servers("hub,python-socketio")
    )
    parser.add_argument("--batch", type=int, default=100, help="subscribers connecting at once")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--generator-cpu", type=int, default=1)
    parser.add_argument("--json", metavar="PATH", help="also write all results as JSON")
    parser.add_argument(
        "--hub-src",
        type=Path,
        default=REPO_ROOT,
        metavar="DIR",
        help="run the hub package found in DIR, e.g. an exported older commit (the repo)",
    )


def check_common_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Validate what ``parse_arguments`` added; exits with a usage error."""
    if not 1 <= args.subscribers <= 10_000:
        parser.error("--subscribers must be in [1, 10000]")
    if not 0 < args.duration <= 300:
        parser.error("--duration must be in (0, 300] seconds")
    if args.batch < 1 or not 0 <= args.warmup <= 60:
        parser.error("--batch must be >= 1 and --warmup in [0, 60]")
    if args.max_lag < 0:
        parser.error("--max-lag must be >= 0")
    if args.server_cpu == args.generator_cpu:
        parser.error("the server and the generator must be on different CPUs")
    if not (args.hub_src / "hub" / "__main__.py").is_file():
        parser.error(f"--hub-src: no hub/__main__.py under {args.hub_src}")
    args.hub_src = args.hub_src.resolve()


def parse_arguments(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace:
    """Add ``--max-lag`` and the common options after the command's own, parse, check."""
    parser.add_argument(
        "--max-lag",
        type=int,
        default=32,
        help="max publishes not yet received by every subscriber (0: no limit)",
    )
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    check_common_arguments(parser, args)
    return args


def parse_rate_command(
    doc: str, argv: Sequence[str] | None, subscribers: int
) -> argparse.Namespace:
    """The options of a command that publishes at ``--rate`` for ``--duration``, parsed."""
    parser = new_parser(doc)
    parser.add_argument("--subscribers", type=int, default=subscribers)
    parser.add_argument("--rate", type=parse_rate, default=10.0, help="publishes/s, or 'max'")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument(
        "--scenarios", action="store_true", help="run --rate 10 and --rate max (ignores --rate)"
    )
    parser.add_argument("--window", type=int, default=8, help="max publishes awaiting an ack")
    args = parse_arguments(parser, argv)
    if args.window < 1:
        parser.error("--window must be >= 1")
    return args


def prepare_process(generator_cpu: int, server_cpu: int, connections: int) -> None:
    """Pin this process and make room for ``connections`` file descriptors and more."""
    available = os.sched_getaffinity(0)
    if not {generator_cpu, server_cpu} <= available:
        sys.exit(f"need CPUs {server_cpu} and {generator_cpu}; this process may use {available}")
    os.sched_setaffinity(0, {generator_cpu})
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new_soft = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
        # Children inherit it, so the servers get the headroom too.
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))


def log_problems(server: ServerProcess) -> list[str]:
    """Distinct suspicious stderr lines, the exception summaries of tracebacks first."""
    lines = [ln.strip() for ln in server.stderr_text().splitlines() if _LOG_PROBLEM.search(ln)]
    if not lines:
        return []
    unique = list(dict.fromkeys(lines))
    summaries = [ln for ln in unique if _EXCEPTION_SUMMARY.search(ln)]
    rest = [ln for ln in unique if ln not in summaries]
    shown = [line[:200] for line in (summaries + rest)[:_MAX_LOG_LINES]]
    if len(lines) > len(shown):
        shown.append(f"({len(lines)} matching lines in all, {len(unique)} distinct)")
    return shown


@dataclasses.dataclass(frozen=True)
class Plan:
    """One run to make against each server: the load, and how it connects and publishes."""

    cfg: LoadConfig
    connect: Connector = wire.connect
    open_publisher: PublisherFactory = websocket_publisher
    api_key: str | None = None  # turns the servers' HTTP publish API on


def rate_plans(
    args: argparse.Namespace,
    connect: Connector = wire.connect,
    transport: str = "websocket",
    name: str = "",
) -> list[Plan]:
    """One plan per rate (``--rate``, or every scenario rate) for ``parse_rate_command``."""
    rates = SCENARIO_RATES if args.scenarios else (args.rate,)
    return [
        Plan(
            LoadConfig(
                subscribers=args.subscribers,
                rate=rate,
                duration=args.duration,
                window=args.window,
                max_lag=args.max_lag,
                batch=args.batch,
                warmup=args.warmup,
                transport=transport,
                name=name,
            ),
            connect=connect,
        )
        for rate in rates
    ]


async def run_one(name: str, plan: Plan, args: argparse.Namespace) -> RunResult | None:
    """Start ``name``, run the load, stop the server whatever happens."""
    cfg = plan.cfg
    heading = f"== {name} | {cfg.label} |"
    try:
        cwd = args.hub_src if name == "hub" else REPO_ROOT
        server = await ServerProcess.start(name, args.server_cpu, cwd=cwd, api_key=plan.api_key)
    except Exception as exc:
        print(f"{heading} server did not start: {exc}", flush=True)
        return None
    cores = (args.server_cpu, args.generator_cpu)
    load = FanoutLoad(
        server.host,
        server.port,
        cfg,
        probe=server,
        cores=cores,
        connect=plan.connect,
        open_publisher=plan.open_publisher,
    )
    affinity = sorted(server.affinity())
    result: RunResult | None = None
    try:
        result = await load.run(name)
    except (
        OSError,
        TimeoutError,
        WireError,
        ConnectionClosed,
        PublishRefused,
    ) as exc:
        print(f"{heading} run failed: {type(exc).__name__}: {exc}", flush=True)
    except Exception:  # a bug in the benchmark itself: show where
        print(f"{heading} run failed:\n{traceback.format_exc()}", flush=True)
    finally:
        # Stopped while the subscribers are still connected: shutdown under load is part
        # of what a server must get right.
        stop = await server.stop()
        load.close()
        problems = log_problems(server)
        server.cleanup()
    if result is None:
        print(f"   server {stop.describe()}")
        print("\n".join(f"   server log: {line}" for line in problems or ["clean"]), flush=True)
        return None
    result.server_pid = server.pid
    result.server_affinity = affinity
    result.shutdown = stop.describe()
    result.server_log_problems = problems
    if not stop.clean:
        result.server_log_problems.append(f"unclean shutdown: {result.shutdown}")
    return result


async def run_plans(plans: Sequence[Plan], args: argparse.Namespace) -> list[RunResult]:
    results: list[RunResult] = []
    for plan in plans:
        for name in args.servers:
            result = await run_one(name, plan, args)
            if result is not None:
                results.append(result)
                print(format_run(result), flush=True)
                print(flush=True)
    return results


def print_comparisons(results: Sequence[RunResult], rows: Sequence[Row] = FANOUT_ROWS) -> None:
    groups = list(dict.fromkeys((r.scenario, r.subscribers, r.transport) for r in results))
    print("==== summary (ratio = hub / python-socketio) ====")
    for group in groups:
        runs = [r for r in results if (r.scenario, r.subscribers, r.transport) == group]
        print(format_comparison(group[0], runs, rows))
        print()


async def _cancellable(body: Awaitable[list[RunResult]]) -> list[RunResult]:
    # SIGTERM cancels the run like Ctrl-C does, so every server still gets stopped.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await body


def main(
    name: str,
    args: argparse.Namespace,
    plans: Sequence[Plan],
    connections: int,
    rows: Sequence[Row] = FANOUT_ROWS,
    banner: str = "",
) -> int:
    """Run every plan against every server; 0 only if every planned run gave a result."""
    prepare_process(args.generator_cpu, args.server_cpu, connections)
    print(
        f"{name}: servers {','.join(args.servers)}, server CPU {args.server_cpu}, "
        f"generator CPU {args.generator_cpu} (pid {os.getpid()}), hub from {args.hub_src}"
        + (f"; {banner}" if banner else ""),
        flush=True,
    )
    try:
        # uvloop: the generator's own per-read cost shows up in every latency sample.
        results = uvloop.run(_cancellable(run_plans(plans, args)))
    except (KeyboardInterrupt, asyncio.CancelledError):
        # Every server was already stopped by the ``finally`` in ``run_one``.
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    if results:
        print_comparisons(results, rows)
    if args.json:
        with open(args.json, "w") as out:
            json.dump([dataclasses.asdict(r) for r in results], out, indent=2)
    return 0 if len(results) == len(plans) * len(args.servers) else 1
