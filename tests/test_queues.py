"""Queues (spec §8): SimpleQueue, SimpleLifoQueue, Queue, LifoQueue, PriorityQueue, QueueEmpty, QueueFull.

Every body runs on every library through the harness; cross-thread tests pair a producer on one library
with a consumer on another. Cancellation tests are named for the guarantee they pin (§1.9): an item or a
free place is never lost, never duplicated, and an interrupted put never inserts.
"""

from __future__ import annotations

import asyncio
import copy
import heapq
import math
import pickle
import queue
import random
import re
import threading
import time
import typing
import warnings
import weakref
from collections.abc import Iterable
from typing import Any

import pytest

import aiologic
from aiologic import (
    LifoQueue,
    PriorityQueue,
    Queue,
    QueueEmpty,
    QueueFull,
    SimpleLifoQueue,
    SimpleQueue,
)
from aiologic.lowlevel import enable_checkpoints
from harness import ADDRESS, Running, Task, run, wait_until

ALL_CLASSES = (SimpleQueue, SimpleLifoQueue, Queue, LifoQueue, PriorityQueue)
SIMPLE_CLASSES = (SimpleQueue, SimpleLifoQueue)
BOUNDED_CLASSES = (Queue, LifoQueue, PriorityQueue)

STATE_WARNING = "will no longer preserve the state"
NOTHING = object()  # "no item received" in race outcomes


def class_id(cls: type) -> str:
    return cls.__name__


def expected_order(cls: type, items: list[Any]) -> list[Any]:
    """The order in which ``cls`` returns ``items`` put in that order with no concurrent getter."""
    if issubclass(cls, (SimpleLifoQueue, LifoQueue)):
        return items[::-1]
    if issubclass(cls, PriorityQueue):
        return sorted(items)
    return list(items)


def make(cls: type, items: Iterable[Any] | None = None, maxsize: int | None = None) -> Any:
    """Build any queue class; ``maxsize`` only applies to the ``Queue`` family."""
    if cls in SIMPLE_CLASSES:
        assert maxsize is None
        return cls() if items is None else cls(items)
    return cls(maxsize=maxsize) if items is None else cls(items, maxsize=maxsize)


async def get(t: Task, q: Any, **kwargs: Any) -> Any:
    return await t.call(q.green_get, q.async_get, **kwargs)


async def put(t: Task, q: Any, item: Any, **kwargs: Any) -> Any:
    return await t.call(q.green_put, q.async_put, item, **kwargs)


def drain(q: Any) -> list[Any]:
    """Everything left in ``q``, in get order (no waiter may be involved)."""
    items = []
    while True:
        try:
            items.append(q.green_get(blocking=False))
        except QueueEmpty:
            return items


# --- object model -------------------------------------------------------------------------------------------


def test_exceptions_are_plain_exceptions() -> None:
    for exc in (QueueEmpty, QueueFull):
        assert exc.__mro__[1:] == (Exception, BaseException, object)
        assert exc.__module__ == "aiologic"
        assert not issubclass(exc, (queue.Empty, queue.Full, asyncio.QueueEmpty, asyncio.QueueFull))
    assert not issubclass(QueueEmpty, QueueFull) and not issubclass(QueueFull, QueueEmpty)


def test_class_hierarchy() -> None:
    assert issubclass(SimpleLifoQueue, SimpleQueue)
    assert issubclass(LifoQueue, Queue) and issubclass(PriorityQueue, Queue)
    assert not issubclass(SimpleQueue, Queue) and not issubclass(Queue, SimpleQueue)
    assert not issubclass(LifoQueue, PriorityQueue) and not issubclass(PriorityQueue, LifoQueue)
    for cls in ALL_CLASSES:
        assert cls.__module__ == "aiologic"
        assert getattr(aiologic, cls.__name__) is cls
        assert cls.__name__ in aiologic.__all__
    assert {"QueueEmpty", "QueueFull"} <= set(aiologic.__all__)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_slots_weakref_and_identity(cls: type) -> None:
    q = make(cls, [1])
    assert weakref.ref(q)() is q
    with pytest.raises(AttributeError):
        q.some_attribute = 1
    other = make(cls, [1])
    assert q != other  # equality is identity, not content
    assert hash(q) == object.__hash__(q)
    assert {q: 1, other: 2}[q] == 1


def test_no_stdlib_extras() -> None:
    """§8: no qsize/empty/full/task_done/join/put_nowait/get_nowait; no plain put() on the Queue family."""
    for cls in ALL_CLASSES:
        for name in ("qsize", "empty", "full", "task_done", "join", "put_nowait", "get_nowait"):
            assert not hasattr(cls, name), (cls, name)
    for cls in BOUNDED_CLASSES:
        assert not hasattr(cls, "put")
    for cls in SIMPLE_CLASSES:
        assert callable(cls.put)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_generic_subscription(cls: type) -> None:
    alias = cls[int]  # type: ignore[index]
    assert typing.get_origin(alias) is cls
    assert typing.get_args(alias) == (int,)
    q = alias([3, 1, 2])
    assert type(q) is cls
    assert drain(q) == expected_order(cls, [3, 1, 2])


def test_queue_int_subscription_builds_bounded_queue() -> None:
    q = aiologic.Queue[int](5)
    assert type(q) is Queue and q.maxsize == 5 and len(q) == 0


# --- construction -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", BOUNDED_CLASSES, ids=class_id)
def test_single_int_is_maxsize(cls: type) -> None:
    q = cls(5)
    assert q.maxsize == 5
    assert len(q) == 0 and not q
    for i in range(5):
        q.green_put(i, blocking=False)
    with pytest.raises(QueueFull):
        q.green_put(5, blocking=False)
    assert sorted(drain(q)) == list(range(5))


@pytest.mark.parametrize("cls", BOUNDED_CLASSES, ids=class_id)
@pytest.mark.parametrize("make_unbounded", [lambda c: c(None), lambda c: c(), lambda c: c(maxsize=None)])
def test_none_is_unbounded(cls: type, make_unbounded: Any) -> None:
    q = make_unbounded(cls)
    assert q.maxsize == 0
    for i in range(1000):
        q.green_put(i, blocking=False)
    assert len(q) == 1000
    assert q.putting == 0


