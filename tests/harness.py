"""Run one test body on every library aiologic supports.

A body is written once, as ``async def body(t, ...)``, against the small API of :class:`Task` below. On an
async library it runs as a real task. On a green library (threads, gevent, eventlet) the same coroutine is
driven synchronously: every ``await t.xxx(...)`` performs the blocking green call and completes at once, so
the coroutine never suspends. Each run happens in a fresh OS thread, so gevent and eventlet hubs stay confined
to that thread and are torn down with it; nothing is monkey-patched.
"""

from __future__ import annotations

import asyncio
import copy
import math
import pickle
import random
import subprocess
import sys
import textwrap
import threading
import time

# Import every library once, in the main thread: importing eventlet in a worker thread makes that thread's
# join() hang (eventlet 0.41), and each import costs the first test that needs it.
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import gevent

try:
    import curio
except (ImportError, AttributeError):  # curio 1.6 does not import on Python 3.12+
    curio = None

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"\s*Eventlet is deprecated")  # announced at every import
    import eventlet
    import eventlet.hubs

from aiologic import (
    BinarySemaphore,
    BoundedBinarySemaphore,
    BoundedSemaphore,
    CapacityLimiter,
    Lock,
    RCapacityLimiter,
    RLock,
    Semaphore,
)
from aiologic.lowlevel import (
    create_async_event,
    create_green_event,
    current_async_task_ident,
    current_green_task_ident,
)

GREEN = ("threading", "gevent", "eventlet")
ASYNC = ("asyncio", "trio", "anyio-asyncio", "anyio-trio") + (("curio",) if curio is not None else ())
LIBRARIES = GREEN + ASYNC
# Libraries whose waits can be interrupted from outside (threads have no such mechanism).
CANCELLABLE = tuple(name for name in LIBRARIES if name != "threading")
# Libraries that resume simultaneously woken waiters strictly in wake-up order. OS threads resume in whatever
# order the OS picks, and trio deliberately reverses its run batches at random, so resume order is not a
# property of aiologic there (FIFO across threads and trio is pinned through barrier indices instead).
FIFO_SCHEDULERS = tuple(
    name for name in ("asyncio", "anyio-asyncio", "curio", "gevent", "eventlet") if name in LIBRARIES
)

ADDRESS = r"0x[0-9a-f]+"  # an object's address in a repr
NAN = float("nan")
# Timeouts long enough to mean "wait for the release", in every form a caller may spell them.
LONG_TIMEOUTS = [None, math.inf, 10**400, 30.0, 3e6]
LONG_IDS = ["None", "inf", "huge-int", "30s", "35-days"]


