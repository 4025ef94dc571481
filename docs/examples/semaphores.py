"""Threads and asyncio tasks share one capacity limiter and one semaphore."""

import asyncio
import threading

import aiologic

limiter = aiologic.CapacityLimiter(2)  # at most two holders, threads and tasks alike
finished = aiologic.Semaphore(0)  # no owner: threads release, the task acquires

counter_lock = threading.Lock()  # protects the two counters below
inside = 0
peak = 0


def enter() -> None:
    global inside, peak
    with counter_lock:
        inside += 1
        peak = max(peak, inside)


def leave() -> None:
    global inside
    with counter_lock:
        inside -= 1


def thread_job() -> None:
    for _ in range(100):
        with limiter:  # green side
            enter()
            leave()
    finished.release()  # a plain method: any thread may release


async def task_job() -> None:
    for _ in range(100):
        async with limiter:  # async side
            enter()
            await asyncio.sleep(0)  # let other tasks run while holding the token
            leave()


async def main() -> None:
    threads = [threading.Thread(target=thread_job) for _ in range(3)]
    for thread in threads:
        thread.start()
    await asyncio.gather(*(task_job() for _ in range(3)))
    for _ in threads:
        assert await finished.async_acquire(timeout=5)  # one permit per finished thread
    for thread in threads:
        thread.join()
    print("never more than two holders:", peak <= 2)
    print("tokens left:", limiter.available_tokens, "permits left:", finished.value)

    # A bounded semaphore refuses a release it did not hand out.
    pool = aiologic.BoundedSemaphore(2)
    try:
        pool.release()
    except RuntimeError as error:
        print("RuntimeError:", error)


asyncio.run(main())