@pytest.mark.parametrize("cls", BOUNDED_CLASSES, ids=class_id)
@pytest.mark.parametrize(
    "construct",
    [
        lambda c: c(0),
        lambda c: c(-1),
        lambda c: c(maxsize=0),
        lambda c: c(maxsize=-5),
        lambda c: c([1, 2], maxsize=0),
        lambda c: c([1, 2], -3),
    ],
    ids=["0", "-1", "kw0", "kw-5", "items-kw0", "items-pos-3"],
)
def test_nonpositive_maxsize_is_rejected(cls: type, construct: Any) -> None:
    with pytest.raises(ValueError, match=r"^maxsize must be >= 1 or None$"):
        construct(cls)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_initial_items_from_any_iterable(cls: type) -> None:
    for items in ([4, 2, 9], (4, 2, 9), iter([4, 2, 9]), (x for x in [4, 2, 9])):
        q = make(cls, items)
        assert len(q) == 3 and q
        assert drain(q) == expected_order(cls, [4, 2, 9])
    q = make(cls, "ba")
    assert drain(q) == expected_order(cls, ["b", "a"])
    empty = make(cls, [])
    assert len(empty) == 0 and not empty


@pytest.mark.parametrize("cls", BOUNDED_CLASSES, ids=class_id)
def test_initial_items_with_maxsize_positional_or_keyword(cls: type) -> None:
    for q in (cls([3, 1], 4), cls([3, 1], maxsize=4)):
        assert q.maxsize == 4 and len(q) == 2
        q.green_put(2, blocking=False)
        q.green_put(5, blocking=False)
        with pytest.raises(QueueFull):
            q.green_put(6, blocking=False)
        assert drain(q) == expected_order(cls, [3, 1, 2, 5])


@pytest.mark.parametrize("cls", BOUNDED_CLASSES, ids=class_id)
def test_initial_items_may_exceed_maxsize(cls: type) -> None:
    q = cls([5, 1, 3, 2], maxsize=2)
    assert q.maxsize == 2 and len(q) == 4
    with pytest.raises(QueueFull):
        q.green_put(0, blocking=False)
    assert drain(q) == expected_order(cls, [5, 1, 3, 2])
    assert q.maxsize == 2


@pytest.mark.parametrize("cls", BOUNDED_CLASSES, ids=class_id)
def test_drained_overfull_queue_keeps_its_maxsize(cls: type) -> None:
    q = cls([5, 1, 3, 2], maxsize=2)
    drain(q)
    q.green_put(7, blocking=False)
    q.green_put(8, blocking=False)
    with pytest.raises(QueueFull):
        q.green_put(9, blocking=False)
    assert len(q) == 2


@pytest.mark.parametrize("cls", BOUNDED_CLASSES, ids=class_id)
def test_overfull_queue_stays_full_until_below_maxsize(cls: type) -> None:
    q = cls([1, 2, 3, 4], maxsize=2)
    q.green_get(blocking=False)  # 3 items left, still over maxsize
    with pytest.raises(QueueFull):
        q.green_put(10, blocking=False)
    q.green_get(blocking=False)  # 2 items left: exactly full
    with pytest.raises(QueueFull):
        q.green_put(10, blocking=False)
    assert len(q) == 2


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_len_and_bool_follow_content(cls: type) -> None:
    q = make(cls)
    assert len(q) == 0 and not q and bool(q) is False
    q.green_put("a")
    assert len(q) == 1 and q and bool(q) is True
    q.green_put("b")
    assert len(q) == 2
    q.green_get()
    q.green_get()
    assert len(q) == 0 and not q


def test_initial_priority_items_are_heapified() -> None:
    items = [9, 4, 7, 1, 8, 2, 2, 6]
    q = PriorityQueue(items)
    assert drain(q) == sorted(items)
    q = PriorityQueue([(2, "b"), (1, "z"), (2, "a")])
    assert drain(q) == [(1, "z"), (2, "a"), (2, "b")]


# --- ordering on every library ------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_order_of_put_and_get(library: str, cls: type) -> None:
    items = [3, 1, 4, 1, 5, 9, 2, 6]

    async def body(t: Task) -> list[Any]:
        q = make(cls)
        for item in items:
            assert await put(t, q, item) is None
        assert len(q) == len(items)
        return [await get(t, q) for _ in items]

    assert run(library, body) == expected_order(cls, items)


@pytest.mark.parametrize("cls", SIMPLE_CLASSES, ids=class_id)
def test_simple_put_forms_mix(library: str, cls: type) -> None:
    async def body(t: Task) -> list[Any]:
        q = cls()
        assert q.put(1) is None
        assert await put(t, q, 2) is None
        assert await put(t, q, 3, blocking=False) is None
        assert q.put(4) is None
        return [await get(t, q) for _ in range(4)]

    assert run(library, body) == expected_order(cls, [1, 2, 3, 4])


@pytest.mark.parametrize("cls", BOUNDED_CLASSES, ids=class_id)
def test_bounded_fills_exactly_to_maxsize(library: str, cls: type) -> None:
    async def body(t: Task) -> list[Any]:
        q = cls(3)
        for item in (2, 3, 1):
            await put(t, q, item)
        with pytest.raises(QueueFull):
            await put(t, q, 0, blocking=False)
        got = [await get(t, q)]
        await put(t, q, 0)
        got += [await get(t, q) for _ in range(3)]
        assert not q
        return got

    expected = {Queue: [2, 3, 1, 0], LifoQueue: [1, 0, 3, 2], PriorityQueue: [1, 0, 2, 3]}[cls]
    assert run(library, body) == expected


# --- blocking=False -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
@pytest.mark.parametrize("timeout", [None, -1, float("nan"), 5])
def test_nonblocking_get_on_empty_raises_queue_empty(library: str, cls: type, timeout: float | None) -> None:
    async def body(t: Task) -> None:
        q = make(cls)
        with pytest.raises(QueueEmpty):
            await get(t, q, blocking=False, timeout=timeout)
        assert q.getting == 0 and q.waiting == 0

    run(library, body)


