"""Stress: numbered items through one bounded ``aiologic.Queue`` between threads and two asyncio event loops.

Producers and consumers sit on both sides: two plain threads put and two plain threads get, and each of two
event loops (each in its own thread) runs one putting task and one getting task. So items go threads → tasks,
tasks → threads, threads → threads and tasks → tasks (across loops too), all at once through
``Queue(maxsize=64)``. Many calls are interrupted on purpose: ``green_*``/``async_*`` timeouts (including 0),
``blocking=False``, ``asyncio.wait_for`` with tiny timeouts and ``task.cancel()`` of a task blocked in, or
about to run, a put or a get.

The invariant (spec §1.9): a put that returned sent its item, a put that raised did not; a get that returned
received an item, a get that raised did not. So the multiset of items received equals the multiset of items
sent, and as producers retry every failed put, both equal the numbers ``0 .. N-1`` exactly once.

``AIOLOGIC_STRESS_ITEMS`` sets N (default 1,000,000).
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

import aiologic
from aiologic import QueueEmpty, QueueFull

ITEMS = int(os.environ.get("AIOLOGIC_STRESS_ITEMS", "1000000"))
MAXSIZE = 64
PRODUCERS = 4  # 2 threads + 1 task in each of the 2 loops; producer k sends the items i with i % 4 == k
DEADLINE = 560.0  # seconds; the test's own timeout is 600
STALL = 30.0  # seconds without a single item received: items were lost (or the machine froze), stop early
TINY_TIMEOUTS = (0, 0, 1e-5, 1e-4, 5e-4, 2e-3)


class Stats:
    """What one worker did: the items it moved and how many of its calls failed, by cause."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[int] = []
        self.failures: Counter[str] = Counter()


class Shared:
    def __init__(self) -> None:
        self.queue: aiologic.Queue[int] = aiologic.Queue(maxsize=MAXSIZE)
        self.done = threading.Event()  # every item was received
        self.abort = threading.Event()  # give up (deadline or a worker crashed)
        self._received = 0
        self._lock = threading.Lock()
        self.errors: list[BaseException] = []

    def count_received(self) -> None:
        with self._lock:
            self._received += 1
            if self._received == ITEMS:
                self.done.set()

    @property
    def received(self) -> int:
        return self._received

    def finished(self) -> bool:
        return self.done.is_set() or self.abort.is_set()


# --- thread workers -----------------------------------------------------------------------------------------


def thread_producer(shared: Shared, stats: Stats, items: range, seed: int) -> None:
    q = shared.queue
    rng = random.Random(seed)
    for item in items:
        while True:
            if shared.abort.is_set():
                return
            roll = rng.random()
            try:
                if roll < 0.90:
                    q.green_put(item, timeout=1.0)
                elif roll < 0.97:
                    q.green_put(item, timeout=rng.choice(TINY_TIMEOUTS))
                else:
                    q.green_put(item, blocking=False)
            except QueueFull:
                stats.failures["full"] += 1
                continue
            stats.items.append(item)
            break


def thread_consumer(shared: Shared, stats: Stats, seed: int) -> None:
    q = shared.queue
    rng = random.Random(seed)
    while not shared.finished():
        roll = rng.random()
        try:
            if roll < 0.90:
                item = q.green_get(timeout=0.05)
            elif roll < 0.97:
                item = q.green_get(timeout=rng.choice(TINY_TIMEOUTS))
            else:
                item = q.green_get(blocking=False)
        except QueueEmpty:
            stats.failures["empty"] += 1
            continue
        stats.items.append(item)
        shared.count_received()


# --- asyncio workers ----------------------------------------------------------------------------------------


async def interrupted(
    make_call: Callable[[], Coroutine[Any, Any, Any]], rng: random.Random, stats: Stats
) -> tuple[bool, Any]:
    """Run one queue call that is cancelled from outside at a random moment: ``(completed, result)``.

    The call runs in its own task so that cancelling it never touches the worker task itself.
    """
    how = rng.random()
    if how < 0.5:
        try:
            return True, await asyncio.wait_for(make_call(), rng.choice((0, 1e-5, 1e-4, 5e-4)))
        except asyncio.TimeoutError:
            stats.failures["wait_for"] += 1
            return False, None
    task = asyncio.ensure_future(make_call())
    if how < 0.6:
        pass  # cancelled before it even starts
    elif how < 0.8:
        await asyncio.sleep(0)  # it ran until it parked (or finished)
    else:
        await asyncio.sleep(rng.choice((1e-5, 1e-4, 5e-4)))
    task.cancel()
    await asyncio.wait([task])
    if task.cancelled():
        stats.failures["cancel"] += 1
        return False, None
    exc = task.exception()
    if exc is not None:
        raise exc
    return True, task.result()