class _Done:
    """An awaitable that is already complete: what green calls return to the synchronous driver."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Any:
        return self.value
        yield  # pragma: no cover - makes this a generator


def _drive(coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("a green test body suspended: it awaited something that is not a green call")


class Task:
    """What a test body sees: the library it runs on and that library's way of doing things."""

    def __init__(self, library: str) -> None:
        self.library = library
        self.green = library in GREEN
        self.backend = library.removeprefix("anyio-")

    def __repr__(self) -> str:
        return f"Task({self.library!r})"

    # aiologic calls -------------------------------------------------------------------------------------

    def call(self, green: Callable[..., Any], async_: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``await t.call(obj.green_x, obj.async_x, ...)``: the form that fits this library."""
        if self.green:
            return _Done(green(*args, **kwargs))
        return async_(*args, **kwargs)

    def create_event(self, **kwargs: Any) -> Any:
        return create_green_event(**kwargs) if self.green else create_async_event(**kwargs)

    def wait(self, event: Any, timeout: float | None = None) -> Awaitable[bool]:
        if self.green:
            return _Done(event.wait(timeout))
        return event.with_(timeout)  # type: ignore[no-any-return]

    # library facilities ---------------------------------------------------------------------------------

    def gather(self, *bodies: Callable[[Task], Coroutine[Any, Any, Any]]) -> Awaitable[list[Any]]:
        """Run ``body(t)`` for each body concurrently (threads, greenlets or tasks); return the results."""
        if self.green:
            return _Done(_green_gather(self.library, bodies))
        return _async_gather(self, bodies)

    def sleep(self, seconds: float) -> Awaitable[None]:
        if self.library == "threading":
            return _Done(time.sleep(seconds))
        if self.library == "gevent":
            return _Done(sys.modules["gevent"].sleep(seconds))
        if self.library == "eventlet":
            return _Done(sys.modules["eventlet"].sleep(seconds))
        if self.library == "curio":
            return sys.modules["curio"].sleep(seconds)  # type: ignore[no-any-return]
        if self.backend == "trio":
            return sys.modules["trio"].sleep(seconds)  # type: ignore[no-any-return]
        return sys.modules["asyncio"].sleep(seconds)  # type: ignore[no-any-return]

    def cancel_after(self, seconds: float) -> AbstractAsyncContextManager[Any]:
        """An ``async with`` block interrupted from outside after ``seconds`` (the library's own way).

        The block's exit swallows the interruption; ``scope.cancelled`` tells whether it happened.
        """
        return self._interrupted(seconds, _GreenTimeoutScope, _curio_scope, _anyio_scope)

    def cancel_when(self, gate: Any) -> AbstractAsyncContextManager[Any]:
        """An ``async with`` block interrupted from outside once ``gate`` (from :func:`gate_for`) is set, by
        whichever thread sets it: so the test, not a timer, picks the moment.

        A sibling greenlet or task waits for the gate, then interrupts the block the library's own way (gevent
        and eventlet throw into the greenlet, curio cancels the task, asyncio and trio cancel a scope). The
        block's exit swallows the interruption; ``scope.cancelled`` tells whether it happened.
        """
        return self._interrupted(gate, _GreenCancelScope, _curio_cancel_when, _anyio_cancel_when)

    def _interrupted(
        self,
        when: Any,
        on_green: Callable[[str, Any], AbstractAsyncContextManager[Any]],
        on_curio: Callable[[Any], AbstractAsyncContextManager[Any]],
        on_anyio: Callable[[Any], AbstractAsyncContextManager[Any]],
    ) -> AbstractAsyncContextManager[Any]:
        if self.library in ("gevent", "eventlet"):
            return on_green(self.library, when)
        if self.library == "curio":
            return on_curio(when)
        if self.library == "threading":
            raise RuntimeError("threads cannot be interrupted from outside")
        return on_anyio(when)


def _green_gather(library: str, bodies: tuple[Callable[[Task], Coroutine[Any, Any, Any]], ...]) -> list[Any]:
    calls = [lambda body=body: _drive(body(Task(library))) for body in bodies]
    if library == "gevent":
        import gevent

        greenlets = [gevent.spawn(call) for call in calls]
        return [greenlet.get() for greenlet in greenlets]
    if library == "eventlet":
        import eventlet

        greenthreads = [eventlet.spawn(call) for call in calls]
        return [greenthread.wait() for greenthread in greenthreads]
    runners = [Running("threading", _as_body(call)) for call in calls]
    return [runner.result() for runner in runners]


def _as_body(call: Callable[[], Any]) -> Callable[[Task], Coroutine[Any, Any, Any]]:
    async def body(t: Task) -> Any:
        return call()

    return body


async def _async_gather(
    task: Task, bodies: tuple[Callable[[Task], Coroutine[Any, Any, Any]], ...]
) -> list[Any]:
    results: list[Any] = [None] * len(bodies)

    async def one(index: int) -> None:
        results[index] = await bodies[index](task)

    if task.library == "curio":
        import curio

        async with curio.TaskGroup(wait=all) as group:
            for index in range(len(bodies)):
                await group.spawn(one, index)
        return results

    async with anyio.create_task_group() as group:
        for index in range(len(bodies)):
            group.start_soon(one, index)
    return results


class _Scope:
    cancelled = False


class _GreenTimeoutScope(_Scope):
    def __init__(self, library: str, seconds: float) -> None:
        self._library = library
        self._seconds = seconds

    def __aenter__(self) -> Any:
        if self._library == "gevent":
            self._timeout = gevent.Timeout.start_new(self._seconds)
        else:
            self._timeout = eventlet.Timeout(self._seconds)  # starts on construction
        return _Done(self)

    def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        self._timeout.cancel()
        self.cancelled = exc is self._timeout
        return _Done(self.cancelled)


@asynccontextmanager
async def _curio_scope(seconds: float) -> Any:

    scope = _Scope()
    async with curio.ignore_after(seconds) as ignore:
        yield scope
    scope.cancelled = bool(ignore.expired)


@asynccontextmanager
async def _anyio_scope(seconds: float) -> Any:

    scope = _Scope()
    with anyio.move_on_after(seconds) as cancel_scope:
        yield scope
    scope.cancelled = cancel_scope.cancelled_caught


class _Interruption(BaseException):
    """What :meth:`Task.cancel_when` throws into a greenlet."""


class _GreenCancelScope(_Scope):
    def __init__(self, library: str, gate: Any) -> None:
        self._library = library
        self._gate = gate
        self._interruption = _Interruption()

    def __aenter__(self) -> Any:
        import greenlet

        target = greenlet.getcurrent()

        def watch() -> None:
            if not self._gate.wait():
                return
            if self._library == "gevent":
                gevent.kill(target, self._interruption)  # thrown from the hub
            else:
                eventlet.greenthread.kill(target, self._interruption)

        self._watcher = (gevent if self._library == "gevent" else eventlet).spawn(watch)
        return _Done(self)

    def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        self._watcher.kill()  # no-op once it fired
        self.cancelled = exc is self._interruption
        return _Done(self.cancelled)


@asynccontextmanager
async def _curio_cancel_when(gate: Any) -> Any:
    scope = _Scope()
    target = await curio.current_task()
    # curio cancels a task once: it ignores any later cancel() of the same task, so one per curio task.
    interruption = curio.TaskCancelled("cancel_when")

    async def watch() -> None:
        if await gate:
            await target.cancel(exc=interruption, blocking=False)

    watcher = await curio.spawn(watch, daemon=True)
    try:
        yield scope
    except curio.TaskCancelled as exc:
        if exc is not interruption:
            raise
        scope.cancelled = True
    finally:
        await watcher.cancel()


@asynccontextmanager
async def _anyio_cancel_when(gate: Any) -> Any:
    scope = _Scope()
    error: BaseException | None = None
    async with anyio.create_task_group() as group:
        with anyio.CancelScope() as cancel_scope:

            async def watch() -> None:
                if await gate:
                    cancel_scope.cancel()

            group.start_soon(watch)
            try:
                yield scope
            except BaseException as exc:  # raised after the group, so that trio does not wrap it in a group
                if isinstance(exc, anyio.get_cancelled_exc_class()):
                    raise  # the scope's own cancellation: the scope swallows it
                error = exc
        group.cancel_scope.cancel()  # the watcher, if the gate was never set
    scope.cancelled = cancel_scope.cancelled_caught
    if error is not None:
        raise error


def _run_here(library: str, body: Callable[..., Coroutine[Any, Any, Any]], args: tuple[Any, ...]) -> Any:
    task = Task(library)
    if library == "threading":
        return _drive(body(task, *args))
    if library == "gevent":
        import gevent

        try:
            return gevent.spawn(lambda: _drive(body(task, *args))).get()
        finally:
            gevent.get_hub().destroy(destroy_loop=True)
    if library == "eventlet":
        import eventlet
        import eventlet.hubs

        try:
            return eventlet.spawn(lambda: _drive(body(task, *args))).wait()
        finally:
            eventlet.hubs._threadlocal.__dict__.pop("hub", None)
    if library == "asyncio":
        import asyncio

        return asyncio.run(body(task, *args))
    if library == "trio":
        import trio

        return trio.run(body, task, *args)
    if library.startswith("anyio-"):
        import anyio

        return anyio.run(body, task, *args, backend=task.backend)
    if library == "curio":
        import curio

        return curio.run(body, task, *args)
    raise ValueError(f"unknown library {library!r}")


class Running:
    """A body running in its own thread; ``result()`` joins it and re-raises its exception."""

    def __init__(self, library: str, body: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        self.library = library
        self._outcome: tuple[bool, Any] | None = None
        self._thread = threading.Thread(target=self._main, args=(body, args), daemon=True)
        self._thread.start()

    def _main(self, body: Callable[..., Coroutine[Any, Any, Any]], args: tuple[Any, ...]) -> None:
        try:
            self._outcome = (True, _run_here(self.library, body, args))
        except BaseException as exc:
            self._outcome = (False, exc)

    def result(self, timeout: float = 30) -> Any:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the {self.library} body did not finish within {timeout} s")
        assert self._outcome is not None
        ok, value = self._outcome
        if not ok:
            raise value
        return value


def run(library: str, body: Callable[..., Coroutine[Any, Any, Any]], *args: Any, timeout: float = 30) -> Any:
    """Run ``body(task, *args)`` on ``library`` in a fresh thread and return its result."""
    return Running(library, body, *args).result(timeout)


def wait_until(predicate: Callable[[], object], timeout: float = 10) -> None:
    """Poll a cross-thread condition that has no event of its own (e.g. "the waiter has parked")."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.0005)


async def until(t: Task, predicate: Callable[[], object], timeout: float = 10) -> None:
    """Poll a condition from inside a body, yielding to the body's scheduler between looks."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await t.sleep(0.001)


# --- primitives with green_acquire/async_acquire (locks, semaphores, capacity limiters) -------------------

# Two plain threads and two asyncio loops besides one thread of every other library, all at once.
MIX = (*LIBRARIES, "threading", "asyncio")


async def acquire(t: Task, primitive: Any, *args: Any, **kwargs: Any) -> bool:
    return await t.call(primitive.green_acquire, primitive.async_acquire, *args, **kwargs)  # type: ignore[no-any-return]


def release(t: Task, primitive: Any, *args: Any) -> None:
    (primitive.green_release if t.green else primitive.async_release)(*args)


def contend_across_worlds(
    primitive: Any, capacity: int, rounds: int, inside: Callable[[Task], None] = lambda t: None
) -> dict[str, int]:
    """Two workers in every world of ``MIX`` each acquire ``primitive`` ``rounds`` times, all at once.

    Inside, a worker calls ``inside(t)``, then keeps its hold until ``primitive.waiting`` reports another
    worker queued behind it, so contention happens by construction rather than by the scheduler's grace. The
    only holds that may end with nobody queued are those when every worker still running is holding, which
    needs at most ``capacity`` workers left: so at most ``capacity * rounds`` holds are uncontended. Each hold
    then does a read-yield-write of ``counter``, which loses increments if holders overlap.

    Returns ``counter``, ``peak`` (most holders at once), ``inside`` (holders at the end: 0), ``holds`` and
    ``contended`` (holds that saw a waiter).
    """
    state = {"counter": 0, "inside": 0, "peak": 0, "holds": 0, "contended": 0}
    active = [2 * len(MIX)]  # workers not finished yet
    meta = threading.Lock()  # guards the bookkeeping only: the critical section itself is the primitive's

    def everyone_left_holds() -> bool:
        with meta:
            return state["inside"] >= active[0]

    async def worker(t: Task) -> None:
        queued = [False]  # whether this hold saw another worker queued behind it

        def someone_queued_or_nobody_left() -> bool:
            queued[0] = bool(primitive.waiting)
            return queued[0] or everyone_left_holds()

        for round_ in range(rounds):
            assert await acquire(t, primitive, timeout=20) is True
            with meta:
                state["inside"] += 1
                state["peak"] = max(state["peak"], state["inside"])
            inside(t)
            await until(t, someone_queued_or_nobody_left, timeout=20)
            value = state["counter"]
            await t.sleep(0)
            state["counter"] = value + 1
            with meta:
                state["holds"] += 1
                state["contended"] += queued[0]
                state["inside"] -= 1
                if round_ == rounds - 1:
                    active[0] -= 1
            release(t, primitive)

    start = threading.Barrier(len(MIX))

    async def body(t: Task) -> None:
        start.wait(10)  # every world starts at once
        await t.gather(worker, worker)

    runners = [Running(library, body) for library in MIX]
    for runner in runners:
        runner.result(timeout=50)
    assert state["holds"] == 2 * len(MIX) * rounds
    return state


def me(t: Task) -> tuple[str, int]:
    """The identity a primitive records for a call of ``t``'s flavour."""
    return current_green_task_ident() if t.green else current_async_task_ident()


class Interrupt(Exception):
    """Thrown into a waiting greenlet by a test."""


@dataclass(frozen=True)
class Family:
    """What tests written once for locks, semaphores and capacity limiters need to know about each family.

    ``unit`` is what one holder has; ``free(p)`` counts the units nobody holds. ``holders(p)`` maps each
    holder the primitive records (a lock's owner, a limiter's borrowers) to its level; a semaphore records
    nobody, so its family has ``holders=None``, and ``holds=None`` too: ``holds`` names the ``green_*`` and
    ``async_*`` methods by which a task asks whether it holds a unit. ``names_waiter_at_hand_off``: a waiter
    shows in ``holders`` as soon as a release hands it the unit (a lock's owner changes right then), not only
    once it resumes (a limiter's borrowers). ``truthy_when_free``: ``bool(p)`` of a primitive nobody holds
    (it is true when held). ``absent``: attributes the family does not have.
    """

    unit: str
    free: Callable[[Any], int]
    holders: Callable[[Any], dict[tuple[str, int], int]] | None
    holds: str | None
    names_waiter_at_hand_off: bool
    truthy_when_free: bool
    absent: tuple[str, ...]


LOCKS = Family(
    unit="lock",
    free=lambda lock: 0 if lock.locked() else 1,
    holders=lambda lock: {} if lock.owner is None else {lock.owner: getattr(lock, "count", 1)},
    holds="owned",
    names_waiter_at_hand_off=True,
    truthy_when_free=False,
    absent=("acquire", "release", "__await__"),
)
SEMAPHORES = Family(
    unit="permit",
    free=lambda semaphore: semaphore.value,
    holders=None,
    holds=None,
    names_waiter_at_hand_off=False,
    truthy_when_free=True,
    absent=("acquire", "locked", "__bool__", "__await__"),
)
LIMITERS = Family(
    unit="token",
    free=lambda limiter: limiter.available_tokens,
    holders=lambda limiter: dict(limiter.borrowers),
    holds="borrowed",
    names_waiter_at_hand_off=False,
    truthy_when_free=False,
    absent=("acquire", "release", "locked", "__await__"),
)


@dataclass(frozen=True)
class Kind:
    """One way to make a primitive under test: its class, how many units it has, its family, and how deep a
    holder takes it (``level``, for the reentrant kinds). The methods read the primitive through the family,
    so that one test serves every kind."""

    name: str
    create: Callable[[], Any]
    cls: type[Any]
    capacity: int
    family: Family
    level: int = 1  # the level a test takes at once: 2 for a reentrant kind

    def __str__(self) -> str:
        return self.name

    @property
    def count(self) -> tuple[int, ...]:
        """What a test passes to acquire and release to take ``level``: nothing for a kind without levels."""
        return () if self.level == 1 else (self.level,)

    @property
    def names_holders(self) -> bool:
        return self.family.holders is not None

    def owning(self, value: Any) -> Any:
        """``value`` where the primitive records its holders; ``None`` (nobody recorded) for a semaphore."""
        return value if self.names_holders else None

    def free(self, primitive: Any) -> int:
        return self.family.free(primitive)

    def holders(self, primitive: Any) -> dict[tuple[str, int], int] | None:
        return None if self.family.holders is None else self.family.holders(primitive)

    def holds(self, t: Task, primitive: Any) -> bool | None:
        """Whether ``t``'s task holds a unit, by the primitive's own ``*_owned``/``*_borrowed`` (``None``:
        semaphores have no owners)."""
        if self.family.holds is None:
            return None
        return getattr(primitive, f"{'green' if t.green else 'async'}_{self.family.holds}")()  # type: ignore[no-any-return]

    def level_of(self, primitive: Any, ident: tuple[str, int]) -> int | None:
        """The level the primitive records for ``ident`` (0: not a holder; ``None``: a semaphore)."""
        holders = self.holders(primitive)
        return None if holders is None else holders.get(ident, 0)

    def state(self, primitive: Any) -> tuple[int, int, dict[tuple[str, int], int] | None]:
        """``(free units, waiting, holders)``."""
        return self.free(primitive), primitive.waiting, self.holders(primitive)

    @property
    def rest(self) -> tuple[int, int, dict[tuple[str, int], int] | None]:
        """The ``state`` of a primitive nobody holds or waits for."""
        return self.capacity, 0, self.owning({})


KINDS = [
    Kind("Lock()", Lock, Lock, 1, LOCKS),
    Kind("RLock()", RLock, RLock, 1, LOCKS, level=2),
    Kind("Semaphore(1)", lambda: Semaphore(1), Semaphore, 1, SEMAPHORES),
    Kind("Semaphore(3)", lambda: Semaphore(3), Semaphore, 3, SEMAPHORES),
    Kind("BoundedSemaphore(3)", lambda: BoundedSemaphore(3), BoundedSemaphore, 3, SEMAPHORES),
    Kind("BinarySemaphore()", BinarySemaphore, BinarySemaphore, 1, SEMAPHORES),
    Kind("BoundedBinarySemaphore()", BoundedBinarySemaphore, BoundedBinarySemaphore, 1, SEMAPHORES),
    Kind("CapacityLimiter()", CapacityLimiter, CapacityLimiter, 1, LIMITERS),
    Kind("RCapacityLimiter()", RCapacityLimiter, RCapacityLimiter, 1, LIMITERS, level=2),
    Kind("CapacityLimiter(3)", lambda: CapacityLimiter(3), CapacityLimiter, 3, LIMITERS),
    Kind("RCapacityLimiter(2)", lambda: RCapacityLimiter(2), RCapacityLimiter, 2, LIMITERS, level=2),
]


# The ways a primitive is copied; ``clone(obj, how)`` copies it so.
COPIES = ["copy", "deepcopy", *(f"pickle{protocol}" for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1))]