@pytest.mark.parametrize("cls", BOUNDED_CLASSES, ids=class_id)
@pytest.mark.parametrize("timeout", [None, -1, float("nan"), 5])
def test_nonblocking_put_on_full_raises_queue_full(library: str, cls: type, timeout: float | None) -> None:
    async def body(t: Task) -> None:
        q = cls([1, 2], maxsize=2)
        with pytest.raises(QueueFull):
            await put(t, q, 3, blocking=False, timeout=timeout)
        assert q.putting == 0 and q.waiting == 0
        assert drain(q) == expected_order(cls, [1, 2])

    run(library, body)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_nonblocking_success_ignores_bad_timeout(library: str, cls: type) -> None:
    async def body(t: Task) -> list[Any]:
        q = make(cls)
        await put(t, q, 1, blocking=False, timeout=-1)
        await put(t, q, 2, blocking=False, timeout=float("nan"))
        return [
            await get(t, q, blocking=False, timeout=-1),
            await get(t, q, blocking=False, timeout=math.nan),
        ]

    assert run(library, body) == expected_order(cls, [1, 2])


@pytest.mark.parametrize("library_name", ["trio", "anyio-trio"])
@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_nonblocking_calls_never_checkpoint_under_trio(library_name: str, cls: type) -> None:
    """In an already-cancelled scope, blocking=False calls neither yield nor raise (§1.6)."""
    import trio

    async def body(t: Task) -> list[Any]:
        q = make(cls, [5], None if cls in SIMPLE_CLASSES else 2)
        with trio.CancelScope() as scope:
            scope.cancel()
            await q.async_put(6, blocking=False)
            if cls in BOUNDED_CLASSES:
                with pytest.raises(QueueFull):
                    await q.async_put(7, blocking=False)
            got = [await q.async_get(blocking=False), await q.async_get(blocking=False)]
            with pytest.raises(QueueEmpty):
                await q.async_get(blocking=False)
        assert not scope.cancelled_caught
        return got

    assert run(library_name, body) == expected_order(cls, [5, 6])


def test_nonblocking_calls_never_yield_under_asyncio_even_with_checkpoints() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        ran: list[int] = []
        with enable_checkpoints():
            for cls in ALL_CLASSES:
                q = make(cls, None, None if cls in SIMPLE_CLASSES else 1)
                loop.call_soon(ran.append, 1)
                await q.async_put(1, blocking=False)
                assert await q.async_get(blocking=False) == 1
                with pytest.raises(QueueEmpty):
                    await q.async_get(blocking=False)
                if cls in BOUNDED_CLASSES:
                    await q.async_put(2, blocking=False)
                    with pytest.raises(QueueFull):
                        await q.async_put(3, blocking=False)
                assert ran == []
                await asyncio.sleep(0)
                assert ran == [1]
                ran.clear()

    asyncio.run(main())


# --- checkpoints --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_asyncio_fast_paths_do_not_yield_by_default(cls: type) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        ran: list[int] = []
        q = make(cls, None, None if cls in SIMPLE_CLASSES else 2)
        loop.call_soon(ran.append, 1)
        await q.async_put(1)
        await q.async_put(2)
        assert await q.async_get() in (1, 2)
        assert ran == []  # no switch happened

    asyncio.run(main())


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_trio_fast_path_cancellation_gives_item_and_place_back(cls: type) -> None:
    """§1.7: the fast path takes first, checkpoints, and gives back on cancellation: nothing leaks."""
    import trio

    async def main() -> None:
        bounded = cls in BOUNDED_CLASSES
        q = make(cls, [1, 2], 3 if bounded else None)
        with trio.CancelScope() as scope:
            scope.cancel()
            await q.async_get()
        assert scope.cancelled_caught
        with trio.CancelScope() as scope:
            scope.cancel()
            await q.async_put(3)
        assert scope.cancelled_caught
        assert len(q) == 2 and q.waiting == 0
        if bounded:
            await q.async_put(3, blocking=False)  # the place taken by the cancelled put came back
            with pytest.raises(QueueFull):
                await q.async_put(4, blocking=False)
            assert drain(q) == expected_order(cls, [1, 2, 3])
        else:
            assert drain(q) == expected_order(cls, [1, 2])

    trio.run(main)


@pytest.mark.parametrize("cls", SIMPLE_CLASSES, ids=class_id)
def test_simple_async_put_checkpoints_before_inserting_under_trio(cls: type) -> None:
    import trio

    async def main() -> None:
        q = cls()
        with trio.CancelScope() as scope:
            scope.cancel()
            q.put("plain")  # plain put: no checkpoint, inserted
            await q.async_put("async")
        assert scope.cancelled_caught
        assert drain(q) == ["plain"]

    trio.run(main)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_asyncio_put_with_checkpoints_enabled_checkpoints_before_inserting(cls: type) -> None:
    """A task cancelled before its put: with checkpoints on, async_put raises at its checkpoint, inserts
    nothing and gives back the place it took; plain put() never checkpoints."""
    bounded = cls in BOUNDED_CLASSES
    q = make(cls, None, 2 if bounded else None)
    reached: list[str] = []

    async def self_cancelling() -> None:
        with enable_checkpoints():
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            if not bounded:
                q.put("plain")
            reached.append("before")
            await q.async_put("async")
            reached.append("after")

    async def main() -> None:
        with pytest.raises(asyncio.CancelledError):
            await asyncio.ensure_future(self_cancelling())

    asyncio.run(main())
    assert reached == ["before"]
    if bounded:
        assert not q
        q.green_put(1, blocking=False)  # both places are free
        q.green_put(2, blocking=False)
        assert sorted(drain(q)) == [1, 2]
    else:
        assert drain(q) == ["plain"]


@pytest.mark.parametrize("cls", SIMPLE_CLASSES, ids=class_id)
def test_simple_put_never_switches_green_put_switches_before_inserting(cls: type) -> None:
    """gevent, green checkpoints on: put() does not switch; green_put() switches before inserting."""

    async def body(t: Task) -> tuple[list[int], list[int]]:
        import gevent

        q = cls()
        seen_after_put: list[int] = []
        seen_in_green_put: list[int] = []
        with enable_checkpoints():
            watcher = gevent.spawn(lambda: seen_after_put.append(len(q)))
            q.put(1)
            assert not watcher.dead  # put() did not let it run
            watcher.join()
            watcher = gevent.spawn(lambda: seen_in_green_put.append(len(q)))
            q.green_put(2)
            assert watcher.dead  # green_put() switched ...
        return seen_after_put, seen_in_green_put

    assert run("gevent", body) == ([1], [1])  # ... and the watcher saw the queue before the insertion


