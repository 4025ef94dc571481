"""A thread and an asyncio task share a lock, a condition and a synchronized function."""

import asyncio
import threading

import aiologic

lock = aiologic.Lock()
counter = 0

items: list[int] = []
changed = aiologic.Condition()  # over a new aiologic.RLock

reports: list[str] = []


@aiologic.synchronized  # every call holds this function's own RLock
def report(line: str) -> None:
    reports.append(line)


def thread_side() -> None:
    global counter
    for _ in range(1000):
        with lock:  # green side: acquire as this thread
            counter += 1
    for n in range(3):
        with changed:
            items.append(n)
            changed.notify()  # wakes the task only once its predicate holds
    report("thread done")


async def main() -> None:
    global counter
    thread = threading.Thread(target=thread_side)
    thread.start()
    for _ in range(1000):
        async with lock:  # async side: acquire as this task
            counter += 1
    async with changed:
        # Releases the lock while waiting, holds it again when this returns.
        await changed.for_(lambda: len(items) == 3)
        print("items:", items)
    thread.join()
    report("task done")
    print("counter:", counter)
    print("reports:", reports)

    # A Lock is not reentrant: acquiring it twice is an error, not a deadlock.
    async with lock:
        try:
            await lock.async_acquire(blocking=False)
        except RuntimeError as error:
            print("RuntimeError:", error)


asyncio.run(main())
