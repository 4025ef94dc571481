"""Semaphores (spec §4): ``Semaphore``, ``BoundedSemaphore``, ``BinarySemaphore``, ``BoundedBinarySemaphore``.

What semaphores share with locks and capacity limiters (hand-off, timeouts, cancellation safety, checkpoints,
the object model) is in test_hand_off.py. Here: the limit on holders and releases without ownership, written
against the ``kind`` fixture, then the factory table, release rules, reprs and copies of §4.
"""

from __future__ import annotations

import copy
import pickle
import re
import threading
from collections.abc import Callable

import pytest

from aiologic import BinarySemaphore, BoundedBinarySemaphore, BoundedSemaphore, Semaphore
from aiologic.meta import DEFAULT
from harness import (
    ADDRESS,
    COPIES,
    MIX,
    SEMAPHORES,
    Kind,
    Running,
    Task,
    acquire,
    clone,
    contend_across_worlds,
    kinds_of,
    release,
    run,
    wait_until,
)


@pytest.fixture(params=kinds_of(SEMAPHORES), ids=str)
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param  # type: ignore[no-any-return]


def drain(sem: Semaphore) -> int:
    """Take every free permit without waiting; return how many."""
    taken = 0
    while sem.green_acquire(blocking=False):
        taken += 1
    return taken


def refill(sem: Semaphore, count: int) -> None:
    for _ in range(count):
        sem.release()


# --- holders ------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("frequent_switches")
def test_at_most_initial_value_holders_across_worlds(kind: Kind) -> None:
    """Two workers in each of two threads, two asyncio loops, and a thread of every other library.

    Never more than ``initial_value`` holders at once; with one permit the read-yield-write critical section
    loses no increment. Every holder waits for a waiter to queue behind it, so the holds really contend.
    """
    sem = kind.create()
    rounds = 40
    state = contend_across_worlds(sem, kind.capacity, rounds)
    assert 1 <= state["peak"] <= kind.capacity
    assert state["contended"] >= state["holds"] - kind.capacity * rounds
    if kind.capacity == 1:
        assert state["counter"] == len(MIX) * 2 * rounds
    assert state["inside"] == 0
    assert sem.value == kind.capacity and sem.waiting == 0


def test_release_wakes_waiters_in_other_threads_without_ownership(kind: Kind, library: str) -> None:
    """A permit taken on ``library`` may be given back by anyone: here the main thread."""
    sem = kind.create()

    async def body(t: Task) -> int:
        for _ in range(kind.capacity):
            assert await acquire(t, sem)
        return sem.value

    assert run(library, body) == 0
    for expected in range(1, kind.capacity + 1):
        sem.release()
        assert sem.value == expected


# --- timeouts -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("green", ["gevent", "eventlet"])
def test_green_timeout_zero_succeeds_when_woken_in_that_turn(kind: Kind, green: str) -> None:
    """gevent/eventlet: ``timeout=0`` yields to the hub once; a release the hub runs in that turn wins (a
    semaphore has no owner, so the hub itself can release it)."""

    async def body(t: Task) -> None:
        sem = kind.create()
        taken = drain(sem)
        if green == "gevent":
            import gevent

            gevent.get_hub().loop.run_callback(sem.release)
        else:
            import eventlet.hubs

            eventlet.hubs.get_hub().schedule_call_global(0, sem.release)
        assert sem.green_acquire(timeout=0) is True
        assert sem.green_acquire(timeout=0) is False  # nothing released in that turn
        assert sem.value == 0 and sem.waiting == 0
        refill(sem, taken)

    run(green, body)


# --- the factory table (§4.1) -------------------------------------------------------------------------------

