"""Capacity limiters (spec §5): ``CapacityLimiter`` and the reentrant ``RCapacityLimiter``.

What limiters share with locks and semaphores (hand-off, timeouts, cancellation safety, checkpoints, the
object model) is in test_hand_off.py. Here: the limit on borrowers and when a waiter shows among them, written
against the ``kind`` fixture, then borrowers, ownership errors, the levels of ``RCapacityLimiter`` and reprs.
"""

from __future__ import annotations

import asyncio
import re
import threading
import types
from typing import Any

import pytest

from aiologic import CapacityLimiter, RCapacityLimiter
from aiologic.lowlevel import current_async_task_ident
from aiologic.meta import DEFAULT
from harness import (
    ADDRESS,
    LIMITERS,
    MIX,
    Hog,
    Kind,
    Running,
    Task,
    acquire,
    contend_across_worlds,
    kinds_of,
    me,
    release,
    run,
    wait_until,
)

NOT_HOLDING = "the current task is not holding any of this capacity limiter's tokens"
ALREADY_HOLDING = "the current task is already holding one of this capacity limiter's tokens"


@pytest.fixture(params=kinds_of(LIMITERS), ids=str)
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param  # type: ignore[no-any-return]


def borrowed(t: Task, limiter: CapacityLimiter) -> bool:
    return limiter.green_borrowed() if t.green else limiter.async_borrowed()


# --- holders ------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("frequent_switches")
def test_at_most_total_tokens_borrowers_across_worlds(kind: Kind) -> None:
    """Two workers in each of two threads, two asyncio loops, and a thread of every other library.

    Never more than ``total_tokens`` borrowers at once (``borrowers`` agrees); with one token the
    read-yield-write critical section loses no increment. Every borrower waits for a waiter to queue behind
    it, so the borrows really contend.
    """
    limiter = kind.create()
    rounds = 40
    bad_views = []

    def check_view(t: Task) -> None:
        if limiter.borrowers.get(me(t)) != 1 or len(limiter.borrowers) > kind.capacity:
            bad_views.append(dict(limiter.borrowers))

    state = contend_across_worlds(limiter, kind.capacity, rounds, check_view)
    assert 1 <= state["peak"] <= kind.capacity and not bad_views and state["inside"] == 0
    assert state["contended"] >= state["holds"] - kind.capacity * rounds
    if kind.capacity == 1:
        assert state["counter"] == len(MIX) * 2 * rounds
    assert limiter.available_tokens == kind.capacity and not limiter.borrowers and limiter.waiting == 0


def test_token_shows_in_borrowers_once_the_waiter_resumes(kind: Kind) -> None:
    """asyncio: right after the hand-off the token is neither free nor listed; the waiter lists itself."""

    async def body(t: Task) -> None:
        limiter = kind.create()
        hog = Hog(limiter, kind.capacity - 1)
        await limiter.async_acquire()

        async def waiter() -> tuple[bool, int | None]:
            ok = await limiter.async_acquire()
            level = limiter.borrowers.get(current_async_task_ident())
            limiter.async_release()
            return ok, level

        task = asyncio.create_task(waiter())
        while limiter.waiting < 1:
            await asyncio.sleep(0)
        limiter.async_release()
        assert limiter.available_tokens == 0 and limiter.borrowed_tokens == kind.capacity
        assert current_async_task_ident() not in limiter.borrowers
        assert ("asyncio", id(task)) not in limiter.borrowers
        assert len(limiter.borrowers) == kind.capacity - 1  # only the hog's threads
        assert await task == (True, 1)
        hog.release_all()
        assert limiter.available_tokens == kind.capacity and not limiter.borrowers

    run("asyncio", body)


# --- borrowers and ownership errors (§5.1) ------------------------------------------------------------------


