"""Contended locks: four threads taking turns on one lock (against ``threading.Lock``), and two asyncio loops
in two threads taking turns on one aiologic lock (no standard-library lock can be shared by two loops).

Every party runs the uncontended rows' ``with``/``async with`` statement in blocks of 100 until the trial's
time is up; a trial lasts many GIL switch intervals (5 ms), so the parties really overlap whatever one
acquisition costs. The figure is the span from the first party's start to the last party's end divided by
all acquisitions made.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from typing import Any

from benchlib import Case, in_threads, register, run_async, run_async_loop, run_loop

THREADS = 4
LOOPS = 2
BLOCK = 100
MILLISECONDS = 300  # a trial's "ops" for these rows: how long the parties keep acquiring


Span = tuple[float, float, int]  # start, end, acquisitions


def contend(parties: int, party: Callable[[list[bool]], Span], milliseconds: int) -> float:
    running = [True]

    def stop_later() -> None:
        time.sleep(milliseconds / 1000)
        running[0] = False

    spans: list[Span] = in_threads(parties, lambda _: party(running), stop_later)
    acquisitions = sum(count for _, _, count in spans)
    return (max(end for _, end, _ in spans) - min(start for start, _, _ in spans)) / acquisitions


def threads_trial(module: str) -> Callable[[int], float]:
    def trial(milliseconds: int) -> float:
        objects = {"obj": importlib.import_module(module).Lock()}

        def party(running: list[bool]) -> Span:
            count, start = 0, time.perf_counter()
            while running[0]:
                run_loop("with obj: pass", objects, BLOCK)
                count += BLOCK
            return start, time.perf_counter(), count

        return contend(THREADS, party, milliseconds)

    return trial


def loops_trial(milliseconds: int) -> float:
    import aiologic

    objects: dict[str, Any] = {"obj": aiologic.Lock()}

    def party(running: list[bool]) -> Span:
        async def main() -> Span:
            count, start = 0, time.perf_counter()
            while running[0]:
                await run_async_loop("async with obj: pass", objects, BLOCK)
                count += BLOCK
            return start, time.perf_counter(), count

        span: Span = run_async(main())
        return span

    return contend(LOOPS, party, milliseconds)


register(
    Case(
        name=f"Lock: {THREADS} threads contending",
        group="contended",
        unit="ns/acquire",
        scale=1e9,
        ops=MILLISECONDS,
        repeat=7,
        trials={"aiologic": threads_trial("aiologic"), "stdlib": threads_trial("threading")},
        baseline="threading.Lock",
    )
)
register(
    Case(
        name=f"Lock: {LOOPS} asyncio loops in {LOOPS} threads",
        group="contended",
        unit="ns/acquire",
        scale=1e9,
        ops=MILLISECONDS,
        repeat=7,
        trials={"aiologic": loops_trial},
    )
)
