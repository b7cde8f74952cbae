"""A trio training loop that reports its lifecycle to its owner as it runs.

    python examples/training.py                   # embeds a hub on 127.0.0.1:8765, then
    python examples/watch.py --user alice         # (another terminal) shows what alice gets

The run waits for a client of its user, then trains a toy model and sends, through the
per-user emitter: ``training_started``; ``training_progress`` every step, coalesced
(``coalesce_key``: a client that falls behind gets the latest progress, not a backlog);
``log`` lines at low priority, batchable; then ``training_completed``, or
``training_stopped`` with ``--stop-at N``, or ``training_error`` with ``--fail-at N``.
The error goes at critical priority: it overtakes whatever is still queued for the
user. The rest keeps normal priority, so a dashboard never sees the run complete before
its last progress. The outcome is sent with ``ack``: resent until the client
acknowledges it. ``--url URL --api-key K`` sends through a running ``python -m hub``'s
HTTP API instead.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
import traceback
import uuid

import trio
from sink import Sink, add_arguments, open_sink

from hub.events import (
    Log,
    TrainingCompleted,
    TrainingError,
    TrainingProgress,
    TrainingStarted,
    TrainingStopped,
)


class Diverged(FloatingPointError):
    """What a real loop raises when its loss goes NaN (``--fail-at``)."""


async def train(sink: Sink, args: argparse.Namespace) -> int:
    """Run the toy training loop; returns the process's exit status."""
    run_id = args.run_id or f"run-{uuid.uuid4().hex[:8]}"
    steps, lr = args.steps, 0.05
    began = time.monotonic()
    await sink.emit(
        TrainingStarted(
            run_id=run_id,
            name="toy-regression",
            total_steps=steps,
            epochs=args.epochs,
            config={"lr": lr, "batch_size": 32, "seed": args.seed},
        )
    )
    rng = random.Random(args.seed)
    per_epoch = max(1, steps // args.epochs)
    loss = 2.0
    step = 0
    try:
        for step in range(1, steps + 1):
            await trio.sleep(args.delay)  # stands for one optimizer step
            if step == args.fail_at:
                raise Diverged(f"loss became NaN at step {step} (lr {lr} too high?)")
            loss = max(1e-4, loss * (1 - lr) + rng.gauss(0, 0.01))
            elapsed = time.monotonic() - began
            progress = TrainingProgress(
                run_id=run_id,
                step=step,
                total=steps,
                epoch=(step - 1) // per_epoch,
                metrics={"loss": round(loss, 5), "accuracy": round(1 - math.exp(-step / 40), 4)},
                eta_seconds=round(elapsed / step * (steps - step), 3),
            )
            # One key per run: a newer progress replaces the one still queued.
            await sink.emit(progress, coalesce_key=f"{run_id}:progress")
            if step % per_epoch == 0:
                epoch = step // per_epoch
                # Low and batchable: log lines may wait and leave together.
                await sink.emit(
                    Log(message=f"epoch {epoch} done, loss {loss:.4f}", run_id=run_id),
                    priority="low",
                    batch=True,
                )
            if step == args.stop_at:
                reason = "early stopping: loss plateaued"
                await sink.emit(TrainingStopped(run_id=run_id, reason=reason, step=step), ack=True)
                print(f"{run_id} stopped at step {step}, loss {loss:.4f}", flush=True)
                return 0
    except Exception as error:
        await sink.emit(
            TrainingError(
                run_id=run_id,
                message=str(error),
                error_type=type(error).__name__,
                step=step,
                traceback=traceback.format_exc(),
            ),
            priority="critical",  # ahead of everything still queued for the user
            ack=True,  # the outcome must arrive: resent until the client acknowledges it
        )
        print(f"{run_id} failed at step {step}: {error}", file=sys.stderr, flush=True)
        return 1
    await sink.emit(
        TrainingCompleted(
            run_id=run_id,
            steps=steps,
            metrics={"loss": round(loss, 5)},
            duration_seconds=round(time.monotonic() - began, 3),
            checkpoint=f"checkpoints/{run_id}.pt",
        ),
        ack=True,
    )
    print(f"{run_id} completed {steps} steps, loss {loss:.4f}", flush=True)
    return 0


async def main(args: argparse.Namespace) -> int:
    async with open_sink(args) as sink:
        return await train(sink, args)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--run-id", help="the run's id (default: a random one)")
    parser.add_argument("--steps", type=int, default=200, help="steps to train (default 200)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs in the steps (default 4)")
    parser.add_argument("--delay", type=float, default=0.05, help="seconds per step")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fail-at", type=int, help="raise at this step: training_error")
    parser.add_argument("--stop-at", type=int, help="stop early at this step: training_stopped")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(trio.run(main, parse()))