def clone(obj: Any, how: str) -> Any:
    if how == "copy":
        return copy.copy(obj)
    if how == "deepcopy":
        return copy.deepcopy(obj)
    return pickle.loads(pickle.dumps(obj, int(how.removeprefix("pickle"))))


def kinds_of(family: Family) -> list[Kind]:
    return [kind for kind in KINDS if kind.family is family]


class Hog:
    """Threads that each take one unit of ``primitive`` and give it back on request (a limiter lends one token
    per task, so the units a test wants held elsewhere are held by as many threads)."""

    def __init__(self, primitive: Any, count: int) -> None:
        self.primitive = primitive
        self._stop = threading.Event()
        self._holding = [threading.Event() for _ in range(count)]
        self._threads = [
            threading.Thread(target=self._hold, args=(event,), daemon=True) for event in self._holding
        ]
        for thread in self._threads:
            thread.start()
        for event in self._holding:
            assert event.wait(10)
        self.holders = {("threading", thread.ident): 1 for thread in self._threads}
        """The holders a primitive that records them lists for these threads."""

    def _hold(self, holding: threading.Event) -> None:
        assert self.primitive.green_acquire(timeout=10)
        holding.set()
        self._stop.wait(30)
        self.primitive.green_release()

    def release_all(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)


def interrupt_green_waiter_at_hand_off(
    primitive: Any, handed: Callable[[Any], Any], after_second: Callable[[], Any]
) -> dict[str, Any]:
    """gevent, called inside ``run("gevent", ...)``: the hub takes a unit of ``primitive`` without waiting;
    greenlets G1 then G2 wait in ``green_acquire(timeout=10)``; one hub callback calls ``green_release()`` and
    throws :class:`Interrupt` into G1, with no switch in between, so the hand-off reaches G1 before it can
    resume.

    Returns what happened: ``hub_took_it``, ``handed`` (``handed(g1)`` right after the release), ``first``
    (``"interrupted"`` when G1 propagated the interruption), ``second`` (G2's acquire), ``after_second`` (what
    ``after_second()`` said in G2, which then releases) and ``g1``.
    """
    import greenlet

    hub = gevent.get_hub()
    results: dict[str, Any] = {}

    def in_hub(function: Callable[[], Any]) -> None:
        hub.loop.run_callback(function)
        gevent.sleep(0)  # queued after it: the callback has run when this returns

    def first() -> None:
        try:
            results["first"] = primitive.green_acquire(timeout=10)
        except Interrupt:
            results["first"] = "interrupted"

    def second() -> None:
        results["second"] = primitive.green_acquire(timeout=10)
        results["after_second"] = after_second()
        primitive.green_release()

    def release_then_interrupt() -> None:
        primitive.green_release()
        results["handed"] = handed(g1)
        greenlet.greenlet.throw(g1, Interrupt)

    in_hub(lambda: results.setdefault("hub_took_it", primitive.green_acquire(blocking=False)))
    g1 = gevent.spawn(first)
    gevent.sleep(0)
    g2 = gevent.spawn(second)
    gevent.sleep(0)
    assert primitive.waiting == 2
    in_hub(release_then_interrupt)
    gevent.joinall([g1, g2], timeout=10)
    results["g1"] = g1
    return results