# --- timeouts -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_get_timeout_raises_queue_empty(library: str, cls: type) -> None:
    async def body(t: Task) -> float:
        q = make(cls)
        start = time.monotonic()
        with pytest.raises(QueueEmpty):
            await get(t, q, timeout=0.05)
        elapsed = time.monotonic() - start
        assert q.getting == 0 and q.waiting == 0
        return elapsed

    assert run(library, body) >= 0.04


@pytest.mark.parametrize("cls", BOUNDED_CLASSES, ids=class_id)
def test_put_timeout_raises_queue_full(library: str, cls: type) -> None:
    async def body(t: Task) -> float:
        q = cls(["x"], maxsize=1)
        start = time.monotonic()
        with pytest.raises(QueueFull):
            await put(t, q, "y", timeout=0.05)
        elapsed = time.monotonic() - start
        assert q.putting == 0 and q.waiting == 0
        assert drain(q) == ["x"]
        return elapsed

    assert run(library, body) >= 0.04


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_timeout_zero_fails_without_waiting(library: str, cls: type) -> None:
    async def body(t: Task) -> None:
        q = make(cls, None, None if cls in SIMPLE_CLASSES else 1)
        with pytest.raises(QueueEmpty):
            await get(t, q, timeout=0)
        assert q.getting == 0
        await put(t, q, 1, timeout=0)  # room: succeeds
        if cls in BOUNDED_CLASSES:
            with pytest.raises(QueueFull):
                await put(t, q, 2, timeout=0)
            assert q.putting == 0
        assert await get(t, q, timeout=0) == 1

    run(library, body)


def test_asyncio_timeout_zero_yields_once_and_takes_an_item_arriving_then() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        q: Queue[int] = Queue(1)
        loop.call_soon(q.green_put, 7)
        assert await q.async_get(timeout=0) == 7
        ran: list[int] = []
        loop.call_soon(ran.append, 1)
        with pytest.raises(QueueEmpty):
            await q.async_get(timeout=0)
        assert ran == [1]  # it did yield to the loop once

    asyncio.run(main())


@pytest.mark.parametrize("timeout", [-1, -0.5, float("nan")])
def test_bad_timeout_rejected_when_waiting(library: str, timeout: float) -> None:
    message = "timeout must be non-NaN" if math.isnan(timeout) else "timeout must be non-negative"

    async def body(t: Task) -> None:
        for cls in ALL_CLASSES:
            q = make(cls)
            with pytest.raises(ValueError, match=message):
                await get(t, q, timeout=timeout)
            assert q.getting == 0
        for cls in BOUNDED_CLASSES:
            q = cls([1], maxsize=1)
            with pytest.raises(ValueError, match=message):
                await put(t, q, 2, timeout=timeout)
            assert q.putting == 0
            assert drain(q) == [1]

    run(library, body)


def test_bad_timeout_ignored_on_fast_path(library: str) -> None:
    async def body(t: Task) -> None:
        for cls in ALL_CLASSES:
            q = make(cls, None, None if cls in SIMPLE_CLASSES else 2)
            await put(t, q, 1, timeout=-1)  # room (or unbounded, where timeout is unused)
            await put(t, q, 2, timeout=float("nan"))
            assert sorted([await get(t, q, timeout=-1), await get(t, q, timeout=math.nan)]) == [1, 2]

    run(library, body)


@pytest.mark.parametrize("timeout", [float("inf"), 10**400], ids=["inf", "huge-int"])
@pytest.mark.parametrize("cls", [SimpleQueue, Queue], ids=class_id)
def test_infinite_timeout_waits_for_an_item(library: str, cls: type, timeout: float) -> None:
    q = make(cls)

    async def getter(t: Task) -> Any:
        return await get(t, q, timeout=timeout)

    waiter = Running(library, getter)
    wait_until(lambda: q.getting == 1)
    q.green_put("late")
    assert waiter.result() == "late"


def test_infinite_timeout_put_waits_for_a_place(library: str) -> None:
    q = Queue(["a"], maxsize=1)

    async def putter(t: Task) -> None:
        await put(t, q, "b", timeout=float("inf"))

    waiter = Running(library, putter)
    wait_until(lambda: q.putting == 1)
    assert q.green_get(timeout=5) == "a"
    waiter.result()
    assert drain(q) == ["b"]


# --- waiting, back-pressure, counters, fairness -------------------------------------------------------------


@pytest.mark.parametrize("cls", [SimpleQueue, Queue], ids=class_id)
def test_getter_waits_until_another_library_puts(library: str, other_library: str, cls: type) -> None:
    q = make(cls, None, None if cls is SimpleQueue else 2)

    async def getter(t: Task) -> Any:
        return await get(t, q, timeout=20)

    async def putter(t: Task) -> None:
        await put(t, q, "item")

    waiter = Running(library, getter)
    wait_until(lambda: q.getting == 1)
    assert q.waiting == 1 and q.putting == 0
    run(other_library, putter)
    assert waiter.result() == "item"
    assert q.getting == 0 and len(q) == 0


def test_putter_waits_while_full_and_proceeds_when_getter_frees_a_place(
    library: str, other_library: str
) -> None:
    """Back-pressure: a putter on ``library`` blocks on a full Queue(2); ``other_library`` frees it."""
    q: Queue[int] = Queue(2)
    progress: list[int] = []

    async def producer(t: Task) -> str:
        for i in range(5):
            await put(t, q, i, timeout=20)
            progress.append(i)
        return "done"

    async def take_one(t: Task) -> Any:
        return await get(t, q, timeout=5)

    running = Running(library, producer)
    wait_until(lambda: q.putting == 1)
    assert len(q) == 2 and progress == [0, 1]
    assert run(other_library, take_one) == 0
    wait_until(lambda: q.putting == 1 and progress == [0, 1, 2])
    assert len(q) == 2
    assert run(other_library, take_one) == 1
    assert run(other_library, take_one) == 2
    assert running.result() == "done"
    assert progress == [0, 1, 2, 3, 4]
    assert drain(q) == [3, 4] and q.waiting == 0


