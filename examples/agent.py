"""An agent run that streams its steps to its user as it works.

    python examples/agent.py                      # embeds a hub on 127.0.0.1:8765, then
    python examples/watch.py --user alice         # (another terminal) shows what alice gets

A scripted agent (no model: the point is the events) answers a question in turns. It
sends ``agent_started``; each turn ``agent_thinking``, then ``tool_executing`` and
``tool_completed`` for the tool it calls (paired by ``call_id``); finally
``agent_completed`` with its answer, or ``agent_error`` with ``--fail``. Every step
matters and their order too, so nothing is coalesced and all keep normal priority but
the error, which is critical: it overtakes whatever is still queued for the user. The
outcome is sent with ``ack``: resent until the client acknowledges it.
``--url URL --api-key K`` sends through a running ``python -m hub``'s HTTP API instead.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import trio
from sink import Sink, add_arguments, open_sink

from hub.events import (
    AgentCompleted,
    AgentError,
    AgentStarted,
    AgentThinking,
    ToolCompleted,
    ToolExecuting,
)

# The "world" the tools look things up in.
FACTS = {"Lyon": {"population": 522_250, "area_km2": 47.87}}


def search(city: str) -> dict[str, Any]:
    if city not in FACTS:
        raise LookupError(f"nothing known about {city!r}")
    return FACTS[city]


def calculator(a: float, b: float) -> float:
    return round(a / b, 1)


TOOLS: dict[str, Callable[..., Any]] = {"search": search, "calculator": calculator}


class ToolFailed(Exception):
    pass


class Agent:
    """One run: numbers its turns and calls, and reports each step."""

    def __init__(self, sink: Sink, run_id: str, delay: float) -> None:
        self.sink, self.run_id, self.delay = sink, run_id, delay
        self.step = 0

    async def think(self, thought: str) -> None:
        self.step += 1
        await self.sink.emit(AgentThinking(run_id=self.run_id, step=self.step, thought=thought))
        await trio.sleep(self.delay)  # the model works

    async def call(self, tool: str, **arguments: Any) -> Any:
        call_id = f"{self.run_id}-call-{self.step}"
        await self.sink.emit(
            ToolExecuting(
                run_id=self.run_id, call_id=call_id, tool=tool, arguments=arguments, step=self.step
            )
        )
        started = time.monotonic()
        await trio.sleep(self.delay)  # the tool works
        try:
            result, error = TOOLS[tool](**arguments), None
        except Exception as failure:
            result, error = None, failure
        await self.sink.emit(
            ToolCompleted(
                run_id=self.run_id,
                call_id=call_id,
                tool=tool,
                ok=error is None,
                result=result,
                error=None if error is None else str(error),
                duration_seconds=round(time.monotonic() - started, 3),
            )
        )
        if error is not None:
            raise ToolFailed(f"{tool} failed: {error}") from error
        return result


async def run_agent(sink: Sink, args: argparse.Namespace) -> int:
    """Answer the question step by step; returns the process's exit status."""
    run_id = args.run_id or f"agent-{uuid.uuid4().hex[:8]}"
    city = "Atlantis" if args.fail else args.city
    began = time.monotonic()
    await sink.emit(
        AgentStarted(
            run_id=run_id,
            agent="researcher",
            task=f"What is the population density of {city}?",
            model="scripted",
        )
    )
    agent = Agent(sink, run_id, args.delay)
    try:
        await agent.think(f"I need {city}'s population and area.")
        facts = await agent.call("search", city=city)
        await agent.think("Density is population over area.")
        density = await agent.call("calculator", a=facts["population"], b=facts["area_km2"])
    except ToolFailed as error:
        await sink.emit(
            AgentError(run_id=run_id, message=str(error), error_type="ToolFailed", step=agent.step),
            priority="critical",  # ahead of anything still queued for the user
            ack=True,  # the outcome must arrive: resent until the client acknowledges it
        )
        print(f"{run_id} failed at step {agent.step}: {error}", file=sys.stderr, flush=True)
        return 1
    answer = f"{city} has about {density:,} inhabitants per km2."
    await sink.emit(
        AgentCompleted(
            run_id=run_id,
            output=answer,
            steps=agent.step,
            duration_seconds=round(time.monotonic() - began, 3),
        ),
        ack=True,
    )
    print(f"{run_id}: {answer}", flush=True)
    return 0


async def main(args: argparse.Namespace) -> int:
    async with open_sink(args) as sink:
        return await run_agent(sink, args)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--run-id", help="the run's id (default: a random one)")
    parser.add_argument("--city", default="Lyon", help="what to ask about (default Lyon)")
    parser.add_argument("--delay", type=float, default=0.3, help="seconds per step")
    parser.add_argument("--fail", action="store_true", help="ask what no tool knows")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(trio.run(main, parse()))
