"""Locks (spec §6): ``Lock`` and ``RLock``, on every library and between libraries in different threads.

What locks share with semaphores and capacity limiters (hand-off, timeouts, cancellation safety, checkpoints,
the object model) is in test_hand_off.py. Here: the owner's identity, reprs, mutual exclusion, ownership
errors, the mixed deadlock check and the recursion levels of ``RLock``, written against the ``kind`` fixture
where both locks share them.
"""

from __future__ import annotations

import asyncio
import collections
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import pytest

from aiologic import Lock, RLock
from aiologic._waiting import NO_WAITERS, waiter_queue
from aiologic.lowlevel import create_green_event, current_green_task_ident
from harness import (
    ADDRESS,
    MIX,
    Running,
    Task,
    acquire,
    contend_across_worlds,
    me,
    release,
    run,
    wait_until,
)


@pytest.fixture(params=[Lock, RLock], ids=lambda cls: cls.__name__)
def kind(request: pytest.FixtureRequest) -> type[Lock]:
    return request.param  # type: ignore[no-any-return]


def owned(t: Task, lock: Lock) -> bool:
    return lock.green_owned() if t.green else lock.async_owned()


async def expected_ident(t: Task) -> tuple[str, int]:
    """What §1.3 says the caller's identity is, computed from the library itself."""
    if t.library == "threading":
        return ("threading", threading.get_ident())
    if t.library == "gevent":
        import gevent

        return ("gevent", id(gevent.getcurrent()))
    if t.library == "eventlet":
        import greenlet

        return ("eventlet", id(greenlet.getcurrent()))
    if t.library == "curio":
        import curio

        return ("curio", id(await curio.current_task()))
    if t.backend == "trio":
        import trio

        return ("trio", id(trio.lowlevel.current_task()))
    return ("asyncio", id(asyncio.current_task()))


# --- the object ---------------------------------------------------------------------------------------------


def test_owner_is_the_callers_identity(kind: type[Lock], library: str) -> None:
    async def body(t: Task) -> None:
        lock = kind()
        assert lock.owner is None and not lock.locked() and not lock and lock.waiting == 0
        assert not owned(t, lock)
        assert await acquire(t, lock) is True
        assert lock.owner == me(t) == await expected_ident(t)
        assert lock.locked() and bool(lock) and owned(t, lock)
        release(t, lock)
        assert lock.owner is None and not lock.locked() and not lock and not owned(t, lock)

    run(library, body)


def test_reprs(kind: type[Lock]) -> None:
    name = kind.__name__
    lock = kind()
    assert re.fullmatch(rf"<aiologic\.{name}\(\) at {ADDRESS} \[unlocked\]>", repr(lock))
    assert f"at {id(lock):#x} [" in repr(lock)
    lock.green_acquire()
    if kind is Lock:
        assert re.fullmatch(rf"<aiologic\.Lock\(\) at {ADDRESS} \[locked, waiting=0\]>", repr(lock))
    else:
        assert re.fullmatch(rf"<aiologic\.RLock\(\) at {ADDRESS} \[locked\b[^\]]*\]>", repr(lock))

    async def waiter(t: Task) -> bool:
        ok = await acquire(t, lock, timeout=10)
        release(t, lock)
        return ok

    waiting = Running("threading", waiter)
    wait_until(lambda: lock.waiting == 1)
    if kind is Lock:
        assert re.fullmatch(rf"<aiologic\.Lock\(\) at {ADDRESS} \[locked, waiting=1\]>", repr(lock))
    else:
        assert "waiting=1" in repr(lock)
    lock.green_release()
    assert waiting.result() is True
    assert re.fullmatch(rf"<aiologic\.{name}\(\) at {ADDRESS} \[unlocked\]>", repr(lock))


def test_hierarchy() -> None:
    assert issubclass(RLock, Lock)


class SubLock(Lock):
    __slots__ = ()


def test_repr_of_subclass_names_the_subclass() -> None:
    assert re.fullmatch(rf"<test_locks\.SubLock\(\) at {ADDRESS} \[unlocked\]>", repr(SubLock()))