def race_interruption_with_hand_off(
    primitive: Any,
    library: str,
    interrupt: str,
    *,
    seed: int,
    take: Callable[[int], None],
    check: Callable[[Task, bool], None],
) -> list[bool]:
    """The main thread holds the last free unit of ``primitive``; a waiter on ``library`` is interrupted (its
    own timeout, or an external cancellation) at about the moment the main thread releases it, many times
    over. ``take(round)`` takes the unit back at the start of every round, asserting that it got it: a unit
    the race lost shows there. ``check(t, got)`` looks at the waiter's view before it releases what it got.
    Returns what each attempt returned."""
    rounds = 30
    held = [threading.Event() for _ in range(rounds)]
    ready = [threading.Event() for _ in range(rounds)]
    finished = [threading.Event() for _ in range(rounds)]

    async def waiter(t: Task) -> list[bool]:
        outcomes = []
        for index in range(rounds):
            assert held[index].wait(10)
            ready[index].set()
            got = False
            if interrupt == "timeout":
                got = await acquire(t, primitive, timeout=0.002)
            else:
                async with t.cancel_after(0.002):
                    got = await acquire(t, primitive)
            check(t, got)
            if got:
                release(t, primitive)
            outcomes.append(got)
            finished[index].set()
        return outcomes

    rng = random.Random(seed)
    running = Running(library, waiter)
    for index in range(rounds):
        take(index)
        held[index].set()
        assert ready[index].wait(10)
        threading.Event().wait(rng.uniform(0, 0.004))  # lands before, at or after the waiter's deadline
        primitive.green_release()
        assert finished[index].wait(10)
    outcomes: list[bool] = running.result()
    assert len(outcomes) == rounds
    return outcomes