def test_borrowers_is_a_live_read_only_view(kind: Kind, library: str) -> None:
    async def body(t: Task) -> None:
        limiter = kind.create()
        view = limiter.borrowers
        assert isinstance(view, types.MappingProxyType) and dict(view) == {}
        assert await acquire(t, limiter) is True
        assert dict(view) == {me(t): 1} and dict(limiter.borrowers) == {me(t): 1}
        assert me(t)[0] == (t.library if t.green else t.backend)
        assert borrowed(t, limiter) and bool(limiter)
        assert limiter.available_tokens == kind.capacity - 1 and limiter.borrowed_tokens == 1
        with pytest.raises(TypeError):
            view[me(t)] = 5  # type: ignore[index]
        with pytest.raises(TypeError):
            del view[me(t)]  # type: ignore[attr-defined]
        release(t, limiter)
        assert dict(view) == {} and not borrowed(t, limiter) and not limiter
        assert limiter.available_tokens == kind.capacity and limiter.borrowed_tokens == 0

    run(library, body)


def test_borrowers_lists_every_world(kind: Kind) -> None:
    limiter = CapacityLimiter(4) if kind.cls is CapacityLimiter else RCapacityLimiter(4)
    release_now = threading.Event()
    idents: list[tuple[str, int]] = []

    async def body(t: Task) -> None:
        assert await acquire(t, limiter, timeout=10)
        idents.append(me(t))
        assert release_now.wait(10)
        release(t, limiter)

    runners = [Running(library, body) for library in ("threading", "gevent", "asyncio", "trio")]
    wait_until(lambda: len(idents) == 4)
    assert dict(limiter.borrowers) == dict.fromkeys(idents, 1)
    assert sorted(ident[0] for ident in limiter.borrowers) == ["asyncio", "gevent", "threading", "trio"]
    assert limiter.available_tokens == 0 and limiter.borrowed_tokens == 4
    release_now.set()
    for runner in runners:
        runner.result()
    assert not limiter.borrowers and limiter.available_tokens == 4


def test_capacity_limiter_double_acquire_raises(library: str) -> None:
    async def body(t: Task) -> None:
        limiter = CapacityLimiter(5)
        assert await acquire(t, limiter)
        for kwargs in ({}, {"blocking": False}, {"timeout": 0}, {"blocking": False, "timeout": -1}):
            with pytest.raises(RuntimeError, match=f"^{re.escape(ALREADY_HOLDING)}$"):
                await acquire(t, limiter, **kwargs)
        assert dict(limiter.borrowers) == {me(t): 1} and limiter.available_tokens == 4
        release(t, limiter)

    run(library, body)


def test_release_without_a_token_raises(kind: Kind, library: str) -> None:
    limiter = kind.create()
    assert limiter.green_acquire()  # the main thread's token: others do not hold it

    async def body(t: Task) -> None:
        with pytest.raises(RuntimeError, match=f"^{re.escape(NOT_HOLDING)}$"):
            release(t, limiter)
        if not t.green:
            with pytest.raises(RuntimeError, match=f"^{re.escape(NOT_HOLDING)}$"):
                limiter.green_release()

    run(library, body)
    assert limiter.green_borrowed()
    limiter.green_release()
    with pytest.raises(RuntimeError, match=f"^{re.escape(NOT_HOLDING)}$"):
        limiter.green_release()
    assert limiter.available_tokens == kind.capacity


def test_tokens_are_per_flavour(kind: Kind, async_library: str) -> None:
    """§1.3: a green acquire in a coroutine borrows for the thread; the task holds nothing."""

    async def body(t: Task) -> None:
        limiter = CapacityLimiter(2) if kind.cls is CapacityLimiter else RCapacityLimiter(2)
        assert limiter.green_acquire()
        assert dict(limiter.borrowers) == {("threading", threading.get_ident()): 1}
        assert limiter.green_borrowed() and not limiter.async_borrowed()
        with pytest.raises(RuntimeError, match=f"^{re.escape(NOT_HOLDING)}$"):
            limiter.async_release()
        assert await limiter.async_acquire()  # a different borrower: takes the second token
        assert len(limiter.borrowers) == 2 and limiter.available_tokens == 0
        limiter.async_release()
        limiter.green_release()
        assert not limiter.borrowers and limiter.available_tokens == 2

    run(async_library, body)


