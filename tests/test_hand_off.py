"""What locks, semaphores and capacity limiters share (spec §4-§6), written once for every kind of them.

Each test takes the ``kind`` fixture: a ``Lock``, ``RLock``, ``Semaphore`` (of one and of three
permits), ``BoundedSemaphore``, ``BinarySemaphore``, ``BoundedBinarySemaphore``, ``CapacityLimiter`` (of one
and of three tokens) or ``RCapacityLimiter`` (of one and of two). The kind reads the primitive through its
family (:class:`harness.Family`): how many units (locks, permits, tokens) are free, whom the primitive
records as their holders, and whether a task holds one. Units a test wants held elsewhere are held by other
threads (:class:`harness.Hog`), so that every kind is driven the same way whatever its capacity. What only one
family does (ownership errors, levels, borrowers, bounded release, the factory table, reprs) stays in its
module.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from aiologic.lowlevel import current_async_task_ident
from harness import (
    KINDS,
    LONG_IDS,
    LONG_TIMEOUTS,
    NAN,
    Hog,
    Kind,
    Running,
    Task,
    acquire,
    me,
    release,
    run,
    wait_until,
)


@pytest.fixture(params=KINDS, ids=str)
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param  # type: ignore[no-any-return]


# --- hand-off -----------------------------------------------------------------------------------------------


def test_hand_off_to_waiter_in_another_thread(kind: Kind, library: str, other_library: str) -> None:
    """The releaser runs on ``other_library`` in one thread, the waiter on ``library`` in another, while other
    threads hold the rest of the units.

    When ``release()`` returns, the unit already belongs to the waiter: none is free, nobody waits, the
    releaser holds nothing and cannot take it back with a non-blocking attempt. A lock names the waiter as its
    owner right then (an ``RLock`` with the waiter's level); a limiter lists the waiter, with its level, once
    it resumes.
    """
    primitive = kind.create()
    others = Hog(primitive, kind.capacity - 1)
    held, go, checked = threading.Event(), threading.Event(), threading.Event()

    async def releaser(t: Task) -> tuple[Any, ...]:
        assert await acquire(t, primitive) is True
        held.set()
        assert go.wait(10)
        release(t, primitive)
        snapshot = kind.state(primitive), kind.holds(t, primitive)
        barged = await acquire(t, primitive, blocking=False)
        return snapshot, barged

    async def waiter(t: Task) -> tuple[bool, tuple[str, int], Any]:
        ok = await acquire(t, primitive, *kind.count, timeout=10)
        seen = kind.holders(primitive)
        assert checked.wait(10)
        release(t, primitive, *kind.count)
        return ok, me(t), seen

    releasing = Running(other_library, releaser)
    assert held.wait(10)
    waiting = Running(library, waiter)
    wait_until(lambda: primitive.waiting == 1)
    go.set()
    (at_release, releaser_holds), barged = releasing.result()
    checked.set()
    ok, ident, seen = waiting.result()
    assert ok is True and barged is False and releaser_holds == kind.owning(False)
    listed = (0, 0, kind.owning({**others.holders, ident: kind.level}))
    assert (0, 0, seen) == listed
    if kind.family.names_waiter_at_hand_off:
        assert at_release == listed
    else:  # a limiter lists the waiter once it resumes, which (in a thread of its own) may have happened
        assert at_release in (listed, (0, 0, kind.owning(others.holders)))
    others.release_all()
    assert kind.state(primitive) == kind.rest


def test_fifo_hand_off_alternating_worlds(kind: Kind, library: str) -> None:
    """Waiters of ``library``, asyncio and plain threads queue in turn and get the unit in that order. The
    release hands it over at once: it is never free while they pass it along (a lock names one of them as its
    owner), and a newcomer cannot barge in."""
    primitive = kind.create()
    worlds = [library, "asyncio", library, "threading", library]
    order: list[int] = []
    idents: list[tuple[str, int]] = []
    gate = threading.Event()

    async def waiter(t: Task, index: int) -> bool:
        idents.append(me(t))
        ok = await acquire(t, primitive, timeout=10)
        order.append(index)
        if index == len(worlds) - 1:
            assert gate.wait(10)
        release(t, primitive)
        return ok

    others = Hog(primitive, kind.capacity - 1)
    assert primitive.green_acquire()
    runners = []
    for index, world in enumerate(worlds):
        runners.append(Running(world, waiter, index))
        wait_until(lambda index=index: primitive.waiting == index + 1)
    primitive.green_release()
    assert kind.free(primitive) == 0
    if kind.family.names_waiter_at_hand_off:
        holders = kind.holders(primitive)
        assert holders and set(holders) <= set(idents)
    assert primitive.green_acquire(blocking=False) is False
    gate.set()
    assert [runner.result() for runner in runners] == [True] * len(worlds)
    assert order == list(range(len(worlds)))
    others.release_all()
    assert kind.state(primitive) == kind.rest


def test_sibling_waits_for_the_holder_in_the_same_thread(kind: Kind, library: str) -> None:
    """While a task or greenlet holds the last free unit, a sibling in the same thread cannot take it, neither
    without waiting nor with a timeout, and is left with nothing and no place in the queue: ownership, and an
    ``RLock``'s or ``RCapacityLimiter``'s reentrancy, belong to the task, not to its thread."""
    primitive = kind.create()
    others = Hog(primitive, kind.capacity - 1)

    async def body(t: Task) -> list[Any]:
        holding, done = t.create_event(), t.create_event()

        async def holder(t: Task) -> bool:
            assert await acquire(t, primitive)
            holding.set()
            assert await t.wait(done, 10)
            release(t, primitive)
            return True

        async def sibling(t: Task) -> tuple[Any, ...]:
            assert await t.wait(holding, 10)
            attempts = await acquire(t, primitive, blocking=False), await acquire(t, primitive, timeout=0.01)
            seen = kind.state(primitive)[:2], kind.holds(t, primitive)
            done.set()
            return attempts, seen

        return await t.gather(holder, sibling)

    assert run(library, body) == [True, ((False, False), ((0, 0), kind.owning(False)))]
    others.release_all()
    assert kind.state(primitive) == kind.rest


# --- timeouts -----------------------------------------------------------------------------------------------


def test_contended_timeouts_and_non_blocking(kind: Kind, library: str) -> None:
    """With every unit held elsewhere: ``blocking=False`` never waits and ignores the timeout; 0 and positive
    timeouts fail; bad ones raise. None of it leaves a waiter behind or gives the caller anything."""
    primitive = kind.create()
    others = Hog(primitive, kind.capacity)
    held = (0, 0, kind.owning(others.holders))

    async def body(t: Task) -> None:
        assert await acquire(t, primitive, blocking=False) is False
        assert await acquire(t, primitive, blocking=False, timeout=-1) is False
        assert await acquire(t, primitive, blocking=False, timeout=NAN) is False
        assert await acquire(t, primitive, timeout=0) is False
        assert kind.state(primitive) == held
        start = time.monotonic()
        assert await acquire(t, primitive, timeout=0.02) is False
        assert time.monotonic() - start >= 0.01  # a lower bound only: the timeout was waited out
        assert kind.state(primitive) == held
        with pytest.raises(ValueError, match=r"^timeout must be non-negative$"):
            await acquire(t, primitive, timeout=-1)
        with pytest.raises(ValueError, match=r"^timeout must be non-NaN$"):
            await acquire(t, primitive, timeout=NAN)
        assert kind.state(primitive) == held and kind.holds(t, primitive) == kind.owning(False)

    run(library, body)
    assert kind.state(primitive) == held
    others.release_all()
    assert kind.state(primitive) == kind.rest


def test_bad_timeouts_pass_on_the_fast_path(kind: Kind, library: str) -> None:
    """A negative or NaN timeout is not even looked at when a unit is free: the acquire succeeds."""

    async def body(t: Task) -> None:
        primitive = kind.create()
        for kwargs in ({"timeout": -1}, {"timeout": NAN}, {"blocking": False, "timeout": -1}):
            assert await acquire(t, primitive, **kwargs) is True
            assert kind.free(primitive) == kind.capacity - 1
            assert kind.holds(t, primitive) == kind.owning(True)
            release(t, primitive)
        assert kind.state(primitive) == kind.rest

    run(library, body)


@pytest.mark.parametrize("timeout", LONG_TIMEOUTS, ids=LONG_IDS)
def test_long_timeouts_wait_for_release(kind: Kind, library: str, timeout: Any) -> None:
    """However a long timeout is spelled, the waiter waits for the release and gets the unit."""
    primitive = kind.create()
    others = Hog(primitive, kind.capacity - 1)
    assert primitive.green_acquire()
    left = threading.Event()

    async def body(t: Task) -> tuple[bool, bool | None]:
        try:
            ok = await acquire(t, primitive, timeout=timeout)
        finally:
            left.set()
        holds = kind.holds(t, primitive)
        release(t, primitive)
        return ok, holds

    waiter = Running(library, body)
    wait_until(lambda: primitive.waiting == 1 or left.is_set())
    if timeout == 3e6:
        time.sleep(0.05)  # let the waiter's poller block with that timeout: nothing observable tells it did
    primitive.green_release()
    try:
        assert waiter.result() == (True, kind.owning(True))
    finally:
        others.release_all()
    assert kind.state(primitive) == kind.rest


def test_timeout_zero_succeeds_when_woken_in_that_turn(kind: Kind) -> None:
    """asyncio: ``timeout=0`` still yields once, and a hand-off delivered during that turn wins (§1.4);
    without one, it fails and leaves no waiter."""

    async def body(t: Task) -> None:
        primitive = kind.create()
        others = Hog(primitive, kind.capacity - 1)
        go = asyncio.Event()

        async def holder() -> None:
            await primitive.async_acquire()
            await go.wait()
            primitive.async_release()

        task = asyncio.create_task(holder())
        await asyncio.sleep(0)  # the holder takes the last unit
        assert kind.free(primitive) == 0
        go.set()  # the holder runs in the very turn the zero-timeout acquire yields
        assert await primitive.async_acquire(timeout=0) is True
        me = current_async_task_ident()
        assert kind.state(primitive) == (0, 0, kind.owning({**others.holders, me: 1}))
        assert kind.holds(t, primitive) == kind.owning(True)
        primitive.async_release()
        await task
        go = asyncio.Event()
        task = asyncio.create_task(holder())
        await asyncio.sleep(0)
        assert await primitive.async_acquire(timeout=0) is False  # no release in that turn
        assert kind.state(primitive) == (0, 0, kind.owning({**others.holders, ("asyncio", id(task)): 1}))
        go.set()
        await task
        others.release_all()
        assert kind.state(primitive) == kind.rest

    run("asyncio", body)
