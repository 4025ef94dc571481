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
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

import harness
from aiologic.lowlevel import current_async_task_ident, current_green_task_ident, enable_checkpoints
from harness import (
    COPIES,
    KINDS,
    LONG_IDS,
    LONG_TIMEOUTS,
    NAN,
    Hog,
    Kind,
    Running,
    Task,
    acquire,
    acquire_at_random,
    clone,
    gate_for,
    interrupt_green_waiter_at_hand_off,
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


# --- cancellation -------------------------------------------------------------------------------------------


def test_cancelled_waiter_leaves_the_queue(kind: Kind, cancellable_library: str) -> None:
    """A waiter cancelled from outside while it waits leaves the queue empty-handed: the unit released
    afterwards goes to nobody."""
    primitive = kind.create()
    others = Hog(primitive, kind.capacity - 1)
    assert primitive.green_acquire()
    held = (0, 0, kind.owning({**others.holders, current_green_task_ident(): 1}))
    cancel = gate_for(cancellable_library)

    async def body(t: Task) -> None:
        ok = None
        async with t.cancel_when(cancel) as scope:
            ok = await acquire(t, primitive)
        assert scope.cancelled and ok is None
        assert kind.state(primitive) == held and kind.holds(t, primitive) == kind.owning(False)

    waiter = Running(cancellable_library, body)
    wait_until(lambda: primitive.waiting == 1)
    cancel.set()
    waiter.result()
    assert kind.state(primitive) == held
    primitive.green_release()
    assert kind.state(primitive) == (1, 0, kind.owning(others.holders))  # it went to nobody
    assert primitive.green_acquire(blocking=False)
    primitive.green_release()
    others.release_all()
    assert kind.state(primitive) == kind.rest


def test_cancel_after_release(kind: Kind) -> None:
    """asyncio: the unit was handed to W1, then W1 is cancelled before it resumes: W1 raises
    ``CancelledError`` and passes the unit on to W2; with nobody behind it, W1 frees the unit. W1 is never
    left recorded as a holder."""

    async def body(t: Task) -> None:
        primitive = kind.create()
        others = Hog(primitive, kind.capacity - 1)
        await primitive.async_acquire()
        second: list[Any] = []

        async def w2() -> None:
            second.append(await primitive.async_acquire(timeout=10))
            second.append(kind.state(primitive))
            primitive.async_release()

        first = asyncio.create_task(primitive.async_acquire())
        while primitive.waiting < 1:
            await asyncio.sleep(0)
        other = asyncio.create_task(w2())
        while primitive.waiting < 2:
            await asyncio.sleep(0)
        primitive.async_release()
        w1 = {("asyncio", id(first)): 1} if kind.family.names_waiter_at_hand_off else {}
        assert kind.state(primitive) == (0, 1, kind.owning({**others.holders, **w1}))  # handed to W1 at once
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        await other
        w2_holds = {("asyncio", id(other)): 1}
        assert second == [True, (0, 0, kind.owning({**others.holders, **w2_holds}))]
        assert kind.state(primitive) == (1, 0, kind.owning(others.holders))
        await primitive.async_acquire()
        first = asyncio.create_task(primitive.async_acquire())
        while primitive.waiting < 1:
            await asyncio.sleep(0)
        primitive.async_release()
        assert kind.free(primitive) == 0
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        assert kind.state(primitive) == (1, 0, kind.owning(others.holders))
        others.release_all()
        assert kind.state(primitive) == kind.rest

    run("asyncio", body)


def test_cancel_after_release_trio_completes_the_wait(kind: Kind) -> None:
    """trio: once the release rescheduled the waiter, cancelling its scope no longer interrupts it: it gets
    the unit, and the next waiter gets it from it."""
    import trio
    import trio.testing

    async def body(t: Task) -> None:
        primitive = kind.create()
        others = Hog(primitive, kind.capacity - 1)
        await primitive.async_acquire()
        results: dict[str, Any] = {}

        async def first(*, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
            with trio.CancelScope() as scope:
                task_status.started(scope)
                results["ok"] = await primitive.async_acquire()
                results["holds"] = kind.holds(t, primitive)
                primitive.async_release()
            results["cancelled_caught"] = scope.cancelled_caught

        async def second() -> None:
            results["second"] = await primitive.async_acquire(timeout=10)
            primitive.async_release()

        async with trio.open_nursery() as nursery:
            scope = await nursery.start(first)
            await trio.testing.wait_all_tasks_blocked()
            nursery.start_soon(second)
            await trio.testing.wait_all_tasks_blocked()
            assert primitive.waiting == 2
            primitive.async_release()
            scope.cancel()
        assert results == {
            "ok": True,
            "holds": kind.owning(True),
            "cancelled_caught": False,
            "second": True,
        }
        others.release_all()
        assert kind.state(primitive) == kind.rest

    run("trio", body)


def test_green_waiter_interrupted_at_hand_off_passes_it_on(kind: Kind) -> None:
    """gevent: the unit is handed to G1 and, before G1 can resume, an exception is thrown into it: G1
    propagates it, is not left recorded as a holder, and passes the unit on to G2, queued behind it.

    The hub itself takes the unit (without waiting), so that one hub callback can release it and interrupt G1
    with no switch in between.
    """

    async def body(t: Task) -> None:
        primitive = kind.create()
        others = Hog(primitive, kind.capacity - 1)
        results = interrupt_green_waiter_at_hand_off(
            primitive,
            handed=lambda g1: (*kind.state(primitive)[:2], kind.level_of(primitive, ("gevent", id(g1)))),
            after_second=lambda: kind.holds(t, primitive),
        )
        g1 = results.pop("g1")
        assert results == {
            "hub_took_it": True,
            "handed": (0, 1, kind.owning(1 if kind.family.names_waiter_at_hand_off else 0)),
            "first": "interrupted",
            "second": True,
            "after_second": kind.owning(True),
        }
        assert kind.level_of(primitive, ("gevent", id(g1))) == kind.owning(0)
        assert kind.state(primitive) == (1, 0, kind.owning(others.holders))
        others.release_all()
        assert kind.state(primitive) == kind.rest

    run("gevent", body)


def race_interruption_with_hand_off(kind: Kind, library: str, interrupt: str) -> None:
    """The main thread holds the last free unit; a waiter on ``library`` is interrupted (its own timeout, or
    an external cancellation) at about the moment the main thread releases it, many times over. Whoever wins,
    no unit is lost or made up: after each round the main thread gets it back and none is left free, and the
    waiter holds a unit exactly when its acquire said so."""
    primitive = kind.create()
    others = Hog(primitive, kind.capacity - 1)

    def take(index: int) -> None:
        assert primitive.green_acquire(timeout=5) is True, f"round {index}: the {kind.family.unit} was lost"
        assert kind.free(primitive) == 0, f"round {index}: a {kind.family.unit} was made up"

    def check(t: Task, got: bool) -> None:
        assert kind.holds(t, primitive) == kind.owning(got)

    harness.race_interruption_with_hand_off(primitive, library, interrupt, seed=7, take=take, check=check)
    others.release_all()
    assert kind.state(primitive) == kind.rest


def test_timeout_at_hand_off_never_loses_a_unit(kind: Kind, library: str) -> None:
    race_interruption_with_hand_off(kind, library, "timeout")


def test_cancel_at_hand_off_never_loses_a_unit(kind: Kind, cancellable_library: str) -> None:
    race_interruption_with_hand_off(kind, cancellable_library, "cancel")


def test_units_conserved_under_random_timeouts_and_cancellations(kind: Kind) -> None:
    """Workers on every library acquire with random timeouts, non-blocking tries and external cancellations;
    the limit holds throughout, a worker holds a unit exactly when its acquire said so, and every unit is back
    at the end with nobody queued or recorded."""
    primitive = kind.create()

    def check(t: Task, got: bool) -> None:
        assert kind.holds(t, primitive) == kind.owning(got)

    state = acquire_at_random(primitive, check)
    assert state["inside"] == 0 and state["acquired"] > 0 and 1 <= state["peak"] <= kind.capacity
    assert kind.state(primitive) == kind.rest
    assert primitive.green_acquire(blocking=False)
    primitive.green_release()


# --- checkpoints (§1.7) -------------------------------------------------------------------------------------


def test_asyncio_fast_path_does_not_yield(kind: Kind) -> None:
    """asyncio: taking a free unit completes without ever suspending."""

    async def body(t: Task) -> None:
        primitive = kind.create()
        coro = primitive.async_acquire()
        with pytest.raises(StopIteration) as stop:
            coro.send(None)
        assert stop.value.value is True and kind.free(primitive) == kind.capacity - 1
        assert kind.holds(t, primitive) == kind.owning(True)
        primitive.async_release()
        assert kind.state(primitive) == kind.rest

    run("asyncio", body)


def test_trio_fast_path_is_a_checkpoint_that_gives_back(kind: Kind) -> None:
    """trio: taking a free unit is a checkpoint (a non-blocking try is not); when the checkpoint raises the
    cancellation, the unit it took is given back."""
    import trio
    import trio.testing

    async def body(t: Task) -> None:
        primitive = kind.create()
        with trio.testing.assert_checkpoints():
            assert await primitive.async_acquire()
        assert kind.holds(t, primitive) == kind.owning(True)
        primitive.async_release()
        with trio.CancelScope() as scope:
            scope.cancel()
            with trio.testing.assert_no_checkpoints():
                assert await primitive.async_acquire(blocking=False)  # no checkpoint, so no cancellation
            primitive.async_release()
            await primitive.async_acquire()  # taken, then the checkpoint raises: it must be given back
            pytest.fail("the cancelled checkpoint did not raise")
        assert scope.cancelled_caught
        assert kind.state(primitive) == kind.rest and kind.holds(t, primitive) == kind.owning(False)

    run("trio", body)


def test_asyncio_enabled_checkpoint_cancelled_gives_back(kind: Kind) -> None:
    """asyncio with checkpoints enabled: a task cancelled in the checkpoint after taking a free unit gives it
    back."""

    async def body(t: Task) -> None:
        primitive = kind.create()

        async def grab() -> None:
            with enable_checkpoints():
                await primitive.async_acquire()

        task = asyncio.create_task(grab())
        await asyncio.sleep(0)  # the task took a unit and now sits in the checkpoint
        assert kind.free(primitive) == kind.capacity - 1
        assert kind.level_of(primitive, ("asyncio", id(task))) == kind.owning(1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert kind.state(primitive) == kind.rest

    run("asyncio", body)


@pytest.mark.parametrize("green", ["gevent", "eventlet"])
def test_green_enabled_checkpoint_interrupted_gives_back(kind: Kind, green: str) -> None:
    """With green checkpoints enabled, taking a free unit yields once; an exception thrown in there (the
    greenlet is killed) must not leave the unit taken."""

    async def body(t: Task) -> None:
        primitive = kind.create()

        def grab() -> str:
            with enable_checkpoints():
                primitive.green_acquire()
            return "kept"

        if green == "gevent":
            import gevent
            import greenlet

            glet = gevent.spawn(grab)
            # Runs in the hub right after the greenlet parked in its checkpoint: throw into it there.
            gevent.get_hub().loop.run_callback(lambda: greenlet.greenlet.throw(glet, greenlet.GreenletExit))
            gevent.sleep(0)
            assert glet.dead and glet.value is not None and glet.value != "kept"
        else:
            import eventlet

            thread = eventlet.spawn(grab)
            eventlet.sleep(0)  # the greenthread took a unit and yielded in its checkpoint
            assert kind.free(primitive) == kind.capacity - 1
            assert kind.level_of(primitive, ("eventlet", id(thread))) == kind.owning(1)
            thread.kill()  # raises GreenletExit in it at once
        assert kind.state(primitive) == kind.rest

    run(green, body)


# --- the object ---------------------------------------------------------------------------------------------


def test_object_model(kind: Kind) -> None:
    """A slotted, weak-referenceable object of the public class, equal only to itself, with no plain
    ``acquire()`` (nor what else its family lacks), not awaitable; true when held (a semaphore always is)."""
    primitive = kind.create()
    assert type(primitive) is kind.cls and kind.cls.__module__ == "aiologic"
    assert weakref.ref(primitive)() is primitive
    with pytest.raises(AttributeError):
        primitive.anything = 1
    assert not hasattr(primitive, "__dict__")
    other = kind.create()
    assert primitive == primitive and primitive != other and len({primitive, other, primitive}) == 2
    assert [name for name in kind.family.absent if hasattr(primitive, name)] == []
    assert bool(primitive) is kind.family.truthy_when_free
    others = Hog(primitive, kind.capacity)
    assert bool(primitive) is True and kind.free(primitive) == 0
    others.release_all()
    assert bool(primitive) is kind.family.truthy_when_free


@asynccontextmanager
async def entered(t: Task, primitive: Any) -> AsyncIterator[Any]:
    """``with primitive`` in green bodies, ``async with primitive`` in async ones; yields what it returned."""
    if t.green:
        with primitive as value:
            yield value
    else:
        async with primitive as value:
            yield value


def test_context_managers_return_the_primitive_and_release(kind: Kind, library: str) -> None:
    """``with``/``async with`` returns the primitive itself and holds a unit inside; leaving, also by an
    exception, releases it."""

    async def body(t: Task) -> None:
        primitive = kind.create()
        async with entered(t, primitive) as value:
            assert value is primitive and kind.free(primitive) == kind.capacity - 1
            assert kind.holds(t, primitive) == kind.owning(True)
        assert kind.state(primitive) == kind.rest
        with pytest.raises(KeyError):
            async with entered(t, primitive):
                raise KeyError
        assert kind.state(primitive) == kind.rest

    run(library, body)


@pytest.mark.parametrize("how", COPIES)
def test_copies_are_fresh(kind: Kind, how: str) -> None:
    """A copy (``copy``, ``deepcopy``, pickling) is a new primitive of the same class that nobody holds or
    waits for; the original keeps its holder."""
    primitive = kind.create()
    assert primitive.green_acquire(*kind.count)
    fresh = clone(primitive, how)
    assert type(fresh) is kind.cls and fresh is not primitive
    assert kind.state(fresh) == kind.rest and bool(fresh) is kind.family.truthy_when_free
    assert fresh.green_acquire(blocking=False)  # its own state: the original is still held
    held = (kind.capacity - 1, 0, kind.owning({current_green_task_ident(): kind.level}))
    assert kind.state(primitive) == held
    primitive.green_release(*kind.count)
