"""``python -m aiologic``: a short demo of what aiologic connects.

Two asyncio event loops, each in its own thread, a plain thread and (when installed) a gevent greenlet in
another thread pass one baton around in a fixed order. Every hand-off is a wake-up across threads and
libraries, through aiologic's low-level events; nobody polls and no helper thread is started per wait.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import aiologic
from aiologic.lowlevel import (
    create_async_event,
    create_green_event,
    current_async_library,
    current_green_library,
)

ROUNDS = 5


def _optional(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def main() -> None:
    print(f"aiologic {aiologic.__version__} on Python {sys.version.split()[0]}")
    found = [name for name in ("gevent", "eventlet", "trio", "anyio", "curio") if _optional(name)]
    print(f"optional libraries installed: {', '.join(found) or 'none'}")

    names = ["asyncio loop A", "asyncio loop B", "thread"]
    if "gevent" in found:
        names.append("gevent greenlet")
    kinds = {"asyncio loop A": "async", "asyncio loop B": "async"}
    # One event per turn per participant: turn r of participant i waits on batons[r][i].
    batons: list[list[Any]] = [
        [create_async_event() if kinds.get(name) else create_green_event() for name in names]
        for _ in range(ROUNDS)
    ]
    log: list[str] = []
    started = time.perf_counter()

    def pass_on(index: int, turn: int) -> None:
        following = index + 1
        if following < len(names):
            batons[turn][following].set()
        elif turn + 1 < ROUNDS:
            batons[turn + 1][0].set()

    async def loop_side(index: int) -> None:
        library = current_async_library()
        for turn in range(ROUNDS):
            await batons[turn][index]
            log.append(f"turn {turn}: {names[index]:<16} ({library} in {threading.current_thread().name})")
            pass_on(index, turn)

    def green_side(index: int) -> None:
        library = current_green_library()
        for turn in range(ROUNDS):
            batons[turn][index].wait()
            log.append(f"turn {turn}: {names[index]:<16} ({library} in {threading.current_thread().name})")
            pass_on(index, turn)

    def in_gevent(index: int) -> None:
        import gevent

        gevent.spawn(green_side, index).get()

    runners: list[Callable[[], object]] = [
        lambda: asyncio.run(loop_side(0)),
        lambda: asyncio.run(loop_side(1)),
        lambda: green_side(2),
    ]
    if "gevent" in found:
        runners.append(lambda: in_gevent(3))
    threads = [
        threading.Thread(target=runner, name=f"thread-{index}") for index, runner in enumerate(runners)
    ]
    for thread in threads:
        thread.start()
    batons[0][0].set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print("\n".join(log))
    hand_offs = len(log) - 1
    print(f"{hand_offs} hand-offs across threads and libraries in {elapsed * 1000:.1f} ms")


if __name__ == "__main__":
    main()
