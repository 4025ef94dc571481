"""A producer thread feeds an asyncio consumer through a bounded queue."""

import asyncio
import threading

import aiologic

DONE = None  # end-of-stream marker

jobs: aiologic.Queue[int | None] = aiologic.Queue(maxsize=2)  # put() waits while full
replies: aiologic.SimpleQueue[int] = aiologic.SimpleQueue()  # put() never waits


def producer() -> None:
    for n in range(5):
        jobs.green_put(n)  # green side: blocks this thread while the queue is full
    jobs.green_put(DONE)
    total = 0
    for _ in range(5):
        total += replies.green_get(timeout=5)  # raises QueueEmpty on timeout
    print("producer got back:", total)


async def consumer() -> None:
    while (n := await jobs.async_get()) is not DONE:  # async side: the loop keeps running
        replies.put(n * n)  # plain method, usable from anywhere


async def main() -> None:
    thread = threading.Thread(target=producer)
    thread.start()
    await consumer()
    thread.join()

    try:
        jobs.green_get(blocking=False)  # one attempt, never waits
    except aiologic.QueueEmpty:
        print("empty:", len(jobs))

    urgent = aiologic.PriorityQueue([3, 1, 2])
    print("smallest first:", [urgent.green_get() for _ in range(3)])


asyncio.run(main())
