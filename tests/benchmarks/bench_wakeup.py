"""Cost of one wake-up through aiologic's low-level events, per pair of libraries.

Two participants play ping-pong with fresh events: A waits, B sets A's event and waits on its own, and so on.
The time per hand-off (one wait ended by one set) is printed for every pair: both on one thread's loop or hub
("same thread") and on two threads. Run: ``python tests/benchmarks/bench_wakeup.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import ASYNC, GREEN, Running, Task, run

LIBRARIES = GREEN + tuple(name for name in ASYNC if not name.startswith("anyio-"))


def make_events(library: str, count: int) -> list[Any]:
    from aiologic.lowlevel import create_async_event, create_green_event

    create = create_green_event if library in GREEN else create_async_event
    return [create() for _ in range(count)]


async def player(t: Task, mine: list[Any], theirs: list[Any], first: bool) -> float:
    """Wait on ``mine[i]``, then set ``theirs[i]`` (or the other way round for the first player)."""
    started = time.perf_counter()
    for own, other in zip(mine, theirs, strict=True):
        if first:
            other.set()
            await t.wait(own)
        else:
            await t.wait(own)
            other.set()
    return time.perf_counter() - started


def cross_thread(waiter: str, waker: str, rounds: int) -> float:
    a_events = make_events(waiter, rounds)
    b_events = make_events(waker, rounds)
    a = Running(waiter, player, a_events, b_events, False)
    elapsed: float = run(waker, player, b_events, a_events, True)
    a.result()
    return elapsed / (2 * rounds)


def same_thread(library: str, rounds: int) -> float:
    a_events = make_events(library, rounds)
    b_events = make_events(library, rounds)

    async def both(t: Task) -> float:
        results = await t.gather(
            lambda t: player(t, a_events, b_events, False),
            lambda t: player(t, b_events, a_events, True),
        )
        return max(results)

    elapsed: float = run(library, both)
    return elapsed / (2 * rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    def measure(function: Any, *a: Any) -> float:
        return statistics.median(function(*a, args.rounds) for _ in range(args.repeat)) * 1e6

    print(f"µs per wake-up (median of {args.repeat} x {args.rounds} round trips)\n")
    print("same thread (two tasks/greenlets on one loop or hub; threads: two threads)")
    for library in LIBRARIES:
        if library == "threading":
            cost = measure(cross_thread, library, library)
        else:
            cost = measure(same_thread, library)
        print(f"  {library:<10} {cost:8.1f}")
    print("\nacross threads: waiter library (rows) woken by a waker library in another thread (columns)")
    print("  " + " " * 10 + "".join(f"{name:>10}" for name in LIBRARIES))
    for waiter in LIBRARIES:
        row = "".join(f"{measure(cross_thread, waiter, waker):10.1f}" for waker in LIBRARIES)
        print(f"  {waiter:<10}{row}")


if __name__ == "__main__":
    main()