# --- mutual exclusion and hand-off --------------------------------------------------------------------------


@pytest.mark.usefixtures("frequent_switches")
def test_mutual_exclusion_across_threads_loops_and_greenlets(kind: type[Lock]) -> None:
    """Two workers in each of two threads, two asyncio loops, and a thread of every other library.

    Each critical section reads the counter, yields to its scheduler, then writes it back: any overlap loses
    an increment. Every holder waits for a waiter to queue behind it, so the holds really contend.
    """
    lock = kind()
    rounds = 40
    state = contend_across_worlds(lock, 1, rounds)
    assert state["counter"] == len(MIX) * 2 * rounds
    assert state["peak"] == 1 and state["inside"] == 0
    assert state["contended"] >= state["holds"] - rounds
    assert not lock.locked() and lock.owner is None and lock.waiting == 0


# --- timeouts -----------------------------------------------------------------------------------------------


def test_timed_out_waits_start_no_threads(library: str) -> None:
    """2000 waits that time out (``timeout=0`` or tiny) on a held lock: no helper thread per wait."""
    lock = Lock()
    lock.green_acquire()
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], threading.active_count())
            time.sleep(0.001)

    async def body(t: Task) -> tuple[int, int]:
        baseline = threading.active_count()
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            for index in range(2000):
                assert await acquire(t, lock, timeout=0 if index % 2 else 1e-5) is False
        finally:
            stop.set()
            sampler.join()
        return baseline, threading.active_count()

    baseline, after = run(library, body, timeout=50)
    assert after == baseline
    assert peak[0] <= baseline + 1  # the sampler itself
    assert lock.waiting == 0 and lock.green_owned()
    lock.green_release()


# --- ownership errors (§6.1) --------------------------------------------------------------------------------


def test_lock_reacquire_by_owner_raises(library: str) -> None:
    async def body(t: Task) -> None:
        lock = Lock()
        assert await acquire(t, lock)
        for kwargs in (
            {},
            {"blocking": False},
            {"timeout": 0},
            {"timeout": 1},
            {"blocking": False, "timeout": -1},
        ):
            with pytest.raises(RuntimeError, match=r"^the current task is already holding this lock$"):
                await acquire(t, lock, **kwargs)
        assert lock.owner == me(t) and lock.waiting == 0
        release(t, lock)

    run(library, body)


def test_release_unlocked_raises(kind: type[Lock], library: str) -> None:
    async def body(t: Task) -> None:
        lock = kind()
        for attempt in (lambda: release(t, lock), lock.green_release):
            with pytest.raises(RuntimeError, match=r"^release unlocked lock$"):
                attempt()
        assert await acquire(t, lock)
        release(t, lock)
        with pytest.raises(RuntimeError, match=r"^release unlocked lock$"):
            release(t, lock)

    run(library, body)


def test_release_by_another_thread_raises(kind: type[Lock], library: str) -> None:
    lock = kind()
    lock.green_acquire()

    async def body(t: Task) -> None:
        with pytest.raises(RuntimeError, match=r"^the current task is not holding this lock$"):
            release(t, lock)

    run(library, body)
    assert lock.green_owned()
    lock.green_release()


def test_release_by_a_sibling_task_raises(kind: type[Lock], library: str) -> None:
    async def body(t: Task) -> list[Any]:
        lock = kind()
        holding, done = t.create_event(), t.create_event()

        async def holder(t: Task) -> bool:
            assert await acquire(t, lock)
            holding.set()
            await t.wait(done, 10)
            release(t, lock)
            return not lock.locked()

        async def sibling(t: Task) -> str:
            await t.wait(holding, 10)
            try:
                release(t, lock)
            except RuntimeError as exc:
                return str(exc)
            finally:
                done.set()
            return "released"

        return await t.gather(holder, sibling)

    assert run(library, body) == [True, "the current task is not holding this lock"]