FACTORY = [
    # (call, returned type, initial_value, max_value or None when unbounded)
    (lambda: Semaphore(), Semaphore, 1, None),
    (lambda: Semaphore(DEFAULT), Semaphore, 1, None),
    (lambda: Semaphore(0), Semaphore, 0, None),
    (lambda: Semaphore(5), Semaphore, 5, None),
    (lambda: Semaphore(5, None), Semaphore, 5, None),
    (lambda: Semaphore(2, 5), BoundedSemaphore, 2, 5),
    (lambda: Semaphore(max_value=5), BoundedSemaphore, 5, 5),
    (lambda: Semaphore(max_value=1), BoundedBinarySemaphore, 1, 1),
    (lambda: Semaphore(0, 1), BoundedBinarySemaphore, 0, 1),
    (lambda: BoundedSemaphore(), BoundedBinarySemaphore, 1, 1),
    (lambda: BoundedSemaphore(1), BoundedBinarySemaphore, 1, 1),
    (lambda: BoundedSemaphore(0), BoundedBinarySemaphore, 0, 0),
    (lambda: BoundedSemaphore(0, 1), BoundedBinarySemaphore, 0, 1),
    (lambda: BoundedSemaphore(max_value=0), BoundedBinarySemaphore, 0, 0),
    (lambda: BoundedSemaphore(max_value=None), BoundedBinarySemaphore, 1, 1),
    (lambda: BoundedSemaphore(3), BoundedSemaphore, 3, 3),
    (lambda: BoundedSemaphore(max_value=4), BoundedSemaphore, 4, 4),
    (lambda: BoundedSemaphore(0, 4), BoundedSemaphore, 0, 4),
    (lambda: BoundedSemaphore(2, 5), BoundedSemaphore, 2, 5),
    (lambda: BoundedSemaphore(DEFAULT, 4), BoundedSemaphore, 4, 4),
    (lambda: BoundedSemaphore(DEFAULT, DEFAULT), BoundedBinarySemaphore, 1, 1),
    (lambda: BinarySemaphore(), BinarySemaphore, 1, None),
    (lambda: BinarySemaphore(0), BinarySemaphore, 0, None),
    (lambda: BinarySemaphore(DEFAULT), BinarySemaphore, 1, None),
    (lambda: BinarySemaphore(1, None), BinarySemaphore, 1, None),
    (lambda: BinarySemaphore(0, 1), BoundedBinarySemaphore, 0, 1),
    (lambda: BinarySemaphore(max_value=1), BoundedBinarySemaphore, 1, 1),
    (lambda: BinarySemaphore(max_value=0), BoundedBinarySemaphore, 0, 0),
    (lambda: BoundedBinarySemaphore(), BoundedBinarySemaphore, 1, 1),
    (lambda: BoundedBinarySemaphore(0), BoundedBinarySemaphore, 0, 0),
    (lambda: BoundedBinarySemaphore(0, 1), BoundedBinarySemaphore, 0, 1),
    (lambda: BoundedBinarySemaphore(max_value=0), BoundedBinarySemaphore, 0, 0),
]


@pytest.mark.parametrize(
    ("call", "cls", "initial", "maximum"), FACTORY, ids=[str(i) for i in range(len(FACTORY))]
)
def test_factory_table(call: Callable[[], Semaphore], cls: type, initial: int, maximum: int | None) -> None:
    sem = call()
    assert type(sem) is cls
    assert sem.initial_value == initial and sem.value == initial and sem.waiting == 0
    if maximum is None:
        assert not hasattr(sem, "max_value")
    else:
        assert sem.max_value == maximum


ERRORS = [
    (lambda: Semaphore(-1), "initial_value must be >= 0"),
    (lambda: Semaphore(-1, 5), "initial_value must be >= 0"),
    (lambda: Semaphore(3, 2), "max_value must be >= initial_value"),
    (lambda: BoundedSemaphore(-1), "initial_value must be 0 or 1"),
    (lambda: BoundedSemaphore(-1, 5), "initial_value must be >= 0"),
    (lambda: BoundedSemaphore(2, -1), "max_value must be >= 0"),
    (lambda: BoundedSemaphore(5, 3), "max_value must be >= initial_value"),
    (lambda: BoundedSemaphore(1, 0), "max_value must be >= initial_value"),
    (lambda: BinarySemaphore(2), "initial_value must be 0 or 1"),
    (lambda: BinarySemaphore(-1), "initial_value must be 0 or 1"),
    (lambda: BinarySemaphore(2, 1), "initial_value must be 0 or 1"),
    (lambda: BinarySemaphore(1, 2), "max_value must be 0 or 1"),
    (lambda: BoundedBinarySemaphore(2), "initial_value must be 0 or 1"),
    (lambda: BoundedBinarySemaphore(max_value=2), "max_value must be 0 or 1"),
    (lambda: BoundedBinarySemaphore(1, 0), "max_value must be >= initial_value"),
]