def test_total_tokens() -> None:
    assert CapacityLimiter().total_tokens == 1
    assert CapacityLimiter(DEFAULT).total_tokens == 1
    assert RCapacityLimiter().total_tokens == 1
    assert CapacityLimiter(7).total_tokens == 7 and CapacityLimiter(7).available_tokens == 7
    for cls in (CapacityLimiter, RCapacityLimiter):
        with pytest.raises(ValueError, match=r"^total_tokens must be >= 0$"):
            cls(-1)


def test_zero_tokens_are_never_lent(library: str) -> None:
    async def body(t: Task) -> None:
        limiter = CapacityLimiter(0)
        assert limiter.available_tokens == 0 and limiter.borrowed_tokens == 0 and not limiter
        assert await acquire(t, limiter, blocking=False) is False
        assert await acquire(t, limiter, timeout=0) is False
        assert await acquire(t, limiter, timeout=0.01) is False
        assert limiter.waiting == 0 and not limiter.borrowers

    run(library, body)


# --- RCapacityLimiter levels (§5.2) -------------------------------------------------------------------------


def test_rcapacity_limiter_levels(library: str) -> None:
    async def body(t: Task) -> None:
        limiter = RCapacityLimiter(2)
        count = limiter.green_count if t.green else limiter.async_count
        assert count() == 0
        assert await acquire(t, limiter) is True
        assert await acquire(t, limiter, 2) is True
        assert await acquire(t, limiter, blocking=False) is True
        assert await acquire(t, limiter, timeout=0) is True
        assert count() == 5 and dict(limiter.borrowers) == {me(t): 5}
        assert limiter.available_tokens == 1 and limiter.borrowed_tokens == 1  # still one token
        if not t.green:
            assert limiter.green_count() == 0
        release(t, limiter, 3)
        assert count() == 2 and limiter.borrowers[me(t)] == 2
        with pytest.raises(RuntimeError, match=r"^capacity limiter released too many times$"):
            release(t, limiter, 3)
        assert count() == 2
        release(t, limiter, 2)
        assert count() == 0 and not limiter.borrowers and limiter.available_tokens == 2
        with pytest.raises(RuntimeError, match=f"^{re.escape(NOT_HOLDING)}$"):
            release(t, limiter)
        assert await acquire(t, limiter, 4) is True
        assert count() == 4
        release(t, limiter, 4)

    run(library, body)


def test_rcapacity_limiter_reenters_even_when_no_token_is_free(library: str) -> None:
    limiter = RCapacityLimiter(1)

    async def body(t: Task) -> int:
        assert await acquire(t, limiter)
        assert limiter.available_tokens == 0
        assert await acquire(t, limiter, blocking=False) is True
        assert await acquire(t, limiter, 3, timeout=0) is True
        level = limiter.borrowers[me(t)]
        release(t, limiter, level)
        return level

    assert run(library, body) == 5
    assert limiter.available_tokens == 1


def test_rcapacity_limiter_count_must_be_positive(library: str) -> None:
    async def body(t: Task) -> None:
        limiter = RCapacityLimiter()
        for bad in (0, -1):
            with pytest.raises(ValueError, match=r"^count must be >= 1$"):
                await acquire(t, limiter, bad)
            with pytest.raises(ValueError, match=r"^count must be >= 1$"):
                await acquire(t, limiter, bad, blocking=False)
            with pytest.raises(ValueError):
                release(t, limiter, bad)
        assert not limiter.borrowers
        assert await acquire(t, limiter)
        with pytest.raises(ValueError, match=r"^count must be >= 1$"):
            release(t, limiter, 0)
        assert limiter.borrowers[me(t)] == 1
        release(t, limiter)

    run(library, body)


