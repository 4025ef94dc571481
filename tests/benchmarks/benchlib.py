"""Shared machinery of the benchmark suite: the case registry, the timing loops, the worker side, statistics.

A case names what it measures and gives one trial function per implementation; a trial runs a number of
operations and returns the seconds one operation took. The runner (``run.py``) keeps two worker processes,
one importing this tree's aiologic and one importing the published release, and asks them for trials in turn
(A B C, B C A, ...), so slow drifts of a noisy machine hit every implementation alike. The files
``bench_*.py`` next to this one only declare cases; all timing loops live here.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import statistics
import sys
import threading
import time
import traceback
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, TextIO

Trial = Callable[[int], float]
"""``trial(ops)``: run ``ops`` operations and return the seconds per operation."""

Setup = Callable[[], dict[str, Any]]
"""Builds the objects a timed statement uses, by name (called inside the running loop for async cases)."""

IMPLEMENTATIONS = ("aiologic", "stdlib", "janus", "culsans", "published")
LABELS = {
    "aiologic": "aiologic",
    "stdlib": "stdlib/native",
    "janus": "janus 2.0",
    "culsans": "culsans 0.11",
    "published": "aiologic 0.17.1",
}
# The worker process each implementation runs in. "published" runs the same trial code as "aiologic", with
# the release first on sys.path. culsans is built on aiologic and declares aiologic>=0.16,<0.18, so it runs on
# the release it was made for, not on this tree.
WORKER = {
    "aiologic": "ours",
    "stdlib": "ours",
    "janus": "ours",
    "culsans": "published",
    "published": "published",
}
BENCH_MODULES = (
    "bench_uncontended",
    "bench_bridges",
    "bench_contention",
    "bench_wakeall",
    "bench_gevent",
    "bench_import",
    "bench_patched",
)


@dataclass(frozen=True)
class Target:
    """A goal for aiologic's median: at most ``max_ratio`` times the best median among ``against``."""

    label: str
    max_ratio: float
    against: tuple[str, ...]
    case: str | None = None  # take the reference from another row (default: the same row)


@dataclass(frozen=True)
class Case:
    """One row of the table: what is measured, in which unit, and each implementation's trial."""

    name: str
    group: str
    unit: str  # e.g. "ns/op"
    scale: float  # seconds -> unit
    ops: int  # operations per trial in a full run (a tenth with --quick); the contended rows: milliseconds
    repeat: int  # trials per implementation in a full run
    trials: Mapping[str, Trial]  # by implementation; "published" reuses "aiologic"
    baseline: str = ""  # what the stdlib/native column runs
    targets: tuple[Target, ...] = ()
    published: bool = True
    skip: Callable[[], str | None] | None = None  # a reason to leave the row empty, asked in the ours worker
    params: Mapping[str, Any] = field(default_factory=dict)  # what the plots group and order rows by

    def implementations(self) -> list[str]:
        present = set(self.trials)
        if self.published and "aiologic" in present:
            present.add("published")
        return [name for name in IMPLEMENTATIONS if name in present]

    def trial(self, implementation: str) -> Trial:
        return self.trials["aiologic" if implementation == "published" else implementation]


CASES: dict[str, Case] = {}


def register(case: Case) -> Case:
    if case.name in CASES:
        raise ValueError(f"two benchmark cases named {case.name!r}")
    CASES[case.name] = case
    return case


def load_cases() -> dict[str, Case]:
    for module in BENCH_MODULES:
        __import__(module)
    return CASES


# Timing loops


@functools.cache
def timed_loop(stmt: str, names: tuple[str, ...], is_async: bool = False) -> Callable[..., Any]:
    """Compile ``loop(n, *objects) -> (start, end)`` that runs ``stmt`` ``n`` times (a coroutine if async).

    The statement is inlined into the loop (as :mod:`timeit` does), so a measurement carries no call per
    operation beyond the statement's own; the objects it uses are locals of the loop.
    """
    header = "async def" if is_async else "def"
    body = "\n".join("        " + line for line in stmt.splitlines())
    source = (
        f"{header} loop(_n, {', '.join(names)}):\n"
        "    _start = _clock()\n"
        "    for _ in _repeat(None, _n):\n"
        f"{body}\n"
        "    return _start, _clock()\n"
    )
    namespace: dict[str, Any] = {"_clock": time.perf_counter, "_repeat": repeat}
    exec(compile(source, f"<loop: {stmt}>", "exec"), namespace)
    return namespace["loop"]  # type: ignore[no-any-return]


def run_loop(stmt: str, objects: dict[str, Any], n: int) -> tuple[float, float]:
    """Run ``stmt`` ``n`` times with ``objects`` in scope; return the (start, end) clock readings."""
    result: tuple[float, float] = timed_loop(stmt, tuple(objects))(n, *objects.values())
    return result


async def run_async_loop(stmt: str, objects: dict[str, Any], n: int) -> tuple[float, float]:
    result: tuple[float, float] = await timed_loop(stmt, tuple(objects), True)(n, *objects.values())
    return result


def micro(stmt: str, setup: Setup, *, is_async: bool = False) -> Trial:
    """A trial that times ``stmt`` in one thread (on a fresh asyncio loop when ``is_async``)."""

    def trial(ops: int) -> float:
        if is_async:

            async def main() -> tuple[float, float]:
                return await run_async_loop(stmt, setup(), ops)

            start, end = run_async(main())
        else:
            start, end = run_loop(stmt, setup(), ops)
        return (end - start) / ops

    return trial


def run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on a fresh asyncio loop in this thread."""
    return asyncio.run(coro)


def in_threads(
    count: int, body: Callable[[int], Any], meanwhile: Callable[[], Any] | None = None
) -> list[Any]:
    """Run ``body(index)`` in ``count`` new threads released together, and ``meanwhile()`` in this one;
    return the bodies' results in order."""
    gate = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        gate.wait()
        try:
            results[index] = body(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    if meanwhile is not None:
        meanwhile()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def start_thread(body: Callable[[], Any]) -> threading.Thread:
    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread


# Statistics


@dataclass(frozen=True)
class Summary:
    median: float
    q1: float
    q3: float
    low: float
    high: float
    count: int

    @property
    def spread(self) -> float:
        """Half the interquartile range, relative to the median."""
        return (self.q3 - self.q1) / 2 / self.median if self.median else 0.0


def summarize(samples: Sequence[float]) -> Summary:
    ordered = sorted(samples)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return Summary(statistics.median(ordered), q1, q3, ordered[0], ordered[-1], len(ordered))


# Worker side


def identity() -> dict[str, Any]:
    import aiologic

    return {
        "aiologic": os.path.dirname(aiologic.__file__ or "?"),
        "version": str(aiologic.__version__),
        "patch_all": hasattr(aiologic, "patch_all"),
        "python": sys.version.split()[0],
        "cpus": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }


def handle(request: dict[str, Any]) -> dict[str, Any]:
    op = request["op"]
    if op == "hello":
        return identity()
    case = CASES[request["case"]]
    if op == "probe":
        return {"skip": case.skip() if case.skip else None}
    if op == "trial":
        return {"value": case.trial(request["impl"])(request["ops"])}
    raise ValueError(f"unknown request {op!r}")


def serve(stdin: TextIO = sys.stdin) -> None:
    """Answer the runner's JSON-line requests until stdin closes."""
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints of benchmarked code go to stderr, not into the replies
    load_cases()
    for line in stdin:
        try:
            reply = handle(json.loads(line))
        except Exception as error:
            traceback.print_exc()
            reply = {"error": f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(reply) + "\n")
