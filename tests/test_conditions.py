"""aiologic.Condition over every kind of lock, on every library and across libraries (spec §7, §1.4, §1.9)."""

from __future__ import annotations

import copy
import gc
import logging
import math
import pickle
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

import aiologic
from aiologic import BusyResourceError, Condition
from aiologic.lowlevel import current_green_task_ident
from aiologic.meta import DEFAULT
from harness import Running, Task, gate_for, run, until, wait_until

# --- lock kinds ---------------------------------------------------------------------------------------------

REPARKING_KINDS = ("default", "Lock", "BinarySemaphore", "BoundedBinarySemaphore")  # aiologic locks
THREAD_KINDS = ("threading.RLock", "threading.Lock")
LOCKED_KINDS = REPARKING_KINDS + THREAD_KINDS
KINDS = (*LOCKED_KINDS, "None")


def make_condition(kind: str, **kwargs: Any) -> Condition[Any, Any]:
    if kind == "default":
        return Condition(**kwargs)
    lock: Any = {
        "Lock": aiologic.Lock,
        "BinarySemaphore": aiologic.BinarySemaphore,
        "BoundedBinarySemaphore": aiologic.BoundedBinarySemaphore,
        "threading.RLock": threading.RLock,
        "threading.Lock": threading.Lock,
        "None": lambda: None,
    }[kind]()
    return Condition(lock, **kwargs)


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(params=LOCKED_KINDS)
def locked_kind(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(params=REPARKING_KINDS)
def reparking_kind(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


# --- helpers used by bodies ---------------------------------------------------------------------------------


@asynccontextmanager
async def holding(t: Task, cv: Condition[Any, Any]) -> AsyncIterator[Condition[Any, Any]]:
    """``with cv`` in green bodies, ``async with cv`` in async ones; checks that enter returns ``cv``."""
    if t.green:
        with cv as entered:
            assert entered is cv
            yield entered
    else:
        async with cv as entered:
            assert entered is cv
            yield entered


def holds(t: Task, cv: Condition[Any, Any]) -> bool:
    """Whether the current task (or thread, for thread locks) holds the condition's lock."""
    lock = cv.lock
    if lock is None:
        return True
    if isinstance(lock, aiologic.Lock):
        return lock.green_owned() if t.green else lock.async_owned()
    if isinstance(lock, aiologic.BinarySemaphore):
        return lock.value == 0
    if hasattr(lock, "_is_owned"):
        return bool(lock._is_owned())
    return bool(lock.locked())


def release_directly(t: Task, cv: Condition[Any, Any]) -> None:
    """Release the condition's lock behind its back (not through the condition)."""
    lock = cv.lock
    if isinstance(lock, aiologic.Lock):
        if t.green:
            lock.green_release()
        else:
            lock.async_release()
    else:
        lock.release()


def lock_is_free(cv: Condition[Any, Any]) -> bool:
    """Whether another thread could take the lock right now (probed from a fresh thread)."""
    lock = cv.lock
    if isinstance(lock, aiologic.Lock):
        return not lock.locked()
    if isinstance(lock, aiologic.BinarySemaphore):
        return lock.value == 1
    result: list[bool] = []

    def probe() -> None:
        got = lock.acquire(blocking=False)
        if got:
            lock.release()
        result.append(got)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return result[0]


async def wait(t: Task, cv: Condition[Any, Any], timeout: float | None = None) -> bool:
    return await t.call(cv.wait, cv.with_, timeout)  # type: ignore[no-any-return]


async def wait_for(
    t: Task, cv: Condition[Any, Any], predicate: Callable[[], Any], timeout: float | None = None, **kw: Any
) -> Any:
    return await t.call(cv.wait_for, cv.for_, predicate, timeout, **kw)


async def wait_holding(t: Task, cv: Condition[Any, Any], timeout: float | None = 10) -> tuple[bool, bool]:
    """Wait once inside ``with cv``; report the result and whether the lock is held again afterwards."""
    async with holding(t, cv):
        result = await wait(t, cv, timeout)
        return result, holds(t, cv)


async def notify_holding(t: Task, cv: Condition[Any, Any], count: int = 1) -> tuple[int, int, int | None]:
    """Notify inside ``with cv`` (no lock for a lockless one): (woken, cv.waiting, lock queue growth)."""
    async with holding(t, cv):
        before = cv.lock.waiting if cv.lock is not None and hasattr(cv.lock, "waiting") else None
        woken = cv.notify(count)
        grown = None if before is None else cv.lock.waiting - before
        return woken, cv.waiting, grown


# --- construction, properties, repr, bool, copying ----------------------------------------------------------


def test_default_lock_is_a_fresh_rlock() -> None:
    first, second, explicit = Condition(), Condition(), Condition(DEFAULT)
    for cv in (first, second, explicit):
        assert type(cv.lock) is aiologic.RLock
        assert not cv.lock.locked()
        assert isinstance(cv, Condition)
    assert first.lock is not second.lock


def test_lock_property_is_the_given_lock(kind: str) -> None:
    lock = make_condition(kind).lock
    cv = Condition(lock)
    assert cv.lock is lock
    assert cv.waiting == 0


def test_a_condition_not_waited_on_holds_no_object_of_its_own_that_the_gc_tracks() -> None:
    """Each concurrent.futures.Future has a condition (the patched one is this class), and every full GC
    collection scans them all: a condition and its default lock share their lock adapter, and keep their
    waiter queues, try-lock and timer out of the GC (the queues until a wait needs them)."""

    def own(obj: object) -> list[object]:
        return [o for o in gc.get_referents(obj) if gc.is_tracked(o) and not isinstance(o, type)]

    cv = Condition()
    assert own(cv) == [cv._adapter, cv.lock] and Condition()._adapter is cv._adapter  # a shared adapter
    assert own(cv.lock) == [cv.lock._tokens]
    with cv:
        assert not cv.wait(0)
        assert cv.notify() == 0
    assert cv.waiting == 0 and cv.timer() > 0
    assert cv._waiters in own(cv)  # the first wait made the queue


def test_default_timer_is_an_increasing_counter() -> None:
    cv = Condition()
    values = [cv.timer() for _ in range(5)]
    assert all(isinstance(value, int) for value in values)
    assert values == sorted(values) and len(set(values)) == 5
    assert Condition(timer=time.monotonic).timer is time.monotonic


@pytest.mark.parametrize(
    ("kind", "shown"),
    [
        ("default", "<aiologic.RLock>"),
        ("Lock", "<aiologic.Lock>"),
        ("BinarySemaphore", "<aiologic.BinarySemaphore>"),
        ("BoundedBinarySemaphore", "<aiologic.BoundedBinarySemaphore>"),
        ("None", "None"),
    ],
)
def test_repr(kind: str, shown: str) -> None:
    cv = make_condition(kind)
    assert repr(cv) == f"<aiologic.Condition({shown}) at {id(cv):#x} [waiting=0]>"
    timed = make_condition(kind, timer=time.monotonic)
    assert repr(timed) == (
        f"<aiologic.Condition({shown}, timer=<built-in function monotonic>) at {id(timed):#x} [waiting=0]>"
    )


def test_repr_counts_waiters() -> None:
    cv = Condition()
    waiters = [Running("threading", wait_holding, cv) for _ in range(2)]
    wait_until(lambda: cv.waiting == 2)
    assert re.fullmatch(r"<aiologic\.Condition\(<aiologic\.RLock>\) at 0x[0-9a-f]+ \[waiting=2\]>", repr(cv))
    with cv:
        assert cv.notify_all() == 2
    assert [waiter.result() for waiter in waiters] == [(True, True)] * 2
    assert repr(cv).endswith("[waiting=0]>")


def test_bool_follows_the_lock(kind: str) -> None:
    cv = make_condition(kind)
    assert not cv
    with cv:
        assert bool(cv) is (kind != "None")
    assert not cv


@pytest.mark.parametrize("kind", LOCKED_KINDS)
def test_bool_is_true_when_another_thread_holds_the_lock(kind: str) -> None:
    """§7.2: ``bool(cv)`` is "the underlying lock is held by anyone", not only by the caller."""
    cv = make_condition(kind)
    entered = threading.Event()
    leave = threading.Event()

    def holder() -> None:
        with cv:
            entered.set()
            leave.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert entered.wait(10)
        held = bool(cv)
    finally:
        leave.set()
        thread.join()
    assert held
    assert not cv


@pytest.mark.parametrize("kind", KINDS)
def test_copy_shares_the_lock(kind: str) -> None:
    cv = make_condition(kind)
    waiter = Running("threading", wait_holding, cv, 10)
    wait_until(lambda: cv.waiting == 1)
    clone = copy.copy(cv)
    assert type(clone) is type(cv) and clone is not cv
    assert clone.lock is cv.lock
    assert clone.waiting == 0  # waiters are state, not carried over
    assert clone != cv
    with cv:
        assert cv.notify() == 1
    assert waiter.result() == (True, True)


@pytest.mark.parametrize("kind", (*REPARKING_KINDS, "None"))
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_deepcopy_and_pickle_rebuild_the_lock(kind: str, how: str) -> None:
    cv = make_condition(kind)
    with cv:
        clone = copy.deepcopy(cv) if how == "deepcopy" else pickle.loads(pickle.dumps(cv))
        assert type(clone) is type(cv) and clone is not cv
        if kind == "None":
            assert clone.lock is None
        else:
            assert type(clone.lock) is type(cv.lock)
            assert clone.lock is not cv.lock
            assert cv  # the original is still held
            assert not clone  # the copy of the lock is fresh and unlocked
            with clone:
                assert clone


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
def test_copies_keep_a_custom_timer_and_renew_the_default_one(how: str) -> None:
    def duplicate(obj: Any) -> Any:
        if how == "copy":
            return copy.copy(obj)
        if how == "deepcopy":
            return copy.deepcopy(obj)
        return pickle.loads(pickle.dumps(obj))

    timed = Condition(timer=time.monotonic)
    assert duplicate(timed).timer is time.monotonic
    assert "timer=<built-in function monotonic>" in repr(duplicate(timed))

    cv = Condition()
    first = [cv.timer() for _ in range(3)]
    clone = duplicate(cv)
    assert clone.timer is not cv.timer
    assert "timer=" not in repr(clone)
    assert clone.timer() == first[0]  # a new counter starts over
    assert cv.timer() > first[-1]


def test_copy_with_a_thread_lock_shares_it() -> None:
    for lock in (threading.Lock(), threading.RLock()):
        cv = Condition(lock)
        assert copy.copy(cv).lock is lock


# --- wait / notify on every library -------------------------------------------------------------------------


def test_wait_notify_across_libraries(library: str, other_library: str) -> None:
    """A waiter on ``library`` is notified by a task of ``other_library`` in another thread."""
    cv = Condition()
    waiter = Running(library, wait_holding, cv, 10)
    wait_until(lambda: cv.waiting == 1)
    assert run(other_library, notify_holding, cv) == (1, 0, 1)  # woken, cv.waiting, lock queue grew by 1
    assert waiter.result() == (True, True)
    assert not cv.lock.locked() and cv.waiting == 0


def test_wait_notify_with_each_lock(kind: str, library: str) -> None:
    cv = make_condition(kind)
    waiter = Running(library, wait_holding, cv, 10)
    wait_until(lambda: cv.waiting == 1)
    woken, waiting, grown = run("threading", notify_holding, cv)
    assert (woken, waiting) == (1, 0)
    if kind in REPARKING_KINDS:
        assert grown == 1  # moved into the lock's own queue, not made runnable
    assert waiter.result() == (True, True)
    assert cv.waiting == 0
    if kind != "None":
        assert lock_is_free(cv)


def test_notify_counts(kind: str, library: str) -> None:
    cv = make_condition(kind)
    reparks = kind in REPARKING_KINDS

    async def controller(t: Task) -> list[Any]:
        await until(t, lambda: cv.waiting == 3)
        async with holding(t, cv):
            seen: list[Any] = [cv.notify(0), cv.waiting]
            seen += [cv.notify(2), cv.waiting, cv.lock.waiting if reparks else None]
            seen += [cv.notify_all(), cv.waiting, cv.lock.waiting if reparks else None]
            seen += [cv.notify(), cv.notify(-1), cv.notify_all()]
        return seen

    async def body(t: Task) -> list[Any]:
        return await t.gather(*[lambda t: wait_holding(t, cv, 10)] * 3, controller)

    results = run(library, body)
    assert results[:3] == [(True, True)] * 3
    queued = (lambda n: n) if reparks else (lambda n: None)
    assert results[3] == [0, 3, 2, 1, queued(2), 1, 0, queued(3), 0, 0, 0]
    assert cv.waiting == 0


def test_notify_without_waiters_returns_zero(kind: str) -> None:
    cv = make_condition(kind)
    with cv:
        assert (cv.notify(), cv.notify(5), cv.notify(-1), cv.notify_all()) == (0, 0, 0, 0)


def test_notify_one_at_a_time_is_fifo(kind: str, library: str) -> None:
    cv = make_condition(kind)
    order: list[int] = []

    async def waiter(t: Task, index: int) -> bool:
        await until(t, lambda: cv.waiting == index)  # arrive strictly in index order
        async with holding(t, cv):
            result = await wait(t, cv, 10)
            order.append(index)
            return result

    async def notifier(t: Task) -> list[int]:
        await until(t, lambda: cv.waiting == 3)
        woken = []
        for count in range(1, 4):
            async with holding(t, cv):
                woken.append(cv.notify())
            await until(t, lambda count=count: len(order) == count)
        return woken

    async def body(t: Task) -> list[Any]:
        return await t.gather(*[lambda t, i=i: waiter(t, i) for i in range(3)], notifier)

    assert run(library, body) == [True, True, True, [1, 1, 1]]
    assert order == [0, 1, 2]


def test_notify_all_wakes_in_fifo_order(reparking_kind: str, library: str) -> None:
    """Notified waiters queue for the lock in notification order, and the lock hands off FIFO."""
    cv = make_condition(reparking_kind)
    order: list[int] = []

    async def waiter(t: Task, index: int) -> bool:
        await until(t, lambda: cv.waiting == index)
        async with holding(t, cv):
            result = await wait(t, cv, 10)
            order.append(index)
            return result

    async def notifier(t: Task) -> tuple[int, int, int]:
        await until(t, lambda: cv.waiting == 4)
        async with holding(t, cv):
            return cv.notify_all(), cv.waiting, cv.lock.waiting

    async def body(t: Task) -> list[Any]:
        return await t.gather(*[lambda t, i=i: waiter(t, i) for i in range(4)], notifier)

    assert run(library, body) == [True] * 4 + [(4, 0, 4)]
    assert order == [0, 1, 2, 3]


def test_notify_all_fifo_across_libraries(library: str, other_library: str) -> None:
    """Waiters of two libraries in three threads resume in arrival order after one notify_all()."""
    cv = Condition()
    order: list[int] = []

    async def waiter(t: Task, index: int) -> bool:
        async with holding(t, cv):
            result = await wait(t, cv, 10)
            order.append(index)
            return result

    waiters = []
    for index, lib in enumerate((library, other_library, library)):
        waiters.append(Running(lib, waiter, index))
        wait_until(lambda index=index: cv.waiting == index + 1)
    with cv:
        assert cv.notify_all() == 3
        assert (cv.waiting, cv.lock.waiting) == (0, 3)
    assert [w.result() for w in waiters] == [True] * 3
    assert order == [0, 1, 2]


def test_notified_waiter_gets_the_lock_when_the_notifier_releases(reparking_kind: str, library: str) -> None:
    cv = make_condition(reparking_kind)
    released = threading.Event()

    async def body(t: Task) -> tuple[bool, bool, bool]:
        async with holding(t, cv):
            result = await wait(t, cv, 10)
            return result, released.is_set(), holds(t, cv)

    waiter = Running(library, body)
    wait_until(lambda: cv.waiting == 1)
    with cv:
        assert cv.notify() == 1
        if isinstance(cv.lock, aiologic.Lock):
            assert cv.lock.owner == current_green_task_ident()  # the notifier still owns it
        assert cv.lock.waiting == 1
        released.set()
    assert waiter.result() == (True, True, True)


def test_notify_by_a_non_owner_while_the_lock_is_held(reparking_kind: str, library: str) -> None:
    """With aiologic locks notify() only needs the lock to be held by someone."""
    cv = make_condition(reparking_kind)
    waiter = Running(library, wait_holding, cv, 10)
    wait_until(lambda: cv.waiting == 1)
    holder_in = threading.Event()
    holder_out = threading.Event()

    def holder() -> None:
        with cv:
            holder_in.set()
            holder_out.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holder_in.wait(10)
        assert cv.notify() == 1  # this thread does not hold the lock
        assert cv.waiting == 0 and cv.lock.waiting == 1
    finally:
        holder_out.set()
        thread.join()
    assert waiter.result() == (True, True)


def test_wait_timeout_returns_false_and_reacquires(
    kind: str, library: str, request: pytest.FixtureRequest
) -> None:
    cv = make_condition(kind)

    async def body(t: Task) -> list[Any]:
        seen: list[Any] = []
        async with holding(t, cv):
            for timeout in (0.01, 0):
                seen += [await wait(t, cv, timeout), holds(t, cv), cv.waiting]
        return seen

    assert run(library, body) == [False, True, 0, False, True, 0]
    if kind != "None":
        assert lock_is_free(cv)


def test_wait_timeout_owner_is_the_waiter(library: str, request: pytest.FixtureRequest) -> None:
    cv = Condition()

    async def body(t: Task) -> bool:
        async with holding(t, cv):
            me = cv.lock.owner
            assert await wait(t, cv, 0.01) is False
            return cv.lock.owner == me and cv.lock.count == 1

    assert run(library, body) is True


def test_bad_timeouts_are_rejected_and_the_lock_is_held_again(
    kind: str, library: str, request: pytest.FixtureRequest
) -> None:
    cv = make_condition(kind)

    async def body(t: Task) -> list[Any]:
        seen: list[Any] = []
        async with holding(t, cv):
            with pytest.raises(ValueError, match="timeout must be non-negative"):
                await wait(t, cv, -1)
            seen += [holds(t, cv), cv.waiting]
            with pytest.raises(ValueError, match="timeout must be non-NaN"):
                await wait(t, cv, math.nan)
            seen += [holds(t, cv), cv.waiting]
        return seen

    assert run(library, body) == [True, 0, True, 0]


def test_infinite_timeout_waits(library: str) -> None:
    cv = Condition()
    waiter = Running(library, wait_holding, cv, math.inf)
    wait_until(lambda: cv.waiting == 1)
    with cv:
        assert cv.notify() == 1
    assert waiter.result() == (True, True)


@pytest.mark.parametrize("kind", ["default", "threading.RLock"])
def test_wait_releases_every_level_and_restores_it(kind: str, library: str) -> None:
    cv = make_condition(kind)
    lock = cv.lock

    async def body(t: Task) -> tuple[bool, int]:
        if kind == "default":
            assert await t.call(lock.green_acquire, lock.async_acquire, 3)
            result = await wait(t, cv, 10)
            level = lock.green_count() if t.green else lock.async_count()
            (lock.green_release if t.green else lock.async_release)(level)
            return result, level
        for _ in range(3):
            lock.acquire()
        result = await wait(t, cv, 10)
        level = 0
        while lock._is_owned():
            lock.release()
            level += 1
        return result, level

    waiter = Running(library, body)
    wait_until(lambda: cv.waiting == 1)
    with cv:  # possible only because the waiter released all three levels
        assert cv.notify() == 1
    assert waiter.result() == (True, 3)
    assert lock_is_free(cv)


def test_await_condition_waits_without_timeout(async_library: str) -> None:
    cv = Condition()

    async def body(t: Task) -> tuple[bool, bool]:
        async with cv:
            result = await cv
            return result, cv.lock.async_owned()

    waiter = Running(async_library, body)
    wait_until(lambda: cv.waiting == 1)
    with cv:
        assert cv.notify() == 1
    assert waiter.result() == (True, True)


@pytest.mark.parametrize("kind", ["default", "BinarySemaphore", "threading.Lock"])
def test_timeout_racing_notify_loses_nothing(kind: str, library: str, request: pytest.FixtureRequest) -> None:
    """wait() reports True exactly for the waits that notify() counted, however the two race.

    The jitter only varies where the 2 ms timeout falls relative to the notify; the claim holds for any
    interleaving, so nothing here depends on timing. The windows that used to break it are pinned
    deterministically by the two tests below.
    """
    rounds = 30
    cv = make_condition(kind)
    lock = cv.lock
    go = [threading.Event() for _ in range(rounds)]  # round i: the waiter holds the lock and is about to wait
    done = [threading.Event() for _ in range(rounds)]  # round i: the notifier has notified and released

    async def waiter(t: Task) -> list[bool]:
        results = []
        try:
            for index in range(rounds):
                async with holding(t, cv):
                    go[index].set()
                    results.append(await wait(t, cv, 0.002))
                    if not holds(t, cv):
                        raise AssertionError(f"the lock is not held after wait() in round {index}")
                await until(t, done[index].is_set)
        finally:
            for flag in go:
                flag.set()
        return results

    waiting = Running(library, waiter)
    acquire = (
        lock.green_acquire if isinstance(lock, (aiologic.Lock, aiologic.BinarySemaphore)) else lock.acquire
    )
    counted = []
    for index in range(rounds):
        assert go[index].wait(10), f"round {index}: the waiter did not start waiting within 10 s"
        time.sleep((index % 6) * 0.0006)  # jitter around the 2 ms timeout
        if not acquire(timeout=10):
            waiting.result()  # re-raises the waiter's failure, if it failed
            raise AssertionError(f"round {index}: the lock was still taken 10 s after the waiter's wait")
        try:
            counted.append(cv.notify())
        finally:
            if isinstance(lock, aiologic.Lock):
                lock.green_release()
            else:
                lock.release()
        done[index].set()
    results = waiting.result()
    assert len(results) == len(counted) == rounds
    mismatches = [
        (index, counted[index], results[index])
        for index in range(rounds)
        if bool(counted[index]) != results[index]
    ]
    assert not mismatches, f"(round, notify() returned, wait() returned): {mismatches}"
    assert cv.waiting == 0 and lock_is_free(cv)


@pytest.mark.parametrize("library", ["asyncio", "anyio-asyncio"])
@pytest.mark.parametrize("kind", ["default", "BinarySemaphore", "threading.Lock"])
def test_notify_meeting_a_wait_that_timed_out_but_has_not_resumed(kind: str, library: str) -> None:
    """A notify that takes a waiter whose wait has just timed out does not count it, and the wait says False.

    The interleaving is forced through asyncio's scheduling: the loop is stalled until the wait's deadline
    and a later timer's are both past, so one loop iteration runs the wait's timeout and then that timer,
    while the waiting task only resumes in the next iteration. The timer holds the loop while this thread
    notifies.
    """
    cv = make_condition(kind)
    timed_out = threading.Event()  # the wait has timed out; its task has not resumed
    notified = threading.Event()
    held: list[bool] = []

    def hold_the_loop() -> None:
        timed_out.set()
        held.append(notified.wait(10))

    async def waiter(t: Task) -> bool:
        async with holding(t, cv):
            return await wait(t, cv, 0.005)

    async def staller(t: Task) -> None:
        import asyncio

        await until(t, lambda: cv.waiting == 1)  # the wait's timer is armed (before ours: it fires first)
        loop = asyncio.get_running_loop()
        handle = loop.call_later(0.006, hold_the_loop)
        while loop.time() <= handle.when():  # stall the loop: both timers become due in its next iteration
            time.sleep(0.001)

    async def body(t: Task) -> list[Any]:
        return await t.gather(waiter, staller)  # type: ignore[no-any-return]

    running = Running(library, body)
    assert timed_out.wait(10), "the loop never ran the timer that should follow the wait's timeout"
    with cv:
        count = cv.notify()
    notified.set()
    [result, _] = running.result()
    assert held == [True]
    assert (count, result) == (0, False)
    assert cv.waiting == 0 and lock_is_free(cv)


def test_wait_ending_while_a_notifier_evaluates_its_predicate(reparking_kind: str, library: str) -> None:
    """A wait that times out while a notifier evaluates its delegated predicate (so the waiter is out of the
    queue) ends unnotified, and the notifier, finding the predicate false, does not put it back in the queue.
    """
    cv = make_condition(reparking_kind)
    notifier = threading.get_ident()

    def attempt(timeout: float) -> tuple[bool, int, Any]:
        """(whether the notifier evaluated the predicate, what notify() returned, what wait_for() returned)"""
        evaluated = []

        def predicate() -> bool:
            if threading.get_ident() == notifier:
                evaluated.append(True)
                wait_until(lambda: cv.lock.waiting == 1)  # the wait timed out; the waiter queued for the lock
            return False

        async def body(t: Task) -> Any:
            async with holding(t, cv):
                return await wait_for(t, cv, predicate, timeout)

        waiter = Running(library, body)
        wait_until(lambda: cv.waiting == 1)
        with cv:
            count = cv.notify()
        return bool(evaluated), count, waiter.result()

    # The notifier must reach the waiter before its wait times out: retry with more time if it did not.
    for timeout in (0.05, 0.5, 5):
        evaluated, count, result = attempt(timeout)
        if evaluated:
            break
    else:
        pytest.fail("the wait always timed out before the notifier reached it")
    assert (count, result) == (0, False)
    assert cv.waiting == 0  # not put back as a waiter that nobody is
    assert lock_is_free(cv)


# --- wait_for / for_ ----------------------------------------------------------------------------------------


class Falsy:
    """A distinct falsy object per predicate call."""

    def __bool__(self) -> bool:
        return False


def test_wait_for_returns_the_predicate_value(kind: str, library: str) -> None:
    cv = make_condition(kind)
    box: list[object] = []
    value = ["ready"]
    delegate = kind != "None"  # a lockless condition cannot evaluate predicates for its waiters

    async def body(t: Task) -> tuple[Any, bool]:
        async with holding(t, cv):
            result = await wait_for(t, cv, lambda: box and box[0], 10, delegate=delegate)
            return result, holds(t, cv)

    waiter = Running(library, body)
    wait_until(lambda: cv.waiting == 1)
    with cv:
        box.append(value)
        assert cv.notify() == 1
    result, held = waiter.result()
    assert result is value and held


def test_wait_for_true_on_entry_skips_waiting(kind: str, library: str) -> None:
    cv = make_condition(kind)
    value = ("yes",)

    async def body(t: Task) -> list[Any]:
        async with holding(t, cv):
            # the timeout is not validated when nothing has to wait
            return [await wait_for(t, cv, lambda: value, -1), await wait_for(t, cv, lambda: value, math.nan)]

    assert run(library, body) == [value, value]
    assert cv.waiting == 0


def test_wait_for_timeout_returns_the_last_falsy_value(
    kind: str, library: str, request: pytest.FixtureRequest
) -> None:
    cv = make_condition(kind)
    made: list[Falsy] = []

    def predicate() -> Falsy:
        made.append(Falsy())
        return made[-1]

    async def body(t: Task) -> tuple[Any, bool, int]:
        async with holding(t, cv):
            result = await wait_for(t, cv, predicate, 0.02)
            return result, holds(t, cv), cv.waiting

    result, held, waiting = run(library, body)
    assert result is made[-1]
    assert held and waiting == 0


def test_delegate_skips_waiters_whose_predicate_is_false(locked_kind: str, library: str) -> None:
    cv = make_condition(locked_kind)
    state = {"a": False, "b": False}
    calls = {"a": 0, "b": 0}

    def predicate(key: str) -> Callable[[], bool]:
        def check() -> bool:
            calls[key] += 1
            return state[key]

        return check

    async def body(t: Task, key: str) -> tuple[bool, bool]:
        async with holding(t, cv):
            return await wait_for(t, cv, predicate(key), 10), holds(t, cv)

    first = Running(library, body, "a")
    wait_until(lambda: cv.waiting == 1)
    second = Running(library, body, "b")
    wait_until(lambda: cv.waiting == 2)
    with cv:
        state["b"] = True
        a_calls = calls["a"]
        assert cv.notify(2) == 1  # the first waiter was skipped and does not count
        assert calls["a"] == a_calls + 1  # the notifier evaluated it once
        assert cv.waiting == 1
        if locked_kind in REPARKING_KINDS:
            assert cv.lock.waiting == 1
    assert second.result() == (True, True)
    assert cv.waiting == 1  # the skipped waiter still waits
    with cv:
        state["a"] = True
        assert cv.notify() == 1
    assert first.result() == (True, True)
    assert cv.waiting == 0


def test_without_delegate_the_waiter_rechecks(kind: str, library: str) -> None:
    cv = make_condition(kind)
    state = {"ready": False}
    callers: list[int] = []  # the threads that evaluated the predicate

    def predicate() -> bool:
        callers.append(threading.get_ident())
        return state["ready"]

    async def body(t: Task) -> tuple[bool, bool]:
        async with holding(t, cv):
            return await wait_for(t, cv, predicate, 10, delegate=False), holds(t, cv)

    waiter = Running(library, body)
    wait_until(lambda: cv.waiting == 1)
    evaluated = len(callers)
    with cv:
        assert cv.notify() == 1  # woken although its predicate is false
    assert threading.get_ident() not in callers  # the notifier did not evaluate it
    wait_until(lambda: cv.waiting == 1)  # it checked for itself and waits again
    assert len(callers) > evaluated
    with cv:
        state["ready"] = True
        assert cv.notify() == 1
    assert waiter.result() == (True, True)
    assert threading.get_ident() not in callers


def test_woken_predicate_waiter_evaluates_again(locked_kind: str, library: str) -> None:
    """docs/differences.rst: with every lock kind (binary semaphores too) the woken waiter evaluates its
    predicate once more when it holds the lock again, and returns that value, not the notifier's."""
    cv = make_condition(locked_kind)
    ready = [False]
    made: list[list[str]] = []

    def predicate() -> list[str] | None:
        if not ready[0]:
            return None
        made.append(["value"])
        return made[-1]

    async def body(t: Task) -> Any:
        async with holding(t, cv):
            return await wait_for(t, cv, predicate, 10)

    waiter = Running(library, body)
    wait_until(lambda: cv.waiting == 1)
    with cv:
        ready[0] = True
        assert cv.notify() == 1
        assert len(made) == 1  # the notifier evaluated it
    result = waiter.result()
    assert len(made) == 2
    assert result is made[1]


def test_predicate_exception_is_raised_in_the_waiter(
    locked_kind: str, library: str, caplog: pytest.LogCaptureFixture
) -> None:
    cv = make_condition(locked_kind)
    state = {"fail": False}

    def predicate() -> bool:
        if state["fail"]:
            raise ZeroDivisionError("predicate failed")
        return False

    async def body(t: Task) -> tuple[str, bool, int]:
        async with holding(t, cv):
            try:
                await wait_for(t, cv, predicate, 10)
            except ZeroDivisionError as exc:
                return str(exc), holds(t, cv), cv.waiting
            return "no exception", holds(t, cv), cv.waiting

    waiter = Running(library, body)
    wait_until(lambda: cv.waiting == 1)
    with caplog.at_level(logging.ERROR, logger="aiologic._conditions"), cv:
        state["fail"] = True
        # the failing waiter counts as notified (once: the upstream double count is an accident)
        assert cv.notify() == 1
    assert waiter.result() == ("predicate failed", True, 0)
    assert any(record.name == "aiologic._conditions" for record in caplog.records)


def test_notify_from_inside_a_predicate_is_busy(locked_kind: str, library: str) -> None:
    cv = make_condition(locked_kind)
    state = {"ready": False}
    errors: list[BaseException] = []

    def predicate() -> bool:
        if not state["ready"]:
            return False
        if not errors:
            try:
                cv.notify()  # evaluated by the notifier: a nested notify is refused
            except BusyResourceError as exc:
                errors.append(exc)
        return True

    async def body(t: Task) -> bool:
        async with holding(t, cv):
            return await wait_for(t, cv, predicate, 10)

    waiter = Running(library, body)
    wait_until(lambda: cv.waiting == 1)
    with cv:
        state["ready"] = True
        assert cv.notify() == 1
    assert waiter.result() is True
    assert len(errors) == 1
    assert str(errors[0]) == "another task is already notifying this resource"
    assert isinstance(errors[0], RuntimeError)


def test_a_notify_refused_inside_a_predicate_keeps_the_waiter_queued(locked_kind: str, library: str) -> None:
    """A predicate that lets the nested notify's BusyResourceError escape fails that notify, not the wait."""
    cv = make_condition(locked_kind)
    state = {"nest": False, "ready": False}

    def predicate() -> bool:
        if state["nest"]:
            state["nest"] = False
            cv.notify()  # refused, and not caught here
        return state["ready"]

    async def body(t: Task) -> bool:
        async with holding(t, cv):
            return await wait_for(t, cv, predicate, 10)

    waiter = Running(library, body)
    wait_until(lambda: cv.waiting == 1)
    with cv:
        state["nest"] = True
        with pytest.raises(BusyResourceError):
            cv.notify()
        assert cv.waiting == 1
        state["ready"] = True
        assert cv.notify() == 1
    assert waiter.result() is True


# --- deadlines and the timer --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["default", "BinarySemaphore", "threading.Lock", "None"])
def test_notify_deadline_only_wakes_older_waits(kind: str) -> None:
    now = [0]
    cv = make_condition(kind, timer=lambda: now[0])
    old = Running("threading", wait_holding, cv, 10)
    wait_until(lambda: cv.waiting == 1)
    now[0] = 5
    new = Running("threading", wait_holding, cv, 10)
    wait_until(lambda: cv.waiting == 2)
    with cv:
        assert cv.notify_all(deadline=-1) == 0
        assert cv.notify_all(deadline=3) == 1  # only the wait recorded at 0
        assert cv.waiting == 1
    assert old.result() == (True, True)
    with cv:
        assert cv.notify(deadline=4) == 0
        assert cv.notify() == 1  # default deadline: timer() now, 5
    assert new.result() == (True, True)


def test_a_wait_begun_after_the_notify_started_is_not_consumed() -> None:
    """With the default counter timer: a deadline read before a wait began does not reach that wait."""
    cv = Condition()
    first = Running("threading", wait_holding, cv, 10)
    wait_until(lambda: cv.waiting == 1)
    deadline = cv.timer()  # what notify() reads when it starts
    second = Running("threading", wait_holding, cv, 10)
    wait_until(lambda: cv.waiting == 2)
    with cv:
        assert cv.notify_all(deadline=deadline) == 1
    assert first.result() == (True, True)
    assert cv.waiting == 1
    with cv:
        assert cv.notify_all() == 1
    assert second.result() == (True, True)


def test_a_skipped_predicate_waiter_is_not_reconsidered_by_the_same_notify() -> None:
    """A skipped waiter gets a fresh time, past the running notify's deadline: evaluated once per notify."""
    cv = Condition()
    calls = [0]
    state = {"ready": False}

    def predicate() -> bool:
        calls[0] += 1
        return state["ready"]

    async def body(t: Task) -> bool:
        async with holding(t, cv):
            return await wait_for(t, cv, predicate, 10)

    waiter = Running("threading", body)
    wait_until(lambda: cv.waiting == 1)
    before = calls[0]
    with cv:
        assert cv.notify_all() == 0
        assert calls[0] == before + 1
        assert cv.notify(5) == 0
        assert calls[0] == before + 2
        state["ready"] = True
        assert cv.notify_all() == 1
    assert waiter.result() is True


# --- errors -------------------------------------------------------------------------------------------------


def test_wait_without_holding_the_lock(locked_kind: str, library: str) -> None:
    cv = make_condition(locked_kind)

    async def body(t: Task) -> int:
        with pytest.raises(RuntimeError, match=r"^cannot wait on un-acquired lock$"):
            await wait(t, cv, 1)
        with pytest.raises(RuntimeError, match=r"^cannot wait on un-acquired lock$"):
            await wait_for(t, cv, lambda: False, 1)
        if not t.green:
            with pytest.raises(RuntimeError, match=r"^cannot wait on un-acquired lock$"):
                await cv
        return cv.waiting

    assert run(library, body) == 0


def test_wait_while_another_task_owns_the_lock(library: str) -> None:
    """Owner-aware: holding an aiologic lock by someone else is not enough to wait."""
    cv = Condition(aiologic.Lock())

    async def body(t: Task) -> int:
        with pytest.raises(RuntimeError, match=r"^cannot wait on un-acquired lock$"):
            await wait(t, cv, 1)
        return cv.waiting

    with cv:
        assert run(library, body) == 0


def test_green_acquired_lock_does_not_allow_an_async_wait(async_library: str) -> None:
    cv = Condition()

    async def body(t: Task) -> bool:
        assert cv.lock.green_acquire()  # owned by the thread, not by this task
        try:
            with pytest.raises(RuntimeError, match=r"^cannot wait on un-acquired lock$"):
                await cv.with_(1)
        finally:
            cv.lock.green_release()
        return cv.waiting == 0

    assert run(async_library, body) is True


def test_notify_requires_the_lock_to_be_held(reparking_kind: str) -> None:
    cv = make_condition(reparking_kind)
    for call in (cv.notify, cv.notify_all, lambda: cv.notify(0)):
        with pytest.raises(RuntimeError, match=r"^cannot notify on un-acquired lock$"):
            call()


@pytest.mark.parametrize("kind", (*THREAD_KINDS, "None"))
def test_thread_and_lockless_conditions_notify_without_the_lock(kind: str) -> None:
    cv = make_condition(kind)
    assert cv.notify() == 0 and cv.notify_all() == 0
    waiter = Running("threading", wait_holding, cv, 10)
    wait_until(lambda: cv.waiting == 1)
    assert cv.notify() == 1  # not holding the lock
    assert waiter.result() == (True, True)


@pytest.mark.parametrize("kind", (*THREAD_KINDS, "None"))
def test_delegated_predicate_needs_the_lock(kind: str, library: str) -> None:
    cv = make_condition(kind)
    state = {"ready": False}
    timeout = 0.15 if kind == "None" else 10  # nothing can ever notify a lockless predicate waiter

    async def body(t: Task) -> tuple[bool, bool]:
        async with holding(t, cv):
            return await wait_for(t, cv, lambda: state["ready"], timeout), holds(t, cv)

    waiter = Running(library, body)
    wait_until(lambda: cv.waiting == 1)
    state["ready"] = True
    with pytest.raises(RuntimeError, match=r"^cannot notify for predicate on un-acquired lock$"):
        cv.notify()
    assert cv.waiting == 1  # still queued
    if kind != "None":
        with cv:
            assert cv.notify() == 1
    assert waiter.result() == (True, True)


def test_overlapping_notify_is_busy(reparking_kind: str) -> None:
    """With aiologic locks the whole notify() is guarded: a second, overlapping notify() raises."""
    cv = make_condition(reparking_kind)
    state = {"ready": False}
    inner: list[object] = []

    def predicate() -> bool:
        if not state["ready"]:
            return False
        if not inner:  # evaluated by the notifier: notify from another thread meanwhile
            thread = threading.Thread(target=lambda: inner.append(_try_notify(cv)))
            thread.start()
            thread.join()
        return True

    async def body(t: Task) -> bool:
        async with holding(t, cv):
            return await wait_for(t, cv, predicate, 10)

    waiter = Running("threading", body)
    wait_until(lambda: cv.waiting == 1)
    with cv:
        state["ready"] = True
        assert cv.notify() == 1
    assert waiter.result() is True
    assert len(inner) == 1 and isinstance(inner[0], BusyResourceError)
    assert str(inner[0]) == "another task is already notifying this resource"


def _try_notify(cv: Condition[Any, Any]) -> object:
    try:
        return cv.notify()
    except BaseException as exc:
        return exc


# --- the context manager ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["default", "Lock", "threading.RLock"])
def test_exit_does_not_raise_when_the_lock_was_released_inside(kind: str, library: str) -> None:
    """Owner-aware locks: exit releases only if the current task still owns the lock."""
    cv = make_condition(kind)

    async def body(t: Task) -> bool:
        async with holding(t, cv):
            release_directly(t, cv)
            assert not holds(t, cv)
        return True

    assert run(library, body) is True
    assert lock_is_free(cv)


def test_exit_without_entering_leaves_the_lock(locked_kind: str, library: str) -> None:
    """Exit of a task that neither owns the lock nor entered through the condition changes nothing."""
    cv = make_condition(locked_kind)
    lock = cv.lock

    async def body(t: Task) -> bool:
        if t.green:
            cv.__exit__(None, None, None)
        else:
            await cv.__aexit__(None, None, None)
        return True

    if isinstance(lock, (aiologic.Lock, aiologic.BinarySemaphore)):
        assert lock.green_acquire()
    else:
        assert lock.acquire()
    try:
        assert run(library, body) is True
        if isinstance(lock, aiologic.Lock):
            assert lock.owner == current_green_task_ident()
        elif isinstance(lock, aiologic.BinarySemaphore):
            assert lock.value == 0
        elif hasattr(lock, "_is_owned"):
            assert lock._is_owned()
        else:
            assert lock.locked()
    finally:
        if isinstance(lock, aiologic.Lock):
            lock.green_release()
        else:
            lock.release()
    assert lock_is_free(cv)


def test_exception_inside_with_releases_the_lock(locked_kind: str, library: str) -> None:
    cv = make_condition(locked_kind)

    async def body(t: Task) -> bool:
        with pytest.raises(KeyError):
            async with holding(t, cv):
                raise KeyError("inside")
        return True

    assert run(library, body) is True
    assert lock_is_free(cv)


# --- cancellation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["default", "Lock", "BinarySemaphore", "threading.RLock", "threading.Lock"])
def test_cancelled_waiter_reacquires_the_lock_first(kind: str, cancellable_library: str) -> None:
    """A waiter cancelled while another task holds the lock leaves the condition's queue at once, but returns
    (with the cancellation swallowed by its scope) only once it holds the lock again."""
    cv = make_condition(kind)
    released = threading.Event()
    cancel = gate_for(cancellable_library)

    async def body(t: Task) -> tuple[bool, bool, bool, int]:
        async with holding(t, cv):
            async with t.cancel_when(cancel) as scope:
                await wait(t, cv)
            return scope.cancelled, released.is_set(), holds(t, cv), cv.waiting

    waiter = Running(cancellable_library, body)
    wait_until(lambda: cv.waiting == 1)
    with cv:  # hold the lock while the cancellation arrives
        cancel.set()
        wait_until(lambda: cv.waiting == 0)  # the cancelled waiter left the queue...
        if kind in REPARKING_KINDS:
            wait_until(lambda: cv.lock.waiting == 1)  # ...and queued for the lock
        released.set()
    assert waiter.result() == (True, True, True, 0)
    assert lock_is_free(cv)


def test_notified_then_cancelled_waiter_passes_the_notification_on(
    reparking_kind: str, cancellable_library: str
) -> None:
    """A waiter notified and then cancelled while it waits for the lock hands its notification on to the next
    waiter before the cancellation propagates, and still returns holding the lock."""
    cv = make_condition(reparking_kind)
    cancel = gate_for(cancellable_library)

    async def cancelled_waiter(t: Task) -> tuple[bool, bool]:
        async with holding(t, cv):
            async with t.cancel_when(cancel) as scope:
                await wait(t, cv)
            return scope.cancelled, holds(t, cv)

    first = Running(cancellable_library, cancelled_waiter)
    wait_until(lambda: cv.waiting == 1)
    second = Running(cancellable_library, lambda t: wait_holding(t, cv, 10))
    wait_until(lambda: cv.waiting == 2)
    with cv:
        assert cv.notify() == 1  # only the first waiter is notified...
        assert (cv.waiting, cv.lock.waiting) == (1, 1)
        cancel.set()  # ...and is cancelled while it waits for the lock: it queues again to take the lock back
        wait_until(lambda: cv.lock.waiting == 2)
    assert first.result() == (True, True)
    assert cv.waiting == 0  # the first waiter notified the second before its cancellation propagated
    assert second.result() == (True, True)
    assert lock_is_free(cv)
