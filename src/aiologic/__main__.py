"""``python -m aiologic``: a short demo of what aiologic connects.

Two asyncio event loops in two threads, a plain thread and, when installed, a gevent greenlet and a trio
task (each in a thread of its own) take turns on one shared ``aiologic.Condition``: each waits until the
shared turn counter names it, writes a line, and passes the turn on. Every hand-off wakes a waiter in
another thread and another library; nobody polls and no helper thread is started per wait.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import threading
import time
from collections.abc import Callable

import aiologic

ROUNDS = 3


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def main() -> None:
    print(f"aiologic {aiologic.__version__} on Python {sys.version.split()[0]}")
    found = [name for name in ("gevent", "eventlet", "trio", "anyio", "curio") if _installed(name)]
    print(f"optional libraries installed: {', '.join(found) or 'none'}")

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


if __name__ == "__main__":
    main()