def test_counters_track_parked_callers() -> None:
    q = Queue(["a"], maxsize=1)

    async def putter(t: Task, item: str) -> None:
        await put(t, q, item, timeout=20)

    async def getter(t: Task) -> Any:
        return await get(t, q, timeout=20)

    putters = []
    for n, item in enumerate(["b", "c"], 1):
        putters.append(Running("threading", putter, item))
        wait_until(lambda n=n: q.putting == n)
    assert (q.putting, q.getting, q.waiting, len(q)) == (2, 0, 2, 1)
    assert [q.green_get(timeout=5) for _ in range(3)] == ["a", "b", "c"]
    for p in putters:
        p.result()
    assert (q.putting, q.getting, q.waiting, len(q)) == (0, 0, 0, 0)

    getters = []
    for n in (1, 2):
        getters.append(Running("threading", getter))
        wait_until(lambda n=n: q.getting == n)
    assert (q.putting, q.getting, q.waiting) == (0, 2, 2)
    q.green_put("x")
    q.green_put("y")
    assert sorted(g.result() for g in getters) == ["x", "y"]
    assert q.waiting == 0


@pytest.mark.parametrize("cls", SIMPLE_CLASSES, ids=class_id)
def test_simple_queue_counters(cls: type) -> None:
    q = cls()

    async def getter(t: Task) -> Any:
        return await get(t, q, timeout=20)

    getters = []
    for n in (1, 2):
        getters.append(Running("threading", getter))
        wait_until(lambda n=n: q.getting == n)
    assert (q.putting, q.getting, q.waiting) == (0, 2, 2)
    for item in range(50):  # puts never wait
        q.put(item)
        assert q.putting == 0
    received = [g.result() for g in getters]
    assert q.waiting == 0 and len(q) == 48
    assert sorted(received + drain(q)) == list(range(50))


def test_getters_are_served_in_arrival_order(library: str) -> None:
    q: SimpleQueue[int] = SimpleQueue()
    order: list[tuple[int, Any]] = []

    async def getter(t: Task, index: int) -> None:
        order.append((index, await get(t, q, timeout=20)))

    getters = []
    for index in range(3):
        getters.append(Running(library, getter, index))
        wait_until(lambda index=index: q.getting == index + 1)
    for item in range(3):
        q.put(item)
        wait_until(lambda item=item: len(order) == item + 1)
        assert order[item] == (item, item)
    for g in getters:
        g.result()


def test_putters_are_served_in_arrival_order(library: str) -> None:
    q = Queue(["first"], maxsize=1)

    async def putter(t: Task, index: int) -> None:
        await put(t, q, index, timeout=20)

    putters = []
    for index in range(3):
        putters.append(Running(library, putter, index))
        wait_until(lambda index=index: q.putting == index + 1)
    got = [q.green_get(timeout=5) for _ in range(4)]
    assert got == ["first", 0, 1, 2]
    for p in putters:
        p.result()
    assert q.waiting == 0 and not q


@pytest.mark.parametrize("cls", [SimpleQueue, Queue], ids=class_id)
def test_item_is_handed_to_the_waiting_getter_not_to_a_newcomer(library: str, cls: type) -> None:
    """§1.8: the put hands the item straight to the oldest getter, a newcomer cannot barge ahead."""
    q = make(cls)

    async def getter(t: Task) -> Any:
        return await get(t, q, timeout=20)

    waiter = Running(library, getter)
    wait_until(lambda: q.getting == 1)
    q.green_put("reserved")
    with pytest.raises(QueueEmpty):
        q.green_get(blocking=False)
    assert waiter.result() == "reserved"
    assert not q


def test_place_is_handed_to_the_waiting_putter_not_to_a_newcomer(library: str) -> None:
    q = Queue(["a"], maxsize=1)

    async def putter(t: Task) -> None:
        await put(t, q, "waiting", timeout=20)

    waiter = Running(library, putter)
    wait_until(lambda: q.putting == 1)
    assert q.green_get(blocking=False) == "a"
    with pytest.raises(QueueFull):
        q.green_put("newcomer", blocking=False)
    waiter.result()
    assert drain(q) == ["waiting"]


# --- producers and consumers in different threads and libraries ---------------------------------------------


@pytest.mark.parametrize("cls", [SimpleQueue, Queue], ids=class_id)
def test_transfer_between_libraries_keeps_fifo(library: str, other_library: str, cls: type) -> None:
    """Producer on ``library`` in one thread, consumer on ``other_library`` in another, through one queue."""
    count = 200
    q = make(cls, None, None if cls is SimpleQueue else 4)

    async def producer(t: Task) -> None:
        for i in range(count):
            await put(t, q, i, timeout=20)

    async def consumer(t: Task) -> list[Any]:
        return [await get(t, q, timeout=20) for _ in range(count)]

    consuming = Running(other_library, consumer)
    producing = Running(library, producer)
    producing.result()
    assert consuming.result() == list(range(count))
    assert not q and q.waiting == 0


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_transfer_with_two_producers_and_two_consumers(library: str, cls: type) -> None:
    """Two producers (``library``, a thread) and two consumers (the same): every item arrives once."""
    per_producer = 150
    q = make(cls, None, None if cls in SIMPLE_CLASSES else 3)
    stop = threading.Event()

    async def producer(t: Task, base: int) -> None:
        for i in range(base, base + per_producer):
            await put(t, q, i, timeout=20)

    async def consumer(t: Task) -> list[Any]:
        got = []
        while not (stop.is_set() and not q):
            try:
                got.append(await get(t, q, timeout=0.01))
            except QueueEmpty:
                pass
        return got

    consumers = [Running(library, consumer), Running("threading", consumer)]
    producers = [Running(library, producer, 0), Running("threading", producer, per_producer)]
    for p in producers:
        p.result()
    stop.set()
    received = [item for c in consumers for item in c.result()]
    assert sorted(received) == list(range(2 * per_producer))
    assert q.waiting == 0


# --- subclass hooks -----------------------------------------------------------------------------------------


class MaxFirstQueue(Queue):  # type: ignore[type-arg]
    """A subclass keeping a plain list and returning the largest item first, recording each hook call."""

    def _init(self, items: Iterable[Any], maxsize: int) -> None:
        data = list(items)
        self.calls = [("init", list(data), maxsize)]
        self._data = data

    def _put(self, item: Any) -> None:
        self.calls.append(("put", item))
        self._data.append(item)

    def _get(self) -> Any:
        item = max(self._data)
        self._data.remove(item)
        self.calls.append(("get", item))
        return item