async def task_producer(shared: Shared, stats: Stats, items: range, seed: int) -> None:
    q = shared.queue
    rng = random.Random(seed)
    for item in items:
        while True:
            if shared.abort.is_set():
                return
            roll = rng.random()
            try:
                if roll < 0.85:
                    await q.async_put(item, timeout=1.0)
                elif roll < 0.90:
                    await q.async_put(item, timeout=rng.choice(TINY_TIMEOUTS))
                elif roll < 0.99:
                    completed, _ = await interrupted(lambda item=item: q.async_put(item), rng, stats)
                    if not completed:
                        continue
                else:
                    await q.async_put(item, blocking=False)
            except QueueFull:
                stats.failures["full"] += 1
                continue
            stats.items.append(item)
            break


async def task_consumer(shared: Shared, stats: Stats, seed: int) -> None:
    q = shared.queue
    rng = random.Random(seed)
    while not shared.finished():
        roll = rng.random()
        try:
            if roll < 0.85:
                item = await q.async_get(timeout=0.05)
            elif roll < 0.90:
                item = await q.async_get(timeout=rng.choice(TINY_TIMEOUTS))
            elif roll < 0.99:
                completed, item = await interrupted(q.async_get, rng, stats)
                if not completed:
                    continue
            else:
                item = await q.async_get(blocking=False)
        except QueueEmpty:
            stats.failures["empty"] += 1
            continue
        stats.items.append(item)
        shared.count_received()


async def event_loop_main(shared: Shared, producer: Stats, consumer: Stats, index: int) -> None:
    await asyncio.gather(
        task_producer(shared, producer, range(2 + index, ITEMS, PRODUCERS), 100 + index),
        task_consumer(shared, consumer, 200 + index),
    )


def guarded(shared: Shared, target: Callable[..., Any], *args: Any) -> Callable[[], None]:
    def main() -> None:
        try:
            target(*args)
        except BaseException as exc:
            shared.errors.append(exc)
            shared.abort.set()

    return main


# --- the test -----------------------------------------------------------------------------------------------


@pytest.mark.timeout(600)
def test_items_survive_threads_and_two_event_loops_with_cancellations_and_timeouts() -> None:
    shared = Shared()
    sent = [Stats(f"thread-producer-{k}") for k in range(2)] + [Stats(f"task-producer-{k}") for k in range(2)]
    received = [Stats(f"thread-consumer-{k}") for k in range(2)] + [
        Stats(f"task-consumer-{k}") for k in range(2)
    ]

    threads = [
        threading.Thread(
            target=guarded(shared, thread_producer, shared, sent[k], range(k, ITEMS, PRODUCERS), k)
        )
        for k in range(2)
    ]
    threads += [
        threading.Thread(target=guarded(shared, thread_consumer, shared, received[k], 10 + k))
        for k in range(2)
    ]
    threads += [
        threading.Thread(
            target=guarded(shared, asyncio.run, event_loop_main(shared, sent[2 + k], received[2 + k], k))
        )
        for k in range(2)
    ]
    start = time.monotonic()
    for thread in threads:
        thread.daemon = True
        thread.start()
    progress, last_change, stalled = -1, start, False
    while alive := [thread for thread in threads if thread.is_alive()]:
        alive[0].join(0.25)
        now = time.monotonic()
        if shared.received != progress:
            progress, last_change = shared.received, now
        elif now - last_change > STALL:
            stalled = True
            break
        if now - start > DEADLINE:
            break
    elapsed = time.monotonic() - start
    if any(thread.is_alive() for thread in threads):
        shared.abort.set()
        for thread in threads:
            thread.join(30)
    assert not shared.errors, shared.errors

    sent_items = Counter[int]()
    for stats in sent:
        sent_items.update(stats.items)
    received_items = Counter[int]()
    for stats in received:
        received_items.update(stats.items)
    lost = sent_items - received_items
    extra = received_items - sent_items
    failures = Counter[str]()
    for stats in sent + received:
        failures.update(stats.failures)
    report = (
        f"{ITEMS} items in {elapsed:.1f} s{' (stalled)' if stalled else ''}; "
        f"received {received_items.total()} of {sent_items.total()} sent; "
        f"lost {lost.total()} (e.g. {sorted(lost)[:5]}), "
        f"unexpected {extra.total()} (e.g. {sorted(extra)[:5]}); "
        f"queue length {len(shared.queue)}; failed calls {dict(failures)}; "
        f"per worker {[(s.name, len(s.items)) for s in sent + received]}"
    )
    print(report)

    assert shared.done.is_set(), report
    assert received_items == sent_items, report
    assert sent_items == Counter(range(ITEMS)), report  # every failed put was retried: each item sent once
    assert len(shared.queue) == 0 and shared.queue.waiting == 0, report
    if ITEMS >= 10_000:  # with this many items every worker and every kind of interruption shows up
        # Every worker took part: items really crossed between threads and tasks in both directions.
        assert all(stats.items for stats in sent + received), report
        for cause in ("full", "empty", "wait_for", "cancel"):
            assert failures[cause] > 0, report
