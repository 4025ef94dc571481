"""Queues between OS threads and asyncio tasks: streaming throughput in each direction (unbounded and
``maxsize=64``) and ping-pong latency, against janus, culsans, the published release and the standard
library's own way (``loop.call_soon_threadsafe`` into an ``asyncio.Queue``, ``queue.Queue`` back); and
thread ↔ thread ping-pong against ``queue.Queue``.
"""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from benchlib import Case, Target, register, run_async, start_thread

ITEMS = 100_000
ROUNDS = 3_000


@dataclass(frozen=True)
class Channel:
    """One queue between a thread and an asyncio task, spelled the way each implementation spells it."""

    thread_put: Callable[[Any], Any]
    thread_get: Callable[[], Any]
    task_put: Callable[[Any], Awaitable[Any] | None]  # None: the put was plain and is done
    task_get: Callable[[], Awaitable[Any]]
    close: Callable[[], Awaitable[None]] | None = None


def channel(implementation: str, maxsize: int) -> Channel:
    """Make a channel; call it inside the running loop (janus binds to the loop it is created in)."""
    if implementation == "aiologic":
        import aiologic

        ours: aiologic.Queue[Any] = aiologic.Queue(maxsize or None)
        return Channel(ours.green_put, ours.green_get, ours.async_put, ours.async_get)
    if implementation in ("janus", "culsans"):
        module: Any = __import__(implementation)
        mixed = module.Queue(maxsize)
        return Channel(mixed.sync_q.put, mixed.sync_q.get, mixed.async_q.put, mixed.async_q.get, mixed.aclose)
    if implementation == "stdlib" and maxsize == 0:
        # Towards the loop: schedule put_nowait on it. Towards the thread: a queue.Queue (never full).
        loop = asyncio.get_running_loop()
        to_loop: asyncio.Queue[Any] = asyncio.Queue()
        to_thread: queue.Queue[Any] = queue.Queue()

        def thread_put(item: Any) -> None:
            loop.call_soon_threadsafe(to_loop.put_nowait, item)

        return Channel(thread_put, to_thread.get, to_thread.put_nowait, to_loop.get)
    raise ValueError(f"no {implementation} channel with maxsize={maxsize}")


async def join(thread: Any) -> None:
    await asyncio.get_running_loop().run_in_executor(None, thread.join)


async def thread_to_task(implementation: str, maxsize: int, items: int) -> float:
    chan = channel(implementation, maxsize)
    marks: dict[str, float] = {}

    def produce() -> None:
        put = chan.thread_put
        marks["start"] = time.perf_counter()
        for item in range(items):
            put(item)

    thread = start_thread(produce)
    get = chan.task_get
    for _ in range(items):
        await get()
    end = time.perf_counter()
    await join(thread)
    if chan.close is not None:
        await chan.close()
    return (end - marks["start"]) / items


async def task_to_thread(implementation: str, maxsize: int, items: int) -> float:
    chan = channel(implementation, maxsize)
    marks: dict[str, float] = {}

    def consume() -> None:
        get = chan.thread_get
        for _ in range(items):
            get()
        marks["end"] = time.perf_counter()

    thread = start_thread(consume)
    put = chan.task_put
    start = time.perf_counter()
    for item in range(items):
        pending = put(item)
        if pending is not None:
            await pending
    await join(thread)
    if chan.close is not None:
        await chan.close()
    return (marks["end"] - start) / items


async def ping_pong_task(implementation: str, rounds: int) -> float:
    up, down = channel(implementation, 0), channel(implementation, 0)
    marks: dict[str, float] = {}

    def client() -> None:
        put, get = up.thread_put, down.thread_get
        start = time.perf_counter()
        for item in range(rounds):
            put(item)
            get()
        marks["elapsed"] = time.perf_counter() - start

    thread = start_thread(client)
    get, put = up.task_get, down.task_put
    for _ in range(rounds):
        pending = put(await get())
        if pending is not None:
            await pending
    await join(thread)
    for chan in (up, down):
        if chan.close is not None:
            await chan.close()
    return marks["elapsed"] / rounds


def ping_pong_threads(implementation: str, rounds: int) -> float:
    def make() -> tuple[Callable[[Any], None], Callable[[], Any]]:
        if implementation == "aiologic":
            import aiologic

            ours: aiologic.Queue[Any] = aiologic.Queue()
            return ours.green_put, ours.green_get
        theirs: queue.Queue[Any] = queue.Queue()
        return theirs.put, theirs.get

    (up_put, up_get), (down_put, down_get) = make(), make()

    def echo() -> None:
        for _ in range(rounds):
            down_put(up_get())

    thread = start_thread(echo)
    start = time.perf_counter()
    for item in range(rounds):
        up_put(item)
        down_get()
    elapsed = time.perf_counter() - start
    thread.join()
    return elapsed / rounds


def over_loop(scenario: Callable[..., Any], implementation: str, *args: Any) -> Callable[[int], float]:
    def trial(ops: int) -> float:
        result: float = run_async(scenario(implementation, *args, ops))
        return result

    return trial


BEST_BRIDGE = Target(
    "≥1.5x faster than best of janus/culsans/0.17.1", 1 / 1.5, ("janus", "culsans", "published")
)

for label, scenario in (("thread → asyncio", thread_to_task), ("asyncio → thread", task_to_thread)):
    for maxsize in (0, 64):
        names = ("aiologic", "janus", "culsans") + (("stdlib",) if maxsize == 0 else ())
        register(
            Case(
                name=f"{label} stream, {'unbounded' if maxsize == 0 else f'maxsize={maxsize}'}",
                group="thread ↔ asyncio throughput",
                unit="ns/item",
                scale=1e9,
                ops=ITEMS,
                repeat=5,
                trials={name: over_loop(scenario, name, maxsize) for name in names},
                baseline=(
                    "call_soon_threadsafe(asyncio.Queue.put_nowait)"
                    if label.startswith("thread")
                    else "queue.Queue fed by the task"
                )
                if maxsize == 0
                else "",
                targets=(BEST_BRIDGE,),
                params={"plot": "throughput"},
            )
        )

register(
    Case(
        name="thread ↔ asyncio ping-pong",
        group="latency",
        unit="µs/round trip",
        scale=1e6,
        ops=ROUNDS,
        repeat=9,
        trials={name: over_loop(ping_pong_task, name) for name in ("aiologic", "stdlib", "janus", "culsans")},
        baseline="call_soon_threadsafe + asyncio.Queue out, queue.Queue back",
        targets=(Target("≤1.0x call_soon_threadsafe + asyncio.Queue", 1.0, ("stdlib",)),),
    )
)


def threads_trial(implementation: str) -> Callable[[int], float]:
    return lambda ops: ping_pong_threads(implementation, ops)


register(
    Case(
        name="thread ↔ thread ping-pong",
        group="latency",
        unit="µs/round trip",
        scale=1e6,
        ops=ROUNDS,
        repeat=9,
        trials={name: threads_trial(name) for name in ("aiologic", "stdlib")},
        baseline="queue.Queue",
    )
)