def test_subclass_hooks_are_honoured(library: str) -> None:
    async def body(t: Task) -> tuple[list[Any], list[Any]]:
        q = MaxFirstQueue([3, 1, 2], maxsize=5)
        assert isinstance(q._data, list)
        assert len(q) == 3 and q.maxsize == 5
        await put(t, q, 10)
        await put(t, q, 0)
        with pytest.raises(QueueFull):
            await put(t, q, 99, blocking=False)
        got = [await get(t, q) for _ in range(5)]
        assert not q
        return got, q.calls

    got, calls = run(library, body)
    assert got == [10, 3, 2, 1, 0]
    assert calls == [
        ("init", [3, 1, 2], 5),
        ("put", 10),
        ("put", 0),
        ("get", 10),
        ("get", 3),
        ("get", 2),
        ("get", 1),
        ("get", 0),
    ]


@pytest.mark.parametrize("cls", BOUNDED_CLASSES, ids=class_id)
def test_subclass_redefining_one_hook_keeps_the_base_hooks(cls: type) -> None:
    """A subclass that wraps one hook and calls the base one still gets the base container's order."""

    class Doubling(cls):  # type: ignore[misc, valid-type]
        def _put(self, item: Any) -> None:
            super()._put(item * 2)

    class Counting(cls):  # type: ignore[misc, valid-type]
        def _get(self) -> Any:
            return (super()._get(), len(self._data))

    doubling = Doubling([3, 1], maxsize=4)
    doubling.green_put(2)
    assert drain(doubling) == expected_order(cls, [3, 1, 4])
    counting = Counting([3, 1, 2])
    assert drain(counting) == list(zip(expected_order(cls, [3, 1, 2]), [2, 1, 0], strict=True))


def test_subclass_hooks_receive_initial_items_and_repr_uses_subclass_name() -> None:
    q = MaxFirstQueue(iter([4, 8]), maxsize=3)
    assert q.calls == [("init", [4, 8], 3)]
    assert re.fullmatch(
        rf"<test_queues\.MaxFirstQueue\(\[4, 8\], maxsize=3\) at {ADDRESS} \[length=2\]>", repr(q)
    ), repr(q)


def test_subclass_get_hook_feeds_waiting_getter() -> None:
    q = MaxFirstQueue(maxsize=2)

    async def getter(t: Task) -> Any:
        return await get(t, q, timeout=20)

    waiter = Running("asyncio", getter)
    wait_until(lambda: q.getting == 1)
    q.green_put(42)
    assert waiter.result() == 42
    assert ("put", 42) in q.calls and ("get", 42) in q.calls


# --- cancellation safety (§1.9) -----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [SimpleQueue, Queue, LifoQueue, PriorityQueue], ids=class_id)
def test_cancel_after_put_keeps_item(cls: type) -> None:
    """asyncio: the item is put (handed to the waiting getter), then that getter is cancelled before it runs.

    The getter raises CancelledError and the item stays queued for the next getter: nothing is lost or
    duplicated.
    """

    async def main() -> None:
        q = make(cls, None, None if cls is SimpleQueue else 1)
        task = asyncio.ensure_future(q.async_get())
        while q.getting != 1:
            await asyncio.sleep(0)
        await q.async_put("item")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(q) == 1 and q.getting == 0
        if cls is not SimpleQueue:
            with pytest.raises(QueueFull):  # the item still occupies its place
                q.green_put("extra", blocking=False)
        assert await q.async_get(blocking=False) == "item"
        with pytest.raises(QueueEmpty):
            q.green_get(blocking=False)

    asyncio.run(main())


@pytest.mark.parametrize("cls", [SimpleQueue, Queue], ids=class_id)
def test_cancel_after_put_passes_item_to_next_getter(cls: type) -> None:
    async def main() -> list[Any]:
        q = make(cls)
        first = asyncio.ensure_future(q.async_get())
        while q.getting != 1:
            await asyncio.sleep(0)
        second = asyncio.ensure_future(q.async_get())
        while q.getting != 2:
            await asyncio.sleep(0)
        q.green_put("item")
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        result = [await asyncio.wait_for(second, 5)]
        assert not q and q.getting == 0
        return result

    assert asyncio.run(main()) == ["item"]


def test_cancel_after_place_freed_passes_place_to_next_putter() -> None:
    async def main() -> None:
        q = Queue(["a"], maxsize=1)
        first = asyncio.ensure_future(q.async_put("first"))
        while q.putting != 1:
            await asyncio.sleep(0)
        second = asyncio.ensure_future(q.async_put("second"))
        while q.putting != 2:
            await asyncio.sleep(0)
        assert q.green_get(blocking=False) == "a"  # the place goes to `first` ...
        first.cancel()  # ... which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await first
        await asyncio.wait_for(second, 5)
        assert drain(q) == ["second"] and q.waiting == 0

    asyncio.run(main())


def test_cancel_after_place_freed_returns_place_when_no_other_putter() -> None:
    async def main() -> None:
        q = Queue(["a"], maxsize=1)
        putter = asyncio.ensure_future(q.async_put("cancelled"))
        while q.putting != 1:
            await asyncio.sleep(0)
        assert q.green_get(blocking=False) == "a"
        putter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await putter
        assert not q and q.putting == 0
        q.green_put("next", blocking=False)  # the place was not lost
        assert drain(q) == ["next"]

    asyncio.run(main())


@pytest.mark.parametrize("cls", [SimpleQueue, Queue], ids=class_id)
def test_trio_cancel_after_put_completes_get(cls: type) -> None:
    """trio: once the put rescheduled the getter (same thread), cancelling it no longer interrupts the get."""
    import trio
    import trio.testing

    async def main() -> None:
        q = make(cls)
        results: list[Any] = []

        async def getter() -> None:
            results.append(await q.async_get())

        async with trio.open_nursery() as nursery:
            nursery.start_soon(getter)
            await trio.testing.wait_all_tasks_blocked()
            assert q.getting == 1
            q.green_put("item")
            nursery.cancel_scope.cancel()
        assert results == ["item"]
        assert not q

    trio.run(main)


@pytest.mark.parametrize("cls", [SimpleQueue, Queue, LifoQueue], ids=class_id)
def test_cancelled_getter_leaves_the_queue(cancellable_library: str, cls: type) -> None:
    async def body(t: Task) -> None:
        q = make(cls)
        async with t.cancel_after(0.02) as scope:
            await get(t, q)
        assert scope.cancelled
        assert q.getting == 0 and q.waiting == 0
        await put(t, q, "x")
        assert len(q) == 1  # no stale waiter swallowed it
        assert await get(t, q, blocking=False) == "x"

    run(cancellable_library, body)