@pytest.mark.parametrize(("call", "message"), ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_factory_errors(call: Callable[[], Semaphore], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()


class MySemaphore(Semaphore):
    __slots__ = ()


class MyBinarySemaphore(BinarySemaphore):
    __slots__ = ()


class MyBoundedSemaphore(BoundedSemaphore):
    __slots__ = ()


def test_subclasses_are_not_redirected() -> None:
    with pytest.raises(TypeError, match="BoundedSemaphore"):
        MySemaphore(1, 2)
    with pytest.raises(TypeError, match="BoundedBinarySemaphore"):
        MyBinarySemaphore(max_value=1)
    assert type(MySemaphore(1, None)) is MySemaphore
    assert type(MyBinarySemaphore(0)) is MyBinarySemaphore
    small = MyBoundedSemaphore(1)  # the exact class would be routed to BoundedBinarySemaphore
    assert type(small) is MyBoundedSemaphore and small.max_value == 1
    assert re.fullmatch(
        rf"<test_semaphores\.MySemaphore\(2\) at {ADDRESS} \[value=2\]>", repr(MySemaphore(2))
    )


# --- releasing ----------------------------------------------------------------------------------------------


def test_semaphore_release_counts() -> None:
    sem = Semaphore(0)
    sem.release(0)
    sem.release(-3)
    assert sem.value == 0
    sem.release(3)
    assert sem.value == 3
    sem.green_release()
    sem.async_release()  # plain methods: usable outside any loop
    assert sem.value == 5
    sem.release(2)
    assert sem.value == 7 and sem.initial_value == 0


def test_semaphore_release_many_wakes_that_many_waiters(library: str) -> None:
    sem = Semaphore(0)

    async def body(t: Task) -> bool:
        return await acquire(t, sem, timeout=10)

    waiters = []
    for index in range(4):
        waiters.append(Running(library, body))
        wait_until(lambda index=index: sem.waiting == index + 1)
    sem.release(3)
    assert sem.value == 0 and sem.waiting == 1  # three permits went straight to the three oldest waiters
    assert [waiter.result() for waiter in waiters[:3]] == [True] * 3
    sem.release()
    assert waiters[3].result() is True
    assert sem.value == 0 and sem.waiting == 0


@pytest.mark.parametrize("cls", [BinarySemaphore, BoundedBinarySemaphore, BoundedSemaphore])
@pytest.mark.parametrize("count", [0, 2, -1])
def test_binary_and_bounded_release_demand_count_one(cls: type[Semaphore], count: int) -> None:
    sem = cls(0, 5) if cls is BoundedSemaphore else cls(0)
    for method in (sem.release, sem.green_release, sem.async_release):
        with pytest.raises(ValueError, match=r"^count must be 1$"):
            method(count)
    assert sem.value == 0


def test_binary_semaphore_release_is_unbounded() -> None:
    sem = BinarySemaphore()
    sem.release()
    assert sem.value == 2
    assert re.fullmatch(rf"<aiologic\.BinarySemaphore\(1\) at {ADDRESS} \[value=2\]>", repr(sem))
    assert sem.green_acquire(blocking=False) and sem.green_acquire(blocking=False)
    assert not sem.green_acquire(blocking=False)


@pytest.mark.parametrize(
    ("make", "room"),
    [
        (lambda: BoundedBinarySemaphore(), 0),
        (lambda: BoundedBinarySemaphore(0, 1), 1),
        (lambda: BoundedSemaphore(3), 0),
        (lambda: BoundedSemaphore(2, 5), 3),
        (lambda: BoundedSemaphore(0), 0),
    ],
    ids=["BBS()", "BBS(0,1)", "BS(3)", "BS(2,5)", "BS(0)"],
)
def test_bounded_over_release_raises(make: Callable[[], BoundedSemaphore], room: int) -> None:
    sem = make()
    for _ in range(room):
        sem.release()
    assert sem.value == sem.max_value
    for method in (sem.release, sem.green_release, sem.async_release):
        with pytest.raises(RuntimeError, match=r"^semaphore released too many times$"):
            method()
    assert sem.value == sem.max_value
    if sem.max_value:
        assert sem.green_acquire(blocking=False)
        sem.release()
        with pytest.raises(RuntimeError, match=r"^semaphore released too many times$"):
            sem.release()
    assert sem.value == sem.max_value


def test_bounded_over_release_is_detected_whoever_releases(library: str) -> None:
    """No ownership: the main thread may return the permit a waiter on ``library`` was handed, and then the
    waiter's own release is the one too many."""
    sem = BoundedSemaphore(1)
    assert sem.green_acquire()
    acquired, released = threading.Event(), threading.Event()

    async def body(t: Task) -> tuple[bool, str]:
        ok = await acquire(t, sem, timeout=10)
        acquired.set()
        assert released.wait(10)
        try:
            release(t, sem)
        except RuntimeError as exc:
            return ok, str(exc)
        return ok, "released"

    waiter = Running(library, body)
    wait_until(lambda: sem.waiting == 1)
    sem.release()  # handed over: value stays 0
    assert sem.value == 0
    assert acquired.wait(10)
    sem.release()  # on the waiter's behalf
    assert sem.value == 1
    with pytest.raises(RuntimeError, match=r"^semaphore released too many times$"):
        sem.release()
    released.set()
    assert waiter.result() == (True, "semaphore released too many times")
    assert sem.value == 1


# --- the object ---------------------------------------------------------------------------------------------

REPRS = [
    (lambda: Semaphore(), r"Semaphore\(1\)", "value=1"),
    (lambda: Semaphore(0), r"Semaphore\(0\)", "value=0, waiting=0"),
    (lambda: Semaphore(4), r"Semaphore\(4\)", "value=4"),
    (lambda: BoundedSemaphore(3), r"BoundedSemaphore\(3\)", "value=3"),
    (lambda: BoundedSemaphore(2, 5), r"BoundedSemaphore\(2, max_value=5\)", "value=2"),
    (lambda: BoundedSemaphore(0, 5), r"BoundedSemaphore\(0, max_value=5\)", "value=0, waiting=0"),
    (lambda: BinarySemaphore(), r"BinarySemaphore\(1\)", "value=1"),
    (lambda: BinarySemaphore(0), r"BinarySemaphore\(0\)", "value=0, waiting=0"),
    (lambda: BoundedBinarySemaphore(), r"BoundedBinarySemaphore\(1\)", "value=1"),
    (lambda: BoundedBinarySemaphore(0, 1), r"BoundedBinarySemaphore\(0, max_value=1\)", "value=0, waiting=0"),
    (lambda: BoundedSemaphore(0), r"BoundedBinarySemaphore\(0\)", "value=0, waiting=0"),
]


@pytest.mark.parametrize(("make", "name", "state"), REPRS, ids=[str(i) for i in range(len(REPRS))])
def test_reprs(make: Callable[[], Semaphore], name: str, state: str) -> None:
    sem = make()
    assert re.fullmatch(rf"<aiologic\.{name} at {ADDRESS} \[{state}\]>", repr(sem)), repr(sem)
    assert f" at {id(sem):#x} [" in repr(sem)


def test_repr_counts_waiters() -> None:
    sem = Semaphore(0)
    waiter = Running("threading", lambda t: acquire(t, sem, timeout=10))
    wait_until(lambda: sem.waiting == 1)
    assert re.fullmatch(rf"<aiologic\.Semaphore\(0\) at {ADDRESS} \[value=0, waiting=1\]>", repr(sem))
    sem.release()
    assert waiter.result() is True
    assert re.fullmatch(rf"<aiologic\.Semaphore\(0\) at {ADDRESS} \[value=0, waiting=0\]>", repr(sem))


def test_hierarchy() -> None:
    assert BoundedSemaphore.__bases__ == (Semaphore,)
    assert BinarySemaphore.__bases__ == (Semaphore,)
    assert BoundedBinarySemaphore.__bases__ == (BinarySemaphore, BoundedSemaphore)


@pytest.mark.parametrize("how", COPIES)
@pytest.mark.parametrize(
    ("make", "initial", "maximum"),
    [
        (lambda: Semaphore(3), 3, None),
        (lambda: Semaphore(0), 0, None),
        (lambda: BoundedSemaphore(2, 5), 2, 5),
        (lambda: BoundedSemaphore(3), 3, 3),
        (lambda: BinarySemaphore(), 1, None),
        (lambda: BoundedBinarySemaphore(0, 1), 0, 1),
    ],
    ids=["S(3)", "S(0)", "BS(2,5)", "BS(3)", "BinS()", "BBS(0,1)"],
)
def test_copies_keep_the_constructor_arguments(
    make: Callable[[], Semaphore], initial: int, maximum: int | None, how: str
) -> None:
    """A copy is built from the constructor arguments (its class, ``initial_value`` and ``max_value``): taken
    or extra permits and waiters are not carried over."""
    sem = make()
    if maximum is None:
        sem.release()  # an unbounded one may even hold an extra permit
    sem.green_acquire(blocking=False)
    sem.green_acquire(blocking=False)
    fresh = clone(sem, how)
    assert type(fresh) is type(sem) and fresh is not sem
    assert fresh.initial_value == initial and fresh.value == initial and fresh.waiting == 0
    if maximum is not None:
        assert fresh.max_value == maximum


def test_copy_of_semaphore_with_a_permit_taken_has_full_value() -> None:
    sem = Semaphore(3)
    assert sem.green_acquire()
    assert sem.value == 2
    assert copy.copy(sem).value == 3
    assert pickle.loads(pickle.dumps(sem)).value == 3
