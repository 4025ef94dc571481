"""Run one test body on every library aiologic supports.

A body is written once, as ``async def body(t, ...)``, against the small API of :class:`Task` below. On an
async library it runs as a real task. On a green library (threads, gevent, eventlet) the same coroutine is
driven synchronously: every ``await t.xxx(...)`` performs the blocking green call and completes at once, so
the coroutine never suspends. Each run happens in a fresh OS thread, so gevent and eventlet hubs stay confined
to that thread and are torn down with it; nothing is monkey-patched.
"""

from __future__ import annotations

import sys
import threading
import time

# Import every library once, in the main thread: importing eventlet in a worker thread makes that thread's
# join() hang (eventlet 0.41), and each import costs the first test that needs it.
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
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

from aiologic.lowlevel import create_async_event, create_green_event

GREEN = ("threading", "gevent", "eventlet")
ASYNC = ("asyncio", "trio", "anyio-asyncio", "anyio-trio") + (("curio",) if curio is not None else ())
LIBRARIES = GREEN + ASYNC
# Libraries whose waits can be interrupted from outside (threads have no such mechanism).
CANCELLABLE = tuple(name for name in LIBRARIES if name != "threading")


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
        if self.library in ("gevent", "eventlet"):
            return _GreenTimeoutScope(self.library, seconds)
        if self.library == "curio":
            return _curio_scope(seconds)
        if self.library == "threading":
            raise RuntimeError("threads cannot be interrupted from outside")
        return _anyio_scope(seconds)


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