def test_putter_cancelled_while_waiting_for_a_place_never_inserted(cancellable_library: str) -> None:
    async def body(t: Task) -> None:
        q = Queue(["x"], maxsize=1)
        async with t.cancel_after(0.02) as scope:
            await put(t, q, "y")
        assert scope.cancelled
        assert q.putting == 0 and q.waiting == 0
        assert len(q) == 1
        assert await get(t, q) == "x"
        assert not q
        await put(t, q, "z", blocking=False)  # the place is free again
        assert drain(q) == ["z"]

    run(cancellable_library, body)


ROUNDS = 30


def _race_getter(
    library: str, cls: type, *, timeout: float | None = None, cancel: float | None = None
) -> None:
    """A getter on ``library`` gives up (timeout or cancellation) at about the moment a thread puts its item.

    Per round: either the get returned the item and the queue is empty, or the get failed and the item is
    still in the queue. Never both, never neither.
    """
    queues = [make(cls, None, None if cls is SimpleQueue else 1) for _ in range(ROUNDS)]
    ready = [threading.Event() for _ in range(ROUNDS)]

    async def getter(t: Task) -> list[Any]:
        outcomes = []
        for q, flag in zip(queues, ready, strict=True):
            got: Any = NOTHING
            flag.set()
            if cancel is None:
                try:
                    got = await get(t, q, timeout=timeout)
                except QueueEmpty:
                    pass
            else:
                async with t.cancel_after(cancel):
                    got = await get(t, q)
            outcomes.append(got)
        return outcomes

    running = Running(library, getter)
    rng = random.Random(f"{library}-{cls.__name__}")
    for i, (q, flag) in enumerate(zip(queues, ready, strict=True)):
        assert flag.wait(10)
        time.sleep(rng.uniform(0, 0.004))  # randomised timing, not ordering
        q.green_put(i)
    outcomes = running.result()
    for i, (q, got) in enumerate(zip(queues, outcomes, strict=True)):
        assert q.getting == 0
        left = drain(q)
        if got is NOTHING:
            assert left == [i], f"round {i}: item lost"
        else:
            assert got == i and left == [], f"round {i}: item duplicated or wrong"


@pytest.mark.parametrize("cls", [SimpleQueue, Queue], ids=class_id)
def test_getter_timing_out_when_served_leaves_item(library: str, cls: type) -> None:
    _race_getter(library, cls, timeout=0.002)


@pytest.mark.parametrize("cls", [SimpleQueue, Queue], ids=class_id)
def test_getter_cancelled_when_served_leaves_item(cancellable_library: str, cls: type) -> None:
    _race_getter(cancellable_library, cls, cancel=0.002)


def _race_putter(library: str, *, timeout: float | None = None, cancel: float | None = None) -> None:
    """A putter on ``library`` waiting on a full Queue(1) gives up about when a thread frees the place.

    Per round: either the put returned and its item is queued, or it failed, inserted nothing, and the place
    it may have been handed is free again.
    """
    queues = [Queue(["x"], maxsize=1) for _ in range(ROUNDS)]
    ready = [threading.Event() for _ in range(ROUNDS)]

    async def putter(t: Task) -> list[bool]:
        outcomes = []
        for i, (q, flag) in enumerate(zip(queues, ready, strict=True)):
            done = False
            flag.set()
            if cancel is None:
                try:
                    await put(t, q, i, timeout=timeout)
                    done = True
                except QueueFull:
                    pass
            else:
                async with t.cancel_after(cancel):
                    await put(t, q, i)
                    done = True
            outcomes.append(done)
        return outcomes

    running = Running(library, putter)
    rng = random.Random(f"put-{library}")
    for q, flag in zip(queues, ready, strict=True):
        assert flag.wait(10)
        time.sleep(rng.uniform(0, 0.004))  # randomised timing, not ordering
        assert q.green_get(timeout=5) == "x"
    outcomes = running.result()
    for i, (q, done) in enumerate(zip(queues, outcomes, strict=True)):
        assert q.putting == 0
        if done:
            assert drain(q) == [i], f"round {i}: a successful put lost its item"
        else:
            assert drain(q) == [], f"round {i}: a failed put inserted its item"
            q.green_put("probe", blocking=False)  # the place was not lost
            assert drain(q) == ["probe"]


def test_putter_timing_out_when_place_freed_never_inserts(library: str) -> None:
    _race_putter(library, timeout=0.002)


def test_putter_cancelled_when_place_freed_never_inserts(cancellable_library: str) -> None:
    _race_putter(cancellable_library, cancel=0.002)


# --- pickling and copying (§1.2) ----------------------------------------------------------------------------


