"""Threads and an asyncio task share three events."""

import asyncio
import threading

import aiologic

start = aiologic.Event()  # one-shot: "go"
finished = aiologic.CountdownEvent()  # set while its counter is zero
changed = aiologic.REvent()  # reusable: can be cleared and set again


def worker(n: int, results: list[int]) -> None:
    start.wait()  # green side: blocks this thread only
    results.append(n * n)
    finished.down()  # plain method: callable from anywhere


async def main() -> None:
    results: list[int] = []
    threads = [threading.Thread(target=worker, args=(n, results)) for n in range(3)]
    finished.up(len(threads))  # three workers must finish
    for thread in threads:
        thread.start()

    start.set()  # wakes the three threads from the event loop
    assert await finished.with_(timeout=5)  # async side: the loop keeps running
    for thread in threads:
        thread.join()
    print("results:", sorted(results))

    # An REvent is reusable: each round, a new thread sets it and the task clears it.
    for _ in range(2):
        setter = threading.Thread(target=changed.set)
        setter.start()
        assert await changed  # plain ``await``: no timeout
        changed.clear()
        setter.join()
    print("set after two rounds:", changed.is_set())
    print("zero timeout on an unset event:", await changed.with_(timeout=0))


asyncio.run(main())