def test_async_with_left_by_another_task_raises(kind: type[Lock]) -> None:
    """``__aexit__`` checks the task that leaves, not the one that entered (an async generator moves)."""

    async def holding(lock: Lock) -> Any:
        async with lock:
            yield

    async def main() -> None:
        lock = kind()
        generator = holding(lock)
        await generator.__anext__()
        assert lock.owner == ("asyncio", id(asyncio.current_task()))
        with pytest.raises(RuntimeError, match=r"^the current task is not holding this lock$"):
            await asyncio.create_task(generator.__anext__())  # type: ignore[arg-type]
        assert lock.owner == ("asyncio", id(asyncio.current_task()))
        lock.async_release()
        assert not lock.locked()

    asyncio.run(main())


def test_async_with_left_after_manual_release_checks_the_owner(kind: type[Lock], async_library: str) -> None:
    """The frame that entered ``async with`` vouches for its task only while that entry's hold lasts: once
    the task released by hand and its thread took the lock, leaving the block raises and the thread keeps
    it."""

    async def body(t: Task) -> None:
        lock = kind()
        with pytest.raises(RuntimeError, match=r"^the current task is not holding this lock$"):
            async with lock:
                lock.async_release()
                assert lock.green_acquire()
        assert lock.owner == ("threading", threading.get_ident())
        lock.green_release()
        assert not lock.locked()

    run(async_library, body)


def test_green_acquire_in_a_coroutine_belongs_to_the_thread(kind: type[Lock], async_library: str) -> None:
    """§1.3/§16.3: ownership is per flavour; what green_acquire took, async_release cannot release."""

    async def body(t: Task) -> None:
        lock = kind()
        assert lock.green_acquire()
        assert lock.owner == ("threading", threading.get_ident())
        assert lock.green_owned() and not lock.async_owned()
        with pytest.raises(RuntimeError, match=r"^the current task is not holding this lock$"):
            lock.async_release()
        lock.green_release()
        assert await lock.async_acquire()
        assert lock.async_owned() and not lock.green_owned()
        with pytest.raises(RuntimeError, match=r"^the current task is not holding this lock$"):
            lock.green_release()
        lock.async_release()
        assert not lock.locked()

    run(async_library, body)


def test_mixed_deadlock_is_detected(kind: type[Lock], async_library: str) -> None:
    """A plain-thread green acquire while a task of this very thread owns the lock raises (§6.1, §16.2)."""

    async def body(t: Task) -> None:
        lock = kind()
        assert await lock.async_acquire()
        for kwargs in ({"timeout": 1}, {"blocking": False}):
            with pytest.raises(RuntimeError, match=r"^the current thread is already holding this lock$"):
                lock.green_acquire(**kwargs)
        assert lock.async_owned() and lock.waiting == 0
        lock.async_release()

    run(async_library, body)


def test_async_acquire_waits_while_the_thread_identity_holds(kind: type[Lock], async_library: str) -> None:
    """The other direction is not detected: the async acquire simply waits, and times out."""

    async def body(t: Task) -> None:
        lock = kind()
        assert lock.green_acquire()
        assert await lock.async_acquire(blocking=False) is False
        assert await lock.async_acquire(timeout=0.01) is False
        assert lock.owner == ("threading", threading.get_ident()) and lock.waiting == 0
        lock.green_release()

    run(async_library, body)


def test_lock_has_no_recursion_level_api() -> None:
    lock = Lock()
    assert (
        not hasattr(lock, "count") and not hasattr(lock, "green_count") and not hasattr(lock, "async_count")
    )
    with pytest.raises(TypeError):
        lock.green_acquire(2)  # type: ignore[call-arg]


@pytest.mark.parametrize("hub_library", ["gevent", "eventlet"])
def test_blocking_call_from_the_hub_is_refused(kind: type[Lock], hub_library: str) -> None:
    """§13: a contended green acquire run by the gevent/eventlet hub itself raises, and leaves no waiter."""
    lock = kind()
    lock.green_acquire()

    async def body(t: Task) -> list[Any]:
        outcome: list[Any] = []

        def in_hub() -> None:
            try:
                outcome.append(lock.green_acquire(timeout=1))
            except RuntimeError as exc:
                outcome.append(str(exc))
            outcome.append(lock.waiting)

        if t.library == "gevent":
            import gevent

            gevent.get_hub().loop.run_callback(in_hub)
            gevent.sleep(0.001)
        else:
            import eventlet
            import eventlet.hubs

            eventlet.hubs.get_hub().schedule_call_global(0, in_hub)
            eventlet.sleep(0.001)
        return outcome

    assert run(hub_library, body) == ["do not call blocking functions from the mainloop", 0]
    lock.green_release()
    assert not lock.locked()