def test_rcapacity_limiter_count_seen_by_others(library: str) -> None:
    limiter = RCapacityLimiter(3)
    limiter.green_acquire(4)

    async def body(t: Task) -> tuple[int, bool, dict[Any, int]]:
        count = limiter.green_count if t.green else limiter.async_count
        return count(), borrowed(t, limiter), dict(limiter.borrowers)

    assert run(library, body) == (0, False, {("threading", threading.get_ident()): 4})
    assert limiter.green_count() == 4
    limiter.green_release(4)


def test_rcapacity_limiter_hand_off_carries_the_level(library: str) -> None:
    limiter = RCapacityLimiter()
    limiter.green_acquire()

    async def body(t: Task) -> tuple[bool, int]:
        ok = await acquire(t, limiter, 3, timeout=10)
        level = limiter.borrowers.get(me(t), 0)
        release(t, limiter, 3)
        return ok, level

    waiter = Running(library, body)
    wait_until(lambda: limiter.waiting == 1)
    limiter.green_release()
    assert waiter.result() == (True, 3)
    assert not limiter.borrowers and limiter.available_tokens == 1


def test_rcapacity_limiter_reentry_checkpoints_under_trio() -> None:
    """Re-acquire: a checkpoint first when blocking (a cancelled one adds no level), none otherwise."""
    import trio
    import trio.testing

    async def body(t: Task) -> None:
        limiter = RCapacityLimiter()
        await limiter.async_acquire()
        with trio.testing.assert_checkpoints():
            assert await limiter.async_acquire()
        with trio.testing.assert_no_checkpoints():
            assert await limiter.async_acquire(blocking=False)
        assert limiter.async_count() == 3
        with trio.CancelScope() as scope:
            scope.cancel()
            await limiter.async_acquire(2)
        assert scope.cancelled_caught and limiter.async_count() == 3
        limiter.async_release(3)
        assert not limiter.borrowers

    run("trio", body)


def test_capacity_limiter_has_no_levels() -> None:
    limiter = CapacityLimiter()
    assert not hasattr(limiter, "green_count") and not hasattr(limiter, "async_count")
    with pytest.raises(TypeError):
        limiter.green_acquire(2)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        limiter.green_release(1)  # type: ignore[call-arg]


# --- the object ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [CapacityLimiter, RCapacityLimiter])
def test_reprs(cls: type[CapacityLimiter]) -> None:
    name = cls.__name__
    limiter = cls(2)
    assert re.fullmatch(rf"<aiologic\.{name}\(2\) at {ADDRESS} \[available_tokens=2\]>", repr(limiter))
    assert f" at {id(limiter):#x} [" in repr(limiter)
    limiter.green_acquire()
    assert re.fullmatch(rf"<aiologic\.{name}\(2\) at {ADDRESS} \[available_tokens=1\]>", repr(limiter))
    hog = Hog(limiter, 1)
    assert re.fullmatch(
        rf"<aiologic\.{name}\(2\) at {ADDRESS} \[available_tokens=0, waiting=0\]>", repr(limiter)
    )

    async def waiter(t: Task) -> bool:
        ok = await acquire(t, limiter, timeout=10)
        release(t, limiter)
        return ok

    waiting = Running("threading", waiter)
    wait_until(lambda: limiter.waiting == 1)
    assert re.fullmatch(
        rf"<aiologic\.{name}\(2\) at {ADDRESS} \[available_tokens=0, waiting=1\]>", repr(limiter)
    )
    limiter.green_release()
    assert waiting.result() is True
    hog.release_all()
    assert re.fullmatch(rf"<aiologic\.{name}\(2\) at {ADDRESS} \[available_tokens=2\]>", repr(limiter))
    assert re.fullmatch(rf"<aiologic\.{name}\(1\) at {ADDRESS} \[available_tokens=1\]>", repr(cls()))


def test_hierarchy() -> None:
    assert issubclass(RCapacityLimiter, CapacityLimiter)


class MyLimiter(CapacityLimiter):
    __slots__ = ()


def test_repr_of_subclass_names_the_subclass() -> None:
    assert re.fullmatch(
        rf"<test_limiters\.MyLimiter\(3\) at {ADDRESS} \[available_tokens=3\]>", repr(MyLimiter(3))
    )
