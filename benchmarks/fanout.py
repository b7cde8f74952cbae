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
from collections.abc import Sequence
from pathlib import Path

import uvloop
import wire
from loadgen import FanoutLoad, LoadConfig, RunResult
from procs import REPO_ROOT, SERVER_COMMANDS, ServerProcess
from report import format_comparison, format_run

SCENARIO_RATES: tuple[float | None, ...] = (10.0, None)
_LOG_PROBLEM = re.compile(r"traceback|error|exception|warning|critical|unhandled", re.IGNORECASE)
# "SomeError: message", the line a traceback ends with.
_EXCEPTION_SUMMARY = re.compile(r"\b[A-Za-z_][\w.]*(Error|Exception|Group|Warning): ")
_MAX_LOG_LINES = 8


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


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=parse_rate, default=10.0, help="publishes/s, or 'max'")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument(
        "--servers", type=parse_servers, default=parse_servers("hub,python-socketio")
    )
    parser.add_argument(
        "--scenarios", action="store_true", help="run --rate 10 and --rate max (ignores --rate)"
    )
    parser.add_argument("--window", type=int, default=8, help="max publishes awaiting an ack")
    parser.add_argument(
        "--max-lag",
        type=int,
        default=32,
        help="max publishes not yet received by every subscriber (0: no limit)",
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
    args = parser.parse_args(argv)
    if not 1 <= args.subscribers <= 10_000:
        parser.error("--subscribers must be in [1, 10000]")
    if not 0 < args.duration <= 300:
        parser.error("--duration must be in (0, 300] seconds")
    if args.window < 1 or args.max_lag < 0 or args.batch < 1 or args.warmup < 0:
        parser.error("--window and --batch must be >= 1; --max-lag and --warmup >= 0")
    if args.server_cpu == args.generator_cpu:
        parser.error("the server and the generator must be on different CPUs")
    if not (args.hub_src / "hub" / "__main__.py").is_file():
        parser.error(f"--hub-src: no hub/__main__.py under {args.hub_src}")
    args.hub_src = args.hub_src.resolve()
    return args


def prepare_process(generator_cpu: int, server_cpu: int, connections: int) -> None:
    """Pin this process and make room for one file descriptor per connection."""
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


async def run_one(name: str, cfg: LoadConfig, args: argparse.Namespace) -> RunResult | None:
    """Start ``name``, run the load, stop the server whatever happens."""
    heading = f"== {name} | {cfg.label} |"
    try:
        cwd = args.hub_src if name == "hub" else REPO_ROOT
        server = await ServerProcess.start(name, args.server_cpu, cwd=cwd)
    except Exception as exc:
        print(f"{heading} server did not start: {exc}", flush=True)
        return None
    cores = (args.server_cpu, args.generator_cpu)
    load = FanoutLoad(server.host, server.port, cfg, probe=server, cores=cores)
    affinity = sorted(server.affinity())
    result: RunResult | None = None
    try:
        result = await load.run(name)
    except (OSError, TimeoutError, wire.WireError, wire.ConnectionClosed) as exc:
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


def scenario_rates(args: argparse.Namespace) -> tuple[float | None, ...]:
    return SCENARIO_RATES if args.scenarios else (args.rate,)


async def run_all(args: argparse.Namespace) -> list[RunResult]:
    rates = scenario_rates(args)
    results: list[RunResult] = []
    for rate in rates:
        cfg = LoadConfig(
            subscribers=args.subscribers,
            rate=rate,
            duration=args.duration,
            window=args.window,
            max_lag=args.max_lag,
            batch=args.batch,
            warmup=args.warmup,
        )
        for name in args.servers:
            result = await run_one(name, cfg, args)
            if result is not None:
                results.append(result)
                print(format_run(result), flush=True)
                print(flush=True)
    return results


def print_comparisons(results: Sequence[RunResult]) -> None:
    scenarios = list(dict.fromkeys(r.scenario for r in results))
    print("==== summary (ratio = hub / python-socketio) ====")
    for scenario in scenarios:
        print(format_comparison(scenario, [r for r in results if r.scenario == scenario]))
        print()


async def _main(args: argparse.Namespace) -> list[RunResult]:
    # SIGTERM cancels the run like Ctrl-C does, so every server still gets stopped.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await run_all(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    prepare_process(args.generator_cpu, args.server_cpu, args.subscribers)
    print(
        f"fanout: {args.subscribers} subscribers, duration {args.duration:g} s, "
        f"servers {','.join(args.servers)}, server CPU {args.server_cpu}, "
        f"generator CPU {args.generator_cpu} (pid {os.getpid()}), window {args.window}, "
        f"max lag {args.max_lag}, hub from {args.hub_src}",
        flush=True,
    )
    try:
        # uvloop: the generator's own per-read cost shows up in every latency sample.
        results = uvloop.run(_main(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        # Every server was already stopped by the ``finally`` in ``run_one``.
        print("fanout: interrupted", file=sys.stderr)
        return 130
    if results:
        print_comparisons(results)
    if args.json:
        with open(args.json, "w") as out:
            json.dump([dataclasses.asdict(r) for r in results], out, indent=2)
    # Non-zero when any planned run did not produce a result (server failed, run crashed).
    planned = len(scenario_rates(args)) * len(args.servers)
    return 0 if len(results) == planned else 1


if __name__ == "__main__":
    sys.exit(main())