def test_owner_identity_changes_when_a_hub_appears(kind: type[Lock]) -> None:
    """§13: taken by the plain thread before any hub existed, the lock cannot be released by the same code
    once a gevent hub exists in the thread (the caller is now the main greenlet)."""

    async def body(t: Task) -> None:
        import gevent

        lock = kind()
        assert lock.green_acquire()
        assert lock.owner == ("threading", threading.get_ident())
        hub = gevent.get_hub()
        try:
            assert lock.owner != current_green_task_ident()
            assert current_green_task_ident() == ("gevent", id(gevent.getcurrent()))
            with pytest.raises(RuntimeError, match=r"^the current task is not holding this lock$"):
                lock.green_release()
            assert lock.locked()
        finally:
            hub.destroy(destroy_loop=True)
        lock.green_release()  # the plain thread again
        assert not lock.locked()

    run("threading", body)


def test_keyboard_interrupt_while_waiting_leaves_the_lock_intact() -> None:
    """§1.9: a thread's wait interrupted by KeyboardInterrupt leaves the queue; the lock is not lost."""
    script = textwrap.dedent(
        """
        import os, signal, threading, time
        from aiologic import Lock

        lock = Lock()
        held, done = threading.Event(), threading.Event()

        def holder():
            lock.green_acquire()
            held.set()
            done.wait(10)
            lock.green_release()

        def interrupt():
            while lock.waiting != 1:
                time.sleep(0.001)
            os.kill(os.getpid(), signal.SIGINT)

        owner = threading.Thread(target=holder)
        owner.start()
        held.wait(10)
        threading.Thread(target=interrupt).start()
        start = time.monotonic()
        try:
            lock.green_acquire()
            print("acquired")
        except KeyboardInterrupt:
            print("interrupted", lock.waiting, lock.locked(), time.monotonic() - start < 5)
        done.set()
        owner.join()
        mine = ("threading", threading.get_ident())
        print(lock.locked(), lock.green_acquire(timeout=5), lock.owner == mine)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.stdout.split() == ["interrupted", "0", "True", "True", "False", "True", "True"], (
        result.stderr
    )


# --- RLock levels (§6.2) ------------------------------------------------------------------------------------


def test_rlock_levels(library: str) -> None:
    async def body(t: Task) -> None:
        lock = RLock()
        count = lock.green_count if t.green else lock.async_count
        assert lock.count == 0 and count() == 0
        assert await acquire(t, lock) is True
        assert lock.count == 1 and count() == 1
        assert await acquire(t, lock, 2) is True
        assert await acquire(t, lock, blocking=False) is True
        assert await acquire(t, lock, timeout=0) is True
        assert lock.count == 5 and count() == 5
        if not t.green:
            assert lock.green_count() == 0  # the thread is a different owner
        release(t, lock, 3)
        assert lock.count == 2 and lock.locked() and lock.owner == me(t)
        with pytest.raises(RuntimeError, match=r"^lock released too many times$"):
            release(t, lock, 3)
        assert lock.count == 2 and lock.locked()
        release(t, lock)
        release(t, lock)
        assert lock.count == 0 and count() == 0 and not lock.locked() and lock.owner is None
        with pytest.raises(RuntimeError, match=r"^release unlocked lock$"):
            release(t, lock)
        assert await acquire(t, lock, 3) is True
        assert lock.count == 3
        release(t, lock, 3)
        assert not lock.locked()

    run(library, body)


def test_rlock_context_manager_after_a_deep_release_takes_one_level(library: str) -> None:
    """``with``/``async with`` take a free lock at level 1 without writing the level: releasing a deep
    hold must leave the level at 1 for them."""

    async def body(t: Task) -> None:
        lock = RLock()
        assert await acquire(t, lock, 3)
        release(t, lock, 3)
        if t.green:
            with lock:
                assert lock.count == 1
        else:
            async with lock:
                assert lock.count == 1
        assert not lock.locked() and lock.count == 0

    run(library, body)


def test_rlock_refused_deep_hand_off_leaves_level_one() -> None:
    """A release that grants the lock to a level-3 waiter which no longer waits (timed out, not yet out of
    the queue) gives it back at level 1: the next ``with`` holds one level, not three."""
    lock = RLock()
    lock.green_acquire()
    gone = create_green_event()
    assert gone.wait(0) is False  # timed out: every later set() is refused
    waiter_queue(lock).append((gone, ("threading", -1), None, 3))
    lock.green_release()
    assert not lock.locked() and not lock.waiting
    with lock:
        assert lock.count == 1
    assert not lock.locked()


def test_rlock_count_must_be_positive(library: str) -> None:
    async def body(t: Task) -> None:
        lock = RLock()
        for bad in (0, -1):
            with pytest.raises(ValueError, match=r"^count must be >= 1$"):
                await acquire(t, lock, bad)
            with pytest.raises(ValueError, match=r"^count must be >= 1$"):
                await acquire(t, lock, bad, blocking=False)
            with pytest.raises(ValueError, match=r"^count must be >= 1$"):
                release(t, lock, bad)
        assert not lock.locked()
        assert await acquire(t, lock)
        with pytest.raises(ValueError, match=r"^count must be >= 1$"):
            release(t, lock, 0)
        assert lock.count == 1
        release(t, lock)

    run(library, body)


def test_rlock_count_seen_by_others(library: str) -> None:
    lock = RLock()
    lock.green_acquire(4)

    async def body(t: Task) -> tuple[int, int, bool]:
        count = lock.green_count if t.green else lock.async_count
        return lock.count, count(), owned(t, lock)

    assert run(library, body) == (4, 0, False)
    lock.green_release(4)
    assert lock.count == 0


def test_rlock_reentry_checkpoints_under_trio() -> None:
    """Owner re-acquire: a checkpoint first when blocking (a cancelled one adds no level), none otherwise."""
    import trio
    import trio.testing

    async def body(t: Task) -> None:
        lock = RLock()
        await lock.async_acquire()
        with trio.testing.assert_checkpoints():
            assert await lock.async_acquire()
        with trio.testing.assert_no_checkpoints():
            assert await lock.async_acquire(blocking=False)
        assert lock.count == 3
        with trio.CancelScope() as scope:
            scope.cancel()
            await lock.async_acquire(2)
        assert scope.cancelled_caught and lock.count == 3
        lock.async_release(3)
        assert not lock.locked()

    run("trio", body)


def test_rlock_owner_on_green_library_reenters_without_blocking(green_library: str) -> None:
    async def body(t: Task) -> None:
        lock = RLock()
        with lock:
            with lock:
                assert lock.count == 2 and lock.green_count() == 2
            assert lock.count == 1
        assert not lock.locked()

    run(green_library, body)


def test_rlock_async_context_manager_reenters(async_library: str) -> None:
    async def body(t: Task) -> None:
        lock = RLock()
        async with lock as outer:
            async with lock as inner:
                assert outer is inner is lock and lock.async_count() == 2
            assert lock.count == 1
        assert not lock.locked()

    run(async_library, body)


# --- the waiter queue, made by the first waiter (aiologic._waiting.waiter_queue) ---------------------------


def test_waiter_queue_is_made_by_the_first_waiter(kind: type[Lock]) -> None:
    lock = kind()
    assert lock._waiters is NO_WAITERS and not lock._waiters
    lock.green_acquire()
    thread = threading.Thread(target=lambda: lock.green_acquire(timeout=0.01))
    thread.start()
    thread.join()
    assert type(lock._waiters) is collections.deque and not lock._waiters
    lock.green_release()
