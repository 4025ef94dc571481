"""``python -m aiologic``: a short demo of what aiologic connects, in two parts.

First, two asyncio event loops in two threads, a plain thread and, when installed, a gevent greenlet and a
trio task (each in a thread of its own) take turns on one shared ``aiologic.Condition``: each waits until
the shared turn counter names it, writes a line, and passes the turn on. Every hand-off wakes a waiter in
another thread and another library; nobody polls and no helper thread is started per wait.

Then, under ``aiologic.patch_all()``, an asyncio app drives a legacy component written for threads only
(a worker pool that talks through ``queue.Queue`` and ``threading.Event``) without changing a line of it:
the app awaits the pool's own queue and event while a ticker task shows the loop never stalls, and a
mistaken blocking call from the loop is caught by the loop-block diagnostic.
"""

from __future__ import annotations

import asyncio
import importlib.util
import queue
import sys
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import aiologic

ROUNDS = 3


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def main() -> None:
    print(f"aiologic {aiologic.__version__} on Python {sys.version.split()[0]}")
    found = [name for name in ("gevent", "eventlet", "trio", "anyio", "curio") if _installed(name)]
    print(f"optional libraries installed: {', '.join(found) or 'none'}")
    print("\n1. one aiologic.Condition shared by threads, loops and libraries")
    take_turns(found)
    print("\n2. under aiologic.patch_all(): an asyncio app drives a legacy threaded component")
    drive_legacy_component()


def take_turns(found: list[str]) -> None:

    names = ["asyncio loop A", "asyncio loop B", "plain thread"]
    names += [name for name in ("gevent greenlet", "trio task") if name.split()[0] in found]
    turn = [0]  # guarded by the condition's lock
    condition: aiologic.Condition[aiologic.RLock, int] = aiologic.Condition()
    log: list[str] = []

    def take_turn(index: int, library: str) -> None:
        thread = threading.current_thread().name
        log.append(f"turn {turn[0]:>2}: {names[index]:<15} ({library} in {thread})")
        turn[0] += 1
        condition.notify_all()

    def mine(index: int) -> Callable[[], bool]:
        return lambda: turn[0] % len(names) == index

    async def async_side(index: int) -> None:
        library = aiologic.lowlevel.current_async_library()
        for _ in range(ROUNDS):
            async with condition:
                await condition.for_(mine(index))
                take_turn(index, library or "?")

    def green_side(index: int) -> None:
        library = aiologic.lowlevel.current_green_library()
        for _ in range(ROUNDS):
            with condition:
                condition.wait_for(mine(index))
                take_turn(index, library)

    runners: list[Callable[[], object]] = [
        lambda: asyncio.run(async_side(0)),
        lambda: asyncio.run(async_side(1)),
        lambda: green_side(2),
    ]
    if "gevent" in found:
        gevent_index = len(runners)
        runners.append(lambda: __import__("gevent").spawn(green_side, gevent_index).get())
    if "trio" in found:
        trio_index = len(runners)
        runners.append(lambda: __import__("trio").run(async_side, trio_index))
    threads = [threading.Thread(target=run, name=f"thread-{i}") for i, run in enumerate(runners)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print("\n".join(log))
    print(f"{len(log)} turns across {len(threads)} threads and libraries in {elapsed * 1000:.1f} ms")


class LegacyWorkerPool:
    """Code written for threads only, as a library you do not control would be: workers take jobs from a
    ``queue.Queue``, put results on another and stop when a ``threading.Event`` is set."""

    def __init__(self, workers: int) -> None:
        self.jobs: queue.Queue[int] = queue.Queue()
        self.results: queue.Queue[tuple[int, int, str]] = queue.Queue()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._work, name=f"pool-{i}") for i in range(workers)]
        for thread in self.threads:
            thread.start()

    def submit(self, job: int) -> None:
        self.jobs.put(job)

    def _work(self) -> None:
        while not self.stopping.is_set():
            try:
                job = self.jobs.get(timeout=0.05)
            except queue.Empty:
                continue
            time.sleep(0.02)  # the "work": a blocking call, as legacy code makes
            self.results.put((job, job * job, threading.current_thread().name))

    def close(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()


def drive_legacy_component() -> None:
    aiologic.patch_all()  # at startup in a real program: before the legacy code creates its primitives
    try:
        asyncio.run(_app())
    finally:
        aiologic.unpatch_all()


async def _app() -> None:
    pool = LegacyWorkerPool(workers=3)
    threads_before = threading.active_count()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    results: Any = pool.results  # a patched queue.Queue: it has an async side
    for job in range(6):
        pool.submit(job)
    for _ in range(6):
        job, square, worker = await results.async_get()
        print(f"  job {job}: {job}² = {square:>2} from {worker}, awaited by an asyncio task")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", aiologic.LoopBlockWarning)
        try:
            pool.results.get(timeout=0.01)  # the mistake: a blocking get on the loop's own thread
        except queue.Empty:
            pass
    for warning in caught:
        print(f"  caught the mistake: {str(warning.message).split(' at ')[0]}")
    ticking.cancel()
    print(
        f"  the loop ticked {ticks} times while it waited; threads: {threads_before} before the waits, "
        f"{threading.active_count()} after (no helper thread per wait)"
    )
    await asyncio.get_running_loop().run_in_executor(None, pool.close)


if __name__ == "__main__":
    main()