def _content_and_bound(q: Any) -> tuple[list[Any], int | None]:
    return drain(q), getattr(q, "maxsize", None)


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_pickle_carries_content_and_warns(cls: type, protocol: int) -> None:
    q = make(cls, [3, 1, 2], None if cls in SIMPLE_CLASSES else 5)
    with pytest.warns(DeprecationWarning, match=STATE_WARNING):
        data = pickle.dumps(q, protocol)
    clone = pickle.loads(data)
    assert type(clone) is cls and clone is not q
    assert len(q) == 3  # the original is untouched
    expected_bound = None if cls in SIMPLE_CLASSES else 5
    assert _content_and_bound(clone) == (expected_order(cls, [3, 1, 2]), expected_bound)
    if cls in BOUNDED_CLASSES:
        for i in range(5):
            clone.green_put(i, blocking=False)
        with pytest.raises(QueueFull):
            clone.green_put(5, blocking=False)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_copy_and_deepcopy_carry_content_and_warn(cls: type) -> None:
    items = [[3], [1], [2]]
    q = make(cls, items, None if cls in SIMPLE_CLASSES else 4)
    with pytest.warns(DeprecationWarning, match=STATE_WARNING):
        shallow = copy.copy(q)
    with pytest.warns(DeprecationWarning, match=STATE_WARNING):
        deep = copy.deepcopy(q)
    expected = expected_order(cls, items)
    for clone in (shallow, deep):
        assert type(clone) is cls and clone is not q
        if cls in BOUNDED_CLASSES:
            assert clone.maxsize == 4
    shallow_items, deep_items = drain(shallow), drain(deep)
    assert shallow_items == expected and deep_items == expected
    assert all(a is b for a, b in zip(shallow_items, expected, strict=True))
    assert all(a is not b for a, b in zip(deep_items, expected, strict=True))
    assert len(q) == 3


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_empty_queues_pickle_and_copy_silently(cls: type) -> None:
    q = make(cls, None, None if cls in SIMPLE_CLASSES else 7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clones = [pickle.loads(pickle.dumps(q, p)) for p in range(2, pickle.HIGHEST_PROTOCOL + 1)]
        clones += [copy.copy(q), copy.deepcopy(q)]
    for clone in clones:
        assert type(clone) is cls and clone is not q and not clone
        if cls in BOUNDED_CLASSES:
            assert clone.maxsize == 7
    unbounded = make(cls)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clone = pickle.loads(pickle.dumps(unbounded))
    if cls in BOUNDED_CLASSES:
        assert clone.maxsize == 0


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=class_id)
def test_copy_method_is_deprecated(cls: type) -> None:
    empty = make(cls, None, None if cls in SIMPLE_CLASSES else 2)
    with pytest.warns(DeprecationWarning, match=r"copy\.copy") as record:
        clone = empty.copy()
    assert not any(STATE_WARNING in str(w.message) for w in record)
    assert type(clone) is cls and clone is not empty and not clone
    full = make(cls, [2, 1], None if cls in SIMPLE_CLASSES else 2)
    with pytest.warns(DeprecationWarning) as record:
        clone = full.copy()
    messages = [str(w.message) for w in record]
    assert any("copy.copy" in m for m in messages) and any(STATE_WARNING in m for m in messages)
    assert drain(clone) == expected_order(cls, [2, 1])
    assert len(full) == 2


def test_copies_do_not_carry_waiters() -> None:
    q: Queue[str] = Queue(3)

    async def getter(t: Task) -> Any:
        return await get(t, q, timeout=20)

    waiter = Running("threading", getter)
    wait_until(lambda: q.getting == 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # still empty: silent
        clones = [copy.copy(q), pickle.loads(pickle.dumps(q))]
    for clone in clones:
        assert clone.getting == 0 and clone.waiting == 0 and clone.maxsize == 3
        clone.green_put("clone-item")
        assert len(clone) == 1  # nobody waits on the clone
    q.green_put("real")
    assert waiter.result() == "real"


# --- reprs --------------------------------------------------------------------------------------------------


def assert_repr(obj: object, pattern: str) -> None:
    assert re.fullmatch(pattern, repr(obj)), repr(obj)


@pytest.mark.parametrize("cls", SIMPLE_CLASSES, ids=class_id)
def test_simple_queue_repr(cls: type) -> None:
    name = cls.__name__
    assert_repr(cls(["a", "b"]), rf"<aiologic\.{name}\(\['a', 'b'\]\) at {ADDRESS} \[length=2\]>")
    q = cls()
    assert_repr(q, rf"<aiologic\.{name}\(\[\]\) at {ADDRESS} \[length=0, getting=0\]>")

    async def getter(t: Task) -> Any:
        return await get(t, q, timeout=20)

    waiter = Running("threading", getter)
    wait_until(lambda: q.getting == 1)
    assert_repr(q, rf"<aiologic\.{name}\(\[\]\) at {ADDRESS} \[length=0, getting=1\]>")
    q.put(1)
    assert waiter.result() == 1
    address = f"{id(q):#x}"
    assert repr(q) == f"<aiologic.{name}([]) at {address} [length=0, getting=0]>"


@pytest.mark.parametrize("cls", BOUNDED_CLASSES, ids=class_id)
def test_queue_repr_states(cls: type) -> None:
    name = cls.__name__
    assert_repr(cls([1, 2]), rf"<aiologic\.{name}\(\[1, 2\]\) at {ADDRESS} \[length=2\]>")
    assert_repr(cls(), rf"<aiologic\.{name}\(\[\]\) at {ADDRESS} \[length=0, getting=0\]>")
    assert_repr(cls([1], maxsize=3), rf"<aiologic\.{name}\(\[1\], maxsize=3\) at {ADDRESS} \[length=1\]>")
    assert_repr(cls(3), rf"<aiologic\.{name}\(\[\], maxsize=3\) at {ADDRESS} \[length=0, getting=0\]>")

    full = cls([1, 2], maxsize=2)
    assert_repr(full, rf"<aiologic\.{name}\(\[1, 2\], maxsize=2\) at {ADDRESS} \[length=2, putting=0\]>")

    async def putter(t: Task) -> None:
        await put(t, full, 0, timeout=20)

    waiter = Running("threading", putter)
    wait_until(lambda: full.putting == 1)
    assert_repr(full, rf"<aiologic\.{name}\(\[1, 2\], maxsize=2\) at {ADDRESS} \[length=2, putting=1\]>")
    full.green_get(timeout=5)
    waiter.result()

    empty = cls(2)

    async def getter(t: Task) -> Any:
        return await get(t, empty, timeout=20)

    waiters = [Running("threading", getter) for _ in range(2)]
    wait_until(lambda: empty.getting == 2)
    assert_repr(empty, rf"<aiologic\.{name}\(\[\], maxsize=2\) at {ADDRESS} \[length=0, getting=2\]>")
    empty.green_put("a")
    empty.green_put("b")
    assert sorted(w.result() for w in waiters) == ["a", "b"]


def test_priority_queue_repr_shows_heap_order() -> None:
    items = [5, 3, 9, 1, 4]
    heap = list(items)
    heapq.heapify(heap)
    q = PriorityQueue(items)
    assert_repr(q, rf"<aiologic\.PriorityQueue\({re.escape(repr(heap))}\) at {ADDRESS} \[length=5\]>")
    q.green_put(0)
    heapq.heappush(heap, 0)
    assert_repr(q, rf"<aiologic\.PriorityQueue\({re.escape(repr(heap))}\) at {ADDRESS} \[length=6\]>")


def test_repr_address_is_the_object_id() -> None:
    for q in (SimpleQueue([1]), Queue([1], maxsize=2), PriorityQueue()):
        assert f" at {id(q):#x} [" in repr(q)