def acquire_at_random(
    primitive: Any, check: Callable[[Task, bool], None] = lambda t, got: None
) -> dict[str, int]:
    """Two workers on every library acquire ``primitive`` 40 times each with random timeouts, non-blocking
    tries and external cancellations, holding it for a moment when they get it; ``check(t, got)`` looks at
    each outcome. Returns ``inside`` (holders at the end), ``peak`` (most at once) and ``acquired``."""
    state = {"inside": 0, "peak": 0, "acquired": 0}
    meta = threading.Lock()  # guards the bookkeeping only

    async def worker(t: Task, seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(40):
            choice = rng.random()
            got = False
            if choice < 0.4:
                got = await acquire(t, primitive, timeout=rng.choice([0, 1e-4, 1e-3, 5e-3]))
            elif choice < 0.7 and t.library != "threading":
                async with t.cancel_after(rng.uniform(0, 2e-3)):
                    got = await acquire(t, primitive)
            elif choice < 0.8:
                got = await acquire(t, primitive, blocking=False)
            else:
                got = await acquire(t, primitive, timeout=10)
            check(t, got)
            if got:
                with meta:
                    state["inside"] += 1
                    state["acquired"] += 1
                    state["peak"] = max(state["peak"], state["inside"])
                await t.sleep(rng.choice([0, 0, 1e-4]))
                with meta:
                    state["inside"] -= 1
                release(t, primitive)

    async def body(t: Task, seed: int) -> None:
        await t.gather(lambda t: worker(t, seed), lambda t: worker(t, seed + 1))

    runners = [Running(library, body, 10 * index) for index, library in enumerate(LIBRARIES)]
    for runner in runners:
        runner.result(timeout=50)
    return state


# --- whether a call yields to its scheduler (events, barriers) ---------------------------------------------


def gate_for(library: str) -> Any:
    """A low-level event a body of ``library`` can wait on and any thread can set."""
    return create_green_event() if library in GREEN else create_async_event()


async def call_plain(t: Task, function: Callable[[], object]) -> None:
    function()


CANCELLED = object()


async def switched(t: Task, make_call: Callable[[], Awaitable[Any]]) -> tuple[Any, bool | None]:
    """Run one aiologic call; return ``(result or raised exception, whether it yielded to the scheduler)``.

    A yield is detected by something queued just before the call getting to run during it (a greenlet, an
    asyncio callback, a curio task), or, on trio, by an already-cancelled scope delivering its cancellation
    (then the result is ``CANCELLED``). A thread's yield cannot be observed: ``None``.
    """
    ran: list[int] = []

    async def outcome() -> Any:
        try:
            return await make_call()
        except Exception as exc:
            return exc

    if t.library == "threading":
        return await outcome(), None
    if t.library in ("gevent", "eventlet"):
        side = sys.modules[t.library].spawn(ran.append, 1)
        result = await outcome()
        yielded = bool(ran)
        if t.library == "gevent":
            side.join()
        else:
            side.wait()
        return result, yielded
    if t.library == "curio":
        import curio

        async def append() -> None:
            ran.append(1)

        task = await curio.spawn(append)
        result = await outcome()
        yielded = bool(ran)
        await task.join()
        return result, yielded
    if t.backend == "asyncio":
        asyncio.get_running_loop().call_soon(ran.append, 1)
        result = await outcome()
        return result, bool(ran)
    import trio

    result = CANCELLED
    with trio.CancelScope() as scope:
        scope.cancel()
        result = await outcome()
    return result, scope.cancelled_caught


class Arrivals:
    """``count`` tasks of one ``library`` world, each awaiting ``call(t)`` once let in: the test admits them
    one by one, so their arrival order is its own. ``resumed`` lists their indices in the order their calls
    returned; ``result()`` joins the world and gives each call's result, by index."""

    def __init__(self, library: str, count: int, call: Callable[[Task], Awaitable[Any]]) -> None:
        self._gates = [gate_for(library) for _ in range(count)]
        self.resumed: list[int] = []

        async def one(t: Task, index: int) -> Any:
            assert await t.wait(self._gates[index], 10)
            result = await call(t)
            self.resumed.append(index)
            return result

        async def body(t: Task) -> list[Any]:
            return await t.gather(*[lambda t, index=index: one(t, index) for index in range(count)])

        self._running = Running(library, body)

    def admit(self, index: int, until: Callable[[], object] | None = None) -> None:
        """Let task ``index`` make its call; then, if given, wait until ``until()`` holds (it has parked)."""
        self._gates[index].set()
        if until is not None:
            wait_until(until)

    def result(self) -> list[Any]:
        return self._running.result()  # type: ignore[no-any-return]


# --- whole programs --------------------------------------------------------------------------------------


def run_program(code: str) -> str:
    """Run ``code`` (dedented) in a fresh interpreter, so what it patches stays there; return its stdout."""
    try:
        done = subprocess.run(
            [sys.executable, "-W", "ignore::DeprecationWarning", "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=45,  # inside pytest-timeout's 60 s, so that a hang is reported with what it printed
        )
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr
        raise AssertionError(f"the program hung; its stderr:\n{stderr}") from None
    assert done.returncode == 0, done.stderr
    return done.stdout


# A program fragment (for run_program): a ThreadingHTTPServer on 127.0.0.1 that answers GET with the path,
# serving from a thread; ``url`` is its address and ``stop_serving()`` shuts it down.
HELLO_SERVER = """
    import http.server, threading

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = self.path.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"

    def stop_serving():
        server.shutdown()
        server.server_close()
        serving.join(10)
"""
