"""aiologic.lowlevel beyond the event waits: detection, identities, checkpoints, time, shield, singletons."""

from __future__ import annotations

import _thread
import asyncio
import contextvars
import copy
import json
import math
import os
import pickle
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from typing import Any

import eventlet
import eventlet.hubs
import gevent
import greenlet
import pytest
import sniffio
import trio

import aiologic.lowlevel as ll
from aiologic.lowlevel import (
    CANCELLED_EVENT,
    DUMMY_EVENT,
    SET_EVENT,
    AsyncEvent,
    AsyncLibraryNotFoundError,
    CancelledEvent,
    DummyEvent,
    GreenEvent,
    GreenLibraryNotFoundError,
    SetEvent,
    async_checkpoint,
    async_checkpoint_enabled,
    async_checkpoint_if_cancelled,
    async_clock,
    async_sleep,
    async_sleep_forever,
    async_sleep_until,
    create_async_event,
    create_green_event,
    current_async_library,
    current_async_library_tlocal,
    current_async_task,
    current_async_task_ident,
    current_async_token,
    current_async_token_ident,
    current_green_library,
    current_green_library_tlocal,
    current_green_task,
    current_green_task_ident,
    current_green_token,
    current_green_token_ident,
    current_thread,
    current_thread_ident,
    disable_checkpoints,
    disable_signal_safety,
    enable_checkpoints,
    enable_signal_safety,
    green_checkpoint,
    green_checkpoint_enabled,
    green_checkpoint_if_cancelled,
    green_clock,
    green_sleep,
    green_sleep_forever,
    green_sleep_until,
    shield,
    signal_safety_enabled,
)
from harness import Task, curio, run

CHECKPOINT_VARIABLES = [
    name for name in os.environ if name.startswith("AIOLOGIC_") and name.endswith("CHECKPOINTS")
]
needs_default_checkpoints = pytest.mark.skipif(
    bool(CHECKPOINT_VARIABLES), reason=f"checkpoint defaults changed by {CHECKPOINT_VARIABLES}"
)

needs_curio = pytest.mark.skipif(curio is None, reason="curio 1.6 does not import on Python 3.12+")


def in_thread(function: Callable[[], Any]) -> Any:
    """Call ``function`` in a fresh plain thread (no hub, no loop, no overrides) and return its result."""
    outcome: list[tuple[bool, Any]] = []

    def main() -> None:
        try:
            outcome.append((True, function()))
        except BaseException as exc:
            outcome.append((False, exc))

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the thread did not finish"
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


def clean_environ(**variables: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIOLOGIC_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(variables)
    return env


def run_python(script: str, **variables: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=30,
        env=clean_environ(**variables),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# ---------------------------------------------------------------------------------------------------------
# Library detection
# ---------------------------------------------------------------------------------------------------------


def test_green_library_per_library(green_library: str) -> None:
    async def body(t: Task) -> tuple[str, str]:
        return current_green_library(), current_green_library(failsafe=True)

    assert run(green_library, body) == (green_library, green_library)


def test_green_library_is_threading_when_only_imported() -> None:
    def probe() -> tuple[bool, bool, str]:
        return "gevent" in sys.modules, "eventlet" in sys.modules, current_green_library()

    assert in_thread(probe) == (True, True, "threading")


def test_green_library_follows_hub_creation() -> None:
    def probe() -> list[str]:
        seen = [current_green_library()]
        hub = gevent.get_hub()
        try:
            seen.append(current_green_library())
        finally:
            hub.destroy(destroy_loop=True)
        seen.append(current_green_library())
        eventlet.hubs.get_hub()
        try:
            seen.append(current_green_library())
            hub = gevent.get_hub()  # both hubs exist: gevent wins
            try:
                seen.append(current_green_library())
            finally:
                hub.destroy(destroy_loop=True)
        finally:
            eventlet.hubs._threadlocal.__dict__.pop("hub", None)
        seen.append(current_green_library())
        return seen

    assert in_thread(probe) == ["threading", "gevent", "threading", "eventlet", "gevent", "threading"]


def test_green_library_override_is_thread_local() -> None:
    in_other_thread: list[str] = []

    def probe() -> list[str]:
        assert current_green_library_tlocal.name is None
        current_green_library_tlocal.name = "eventlet"
        try:
            seen = [current_green_library()]
            in_other_thread.append(in_thread(current_green_library))
        finally:
            current_green_library_tlocal.name = None
        seen.append(current_green_library())
        return seen

    assert in_thread(probe) == ["eventlet", "threading"]
    assert in_other_thread == ["threading"]


def test_green_library_override_wins_over_hub() -> None:
    async def body(t: Task) -> tuple[str, tuple[str, int]]:
        current_green_library_tlocal.name = "threading"
        try:
            return current_green_library(), current_green_task_ident()
        finally:
            current_green_library_tlocal.name = None

    name, ident = run("gevent", body)
    assert name == "threading"
    assert ident[0] == "threading"


def test_async_library_per_library(async_library: str) -> None:
    async def body(t: Task) -> tuple[str | None, str | None]:
        return current_async_library(), current_async_library(failsafe=True)

    backend = async_library.removeprefix("anyio-")
    assert run(async_library, body) == (backend, backend)


def test_async_library_not_found_outside() -> None:
    def probe() -> tuple[str | None, str]:
        with pytest.raises(AsyncLibraryNotFoundError, match="unknown async library, or not in async context"):
            current_async_library()
        for function in (current_async_task, current_async_task_ident, current_async_token, async_clock):
            with pytest.raises(AsyncLibraryNotFoundError):
                function()
        return current_async_library(failsafe=True), current_green_library(failsafe=True)

    assert in_thread(probe) == (None, "threading")


def test_async_library_not_found_in_green_runs(green_library: str) -> None:
    async def body(t: Task) -> str | None:
        return current_async_library(failsafe=True)

    assert run(green_library, body) is None


def test_error_classes() -> None:
    assert AsyncLibraryNotFoundError is sniffio.AsyncLibraryNotFoundError
    assert issubclass(AsyncLibraryNotFoundError, RuntimeError)
    assert issubclass(GreenLibraryNotFoundError, RuntimeError)
    assert current_async_library_tlocal is sniffio.thread_local


def test_async_library_override_is_sniffio_thread_local() -> None:
    in_other_thread: list[str | None] = []

    def probe() -> list[str | None]:
        current_async_library_tlocal.name = "curio"
        try:
            seen = [current_async_library(), sniffio.current_async_library()]
            in_other_thread.append(in_thread(lambda: current_async_library(failsafe=True)))
        finally:
            current_async_library_tlocal.name = None
        seen.append(current_async_library(failsafe=True))
        sniffio.thread_local.name = "trio"
        try:
            seen.append(current_async_library())
        finally:
            sniffio.thread_local.name = None
        return seen

    assert in_thread(probe) == ["curio", "curio", None, "trio"]
    assert in_other_thread == [None]


def test_unknown_overridden_library_is_unsupported() -> None:
    def probe() -> int:
        checked = 0
        current_green_library_tlocal.name = "twisted"
        current_async_library_tlocal.name = "twisted"
        try:
            assert current_green_library() == "twisted"
            assert current_async_library() == "twisted"
            for function in (
                current_green_task,
                current_green_task_ident,
                current_green_token,
                current_async_task,
                current_async_task_ident,
                current_async_token,
                current_async_token_ident,
            ):
                with pytest.raises(RuntimeError, match="unsupported"):
                    function()
                checked += 1
        finally:
            current_green_library_tlocal.name = None
            current_async_library_tlocal.name = None
        return checked

    assert in_thread(probe) == 7


# ---------------------------------------------------------------------------------------------------------
# Signal safety
# ---------------------------------------------------------------------------------------------------------


def test_signal_safety_hides_libraries(library: str) -> None:
    async def body(t: Task) -> list[object]:
        seen: list[object] = [signal_safety_enabled()]
        with enable_signal_safety() as value:
            seen += [value, signal_safety_enabled(), current_green_library()]
            seen.append(current_async_library(failsafe=True))
            with pytest.raises(AsyncLibraryNotFoundError):
                current_async_library()
            with disable_signal_safety():
                seen.append(signal_safety_enabled())
            seen.append(signal_safety_enabled())
        seen.append(signal_safety_enabled())
        seen.append(current_green_library() if t.green else current_async_library())
        return seen

    expected = [False, True, True, "threading", None, False, True, False]
    assert run(library, body) == [*expected, library.removeprefix("anyio-")]


def test_signal_safety_ignores_overrides() -> None:
    def probe() -> tuple[str, str | None]:
        current_green_library_tlocal.name = "gevent"
        current_async_library_tlocal.name = "trio"
        try:
            with enable_signal_safety():
                return current_green_library(), current_async_library(failsafe=True)
        finally:
            current_green_library_tlocal.name = None
            current_async_library_tlocal.name = None

    assert in_thread(probe) == ("threading", None)


def test_signal_safety_decorates_functions() -> None:
    @enable_signal_safety
    def plain(x: int) -> tuple[int, bool]:
        """Docstring kept."""
        return x, signal_safety_enabled()

    def probe() -> list[object]:
        return [plain(3), plain.__name__, plain.__doc__, signal_safety_enabled()]

    assert in_thread(probe) == [(3, True), "plain", "Docstring kept.", False]

    @enable_signal_safety
    async def coroutine_function(x: int) -> tuple[int, bool, str | None]:
        await asyncio.sleep(0)
        return x, signal_safety_enabled(), current_async_library(failsafe=True)

    async def inner() -> tuple[bool, str | None]:
        await asyncio.sleep(0)
        return signal_safety_enabled(), current_async_library(failsafe=True)

    async def main() -> list[object]:
        seen: list[object] = [await coroutine_function(5), signal_safety_enabled()]
        seen.append(await enable_signal_safety(inner()))
        seen.append((signal_safety_enabled(), current_async_library()))
        async with enable_signal_safety() as value:
            seen.append((value, current_async_library(failsafe=True)))
        seen.append(current_async_library())
        return seen

    assert in_thread(lambda: asyncio.run(main())) == [
        (5, True, None),
        False,
        (True, None),
        (False, "asyncio"),
        (True, None),
        "asyncio",
    ]


def test_signal_safety_restored_after_exception() -> None:
    def probe() -> bool:
        with pytest.raises(KeyError), enable_signal_safety():
            raise KeyError("x")
        return signal_safety_enabled()

    assert in_thread(probe) is False


# ---------------------------------------------------------------------------------------------------------
# Identities
# ---------------------------------------------------------------------------------------------------------


def expected_green_ident(library: str) -> tuple[str, int]:
    if library == "threading":
        return ("threading", threading.get_ident())
    return (library, id(greenlet.getcurrent()))


async def expected_async_task(library: str) -> Any:
    if library == "curio":
        return await curio.current_task()
    if library == "trio":
        return trio.lowlevel.current_task()
    return asyncio.current_task()


def test_task_idents(library: str) -> None:
    both_alive = threading.Barrier(2)  # two live threads: their idents cannot be reused

    async def one(t: Task) -> tuple[Any, Any]:
        if t.library == "threading":
            both_alive.wait(10)
        if t.green:
            return current_green_task_ident(), expected_green_ident(t.library)
        expected = await expected_async_task(t.backend)
        assert current_async_task() is expected
        return current_async_task_ident(), (t.backend, id(expected))

    async def body(t: Task) -> list[tuple[Any, Any]]:
        return await t.gather(one, one)

    (first, first_expected), (second, second_expected) = run(library, body)
    assert first == first_expected
    assert second == second_expected
    assert first != second


def test_asyncio_identity_hint_is_checked() -> None:
    """The per-context asyncio identity hint never names another task, loop or thread."""

    def ident_and_expected() -> tuple[Any, Any]:
        return current_async_task_ident(), ("asyncio", id(asyncio.current_task()))

    async def in_task() -> tuple[Any, Any]:
        return ident_and_expected()

    async def main() -> None:
        mine = ident_and_expected()
        assert mine[0] == mine[1]
        assert ident_and_expected() == mine  # from the hint
        # A context shared by several tasks (3.11+), a task on a new loop in another thread that inherits
        # this context.
        if sys.version_info >= (3, 11):
            shared = contextvars.copy_context()
            for _ in range(3):
                found = await asyncio.create_task(in_task(), context=shared)
                assert found[0] == found[1] != mine[0]
        found = await asyncio.to_thread(asyncio.run, in_task())
        assert found[0] == found[1] != mine[0]
        assert ident_and_expected() == mine

    asyncio.run(main())
    loop = asyncio.new_event_loop()
    try:  # one loop run by two threads in turn
        first = loop.run_until_complete(in_task())
        second = in_thread_result(lambda: loop.run_until_complete(in_task()))
        assert first[0] == first[1] and second[0] == second[1]
    finally:
        loop.close()


def in_thread_result(function: Callable[[], Any]) -> Any:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join()
    return result[0]


def test_green_task_and_token(green_library: str) -> None:
    async def body(t: Task) -> None:
        if t.library == "threading":
            assert current_green_task() is threading.current_thread()
            assert current_green_token() is threading.current_thread()
            assert current_green_token_ident() == ("threading", threading.get_ident())
        else:
            hub = gevent.get_hub() if t.library == "gevent" else eventlet.hubs.get_hub()
            assert current_green_task() is greenlet.getcurrent()
            assert current_green_token() is hub
            assert current_green_token_ident() == (t.library, id(hub))
        # Whatever the green library, the OS thread is the harness's thread.
        assert current_thread() is threading.current_thread()
        assert current_thread_ident() == threading.get_ident() == _thread.get_ident()

    run(green_library, body)


def test_async_token(async_library: str) -> None:
    async def one(t: Task) -> tuple[Any, Any]:
        return current_async_token(), current_async_token_ident()

    async def body(t: Task) -> None:
        (token, ident), (other, other_ident) = await t.gather(one, one)
        assert token is other and ident == other_ident
        assert ident == (t.backend, id(token))
        if t.backend == "asyncio":
            assert token is asyncio.get_running_loop()
        elif t.backend == "trio":
            assert token is trio.lowlevel.current_trio_token()
        else:
            assert isinstance(token, curio.Kernel)

    run(async_library, body)


@needs_curio
def test_curio_token_is_the_kernel() -> None:
    async def main() -> tuple[Any, tuple[str, int]]:
        return current_async_token(), current_async_token_ident()

    def probe() -> tuple[bool, bool]:
        with curio.Kernel() as kernel:
            token, ident = kernel.run(main)
        return token is kernel, ident == ("curio", id(kernel))

    assert in_thread(probe) == (True, True)


def test_current_thread_in_threads() -> None:
    def probe() -> tuple[bool, int, int]:
        return current_thread() is threading.current_thread(), current_thread_ident(), threading.get_ident()

    same, ident, expected = in_thread(probe)
    assert same
    assert ident == expected != threading.get_ident()


def test_current_thread_unknown_to_threading() -> None:
    done = threading.Event()
    outcome: list[object] = []

    def main() -> None:
        try:
            try:
                current_thread()
            except RuntimeError as exc:
                outcome.append(str(exc))
            outcome.append(current_thread_ident() == _thread.get_ident())
        finally:
            done.set()

    _thread.start_new_thread(main, ())
    assert done.wait(10)
    assert outcome == ["no current thread", True]


def test_originals_are_the_interpreters_after_eventlet_monkey_patching() -> None:
    """aiologic imported after ``eventlet.monkey_patch()`` still gets the interpreter's thread primitives.

    eventlet records its patching by keyword (``thread``), not by module (``_thread``, ``threading``,
    ``queue``): asking it about the module names alone returned the green stand-ins.
    """
    script = """
        import eventlet
        eventlet.monkey_patch()

        import _queue, queue, threading
        from aiologic.lowlevel._threads import allocate_lock, get_ident, original

        # one OS thread has one identity, whichever greenthread asks
        idents = [eventlet.spawn(get_ident).wait() for _ in range(3)]
        print(len(set(idents + [get_ident()])))

        # a thread-level wait blocks the OS thread: the hub does not run another greenthread meanwhile
        ran = []
        eventlet.spawn(ran.append, "greenthread")
        lock = allocate_lock()
        lock.acquire()
        print(lock.acquire(True, 0.05), ran)

        # a name eventlet replaced: the standard library's class, with its protocol
        print(original("queue", "Queue")().mutex is not None)
        print(original("queue", "SimpleQueue") is _queue.SimpleQueue)
        # a name eventlet left alone: the very object that code already holds
        print(original("threading", "Event") is threading.Event)
    """
    assert run_python(script).split() == ["1", "False", "[]", "True", "True", "True"]


# ---------------------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------------------


@needs_default_checkpoints
def test_checkpoint_defaults(library: str) -> None:
    async def body(t: Task) -> bool:
        return green_checkpoint_enabled() if t.green else async_checkpoint_enabled()

    assert run(library, body) is (library.removeprefix("anyio-") == "trio")


CHECKPOINTS_SCRIPT = """
    import json, os, sniffio
    from aiologic.lowlevel import (
        async_checkpoint_enabled, current_green_library_tlocal, green_checkpoint_enabled,
    )

    def report():
        result = {}
        for library in ("threading", "gevent", "eventlet"):
            current_green_library_tlocal.name = library
            result[library] = green_checkpoint_enabled()
        current_green_library_tlocal.name = None
        for library in ("asyncio", "curio", "trio"):
            sniffio.thread_local.name = library
            result[library] = async_checkpoint_enabled()
        sniffio.thread_local.name = None
        return result

    first = report()
    for side in ("ASYNC", "GREEN", "ASYNCIO", "CURIO", "TRIO", "THREADING", "GEVENT", "EVENTLET"):
        os.environ["AIOLOGIC_%s_CHECKPOINTS" % side] = "1" if first.get(side.lower()) is False else ""
    assert report() == first, "the environment must be read only once, at import"
    print(json.dumps(first))
"""

_OFF = {
    "threading": False,
    "gevent": False,
    "eventlet": False,
    "asyncio": False,
    "curio": False,
    "trio": False,
}


@pytest.mark.parametrize(
    ("variables", "enabled"),
    [
        ({}, {"trio"}),
        ({"AIOLOGIC_ASYNC_CHECKPOINTS": "1"}, {"asyncio", "curio", "trio"}),
        ({"AIOLOGIC_ASYNC_CHECKPOINTS": "0"}, {"asyncio", "curio", "trio"}),
        ({"AIOLOGIC_ASYNC_CHECKPOINTS": ""}, set()),
        ({"AIOLOGIC_GREEN_CHECKPOINTS": "yes"}, {"threading", "gevent", "eventlet", "trio"}),
        ({"AIOLOGIC_GREEN_CHECKPOINTS": ""}, {"trio"}),
        ({"AIOLOGIC_ASYNC_CHECKPOINTS": "1", "AIOLOGIC_CURIO_CHECKPOINTS": ""}, {"asyncio", "trio"}),
        ({"AIOLOGIC_ASYNC_CHECKPOINTS": "", "AIOLOGIC_ASYNCIO_CHECKPOINTS": "0"}, {"asyncio"}),
        ({"AIOLOGIC_TRIO_CHECKPOINTS": ""}, set()),
        ({"AIOLOGIC_CURIO_CHECKPOINTS": "0"}, {"curio", "trio"}),
        (
            {
                "AIOLOGIC_GREEN_CHECKPOINTS": "1",
                "AIOLOGIC_EVENTLET_CHECKPOINTS": "",
                "AIOLOGIC_ASYNCIO_CHECKPOINTS": "on",
            },
            {"threading", "gevent", "asyncio", "trio"},
        ),
        ({"AIOLOGIC_GEVENT_CHECKPOINTS": "0", "AIOLOGIC_THREADING_CHECKPOINTS": ""}, {"gevent", "trio"}),
    ],
    ids=lambda value: (
        ",".join(f"{k.removeprefix('AIOLOGIC_')}={v!r}" for k, v in value.items())
        if isinstance(value, dict)
        else None
    ),
)
def test_checkpoint_environment(variables: dict[str, str], enabled: set[str]) -> None:
    expected = {library: library in enabled for library in _OFF}
    assert json.loads(run_python(CHECKPOINTS_SCRIPT, **variables)) == expected


def test_enable_disable_checkpoints_context_managers() -> None:
    def probe() -> list[object]:
        seen: list[object] = [green_checkpoint_enabled()]
        with enable_checkpoints() as value:
            seen += [value, green_checkpoint_enabled()]
            with disable_checkpoints() as inner:
                seen += [inner, green_checkpoint_enabled()]
                with enable_checkpoints():
                    seen.append(green_checkpoint_enabled())
                seen.append(green_checkpoint_enabled())
            seen.append(green_checkpoint_enabled())
        seen.append(green_checkpoint_enabled())
        with pytest.raises(ZeroDivisionError), enable_checkpoints():
            1 / 0  # noqa: B018
        seen.append(green_checkpoint_enabled())
        manager = enable_checkpoints()  # one object, entered twice (nested)
        with manager:
            with disable_checkpoints():
                with manager:
                    seen.append(green_checkpoint_enabled())
                seen.append(green_checkpoint_enabled())
            seen.append(green_checkpoint_enabled())
        seen.append(green_checkpoint_enabled())
        return seen

    if CHECKPOINT_VARIABLES:
        pytest.skip(f"checkpoint defaults changed by {CHECKPOINT_VARIABLES}")
    assert in_thread(probe) == [
        *(False, True, True, False, False, True, False, True, False),
        False,
        *(True, False, True, False),
    ]


@needs_default_checkpoints
def test_checkpoints_override_applies_to_async_libraries(async_library: str) -> None:
    async def body(t: Task) -> list[bool]:
        seen = [async_checkpoint_enabled()]
        async with enable_checkpoints() as on:
            seen += [on, async_checkpoint_enabled()]
            async with disable_checkpoints() as off:
                seen += [off, async_checkpoint_enabled()]
            seen.append(async_checkpoint_enabled())
        seen.append(async_checkpoint_enabled())
        return seen

    default = async_library.removeprefix("anyio-") == "trio"
    assert run(async_library, body) == [default, True, True, False, False, True, default]


@needs_default_checkpoints
def test_checkpoints_decorators_and_awaitables() -> None:
    @enable_checkpoints
    def plain(x: int) -> tuple[int, bool]:
        return x, green_checkpoint_enabled()

    @disable_checkpoints
    async def trio_function() -> bool:
        await trio.sleep(0)
        return async_checkpoint_enabled()

    async def asyncio_probe() -> bool:
        await asyncio.sleep(0)
        return async_checkpoint_enabled()

    @enable_checkpoints
    async def asyncio_function() -> bool:
        return await asyncio_probe()

    async def asyncio_main() -> list[bool]:
        return [
            await asyncio_function(),
            async_checkpoint_enabled(),
            await enable_checkpoints(asyncio_probe()),
            async_checkpoint_enabled(),
            await disable_checkpoints(enable_checkpoints(asyncio_probe())),
        ]

    async def trio_main() -> list[bool]:
        return [await trio_function(), async_checkpoint_enabled()]

    assert in_thread(lambda: (plain(2), green_checkpoint_enabled())) == ((2, True), False)
    assert in_thread(lambda: asyncio.run(asyncio_main())) == [True, False, True, False, True]
    assert in_thread(lambda: trio.run(trio_main)) == [False, True]


@needs_default_checkpoints
def test_checkpoints_override_does_not_leak_to_other_threads() -> None:
    def probe() -> tuple[bool, bool, bool]:
        with enable_checkpoints():
            context = contextvars.copy_context()
            copied = in_thread(lambda: context.run(green_checkpoint_enabled))
            fresh = in_thread(green_checkpoint_enabled)
            return green_checkpoint_enabled(), copied, fresh

    assert in_thread(probe) == (True, False, False)


def test_checkpoint_yields_only_when_enabled(cancellable_library: str) -> None:
    """A concurrent task counts loop iterations: a disabled checkpoint lets it run zero times."""

    async def body(t: Task) -> tuple[int, int, int]:
        counter = 0
        stop = False

        async def ticker(t: Task) -> None:
            nonlocal counter
            while not stop:
                counter += 1
                await t.sleep(0)

        async def checkpoint(force: bool = False) -> None:
            if t.green:
                green_checkpoint(force=force)
            else:
                await async_checkpoint(force=force)

        async def checker(t: Task) -> tuple[int, int, int]:
            nonlocal stop
            try:
                await t.sleep(0)
                with disable_checkpoints():
                    before = counter
                    for _ in range(10):
                        await checkpoint()
                    default = counter - before
                    before = counter
                    for _ in range(10):
                        await checkpoint(force=True)
                    forced = counter - before
                with enable_checkpoints():
                    before = counter
                    for _ in range(10):
                        await checkpoint()
                    enabled = counter - before
                return default, forced, enabled
            finally:
                stop = True

        _, result = await t.gather(ticker, checker)
        return result  # type: ignore[no-any-return]

    disabled, forced, enabled = run(cancellable_library, body)
    assert disabled == 0
    assert forced >= 5
    assert enabled >= 5


@needs_default_checkpoints
def test_asyncio_checkpoint_does_not_yield_by_default() -> None:
    async def main() -> int:
        counter = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal counter
            while not stop.is_set():
                counter += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        before = counter
        for _ in range(20):
            await async_checkpoint()
            await async_checkpoint_if_cancelled()
        moved = counter - before
        stop.set()
        await task
        return moved

    assert in_thread(lambda: asyncio.run(main())) == 0


@needs_default_checkpoints
def test_trio_checkpoint_is_a_cancellation_point() -> None:
    async def main() -> list[object]:
        seen: list[object] = []
        with trio.CancelScope() as scope:
            scope.cancel()
            with disable_checkpoints():
                await async_checkpoint()  # disabled: no cancellation point
                await async_checkpoint_if_cancelled()
                seen.append("survived disabled")
            await async_checkpoint()
            seen.append("not reached")
        seen.append(scope.cancelled_caught)
        with trio.CancelScope() as scope:
            scope.cancel()
            with disable_checkpoints():
                await async_checkpoint(force=True)
            seen.append("not reached")
        seen.append(scope.cancelled_caught)
        with trio.CancelScope() as scope:
            scope.cancel()
            await async_checkpoint_if_cancelled()
            seen.append("not reached")
        seen.append(scope.cancelled_caught)
        with trio.CancelScope() as scope:
            await async_checkpoint_if_cancelled()  # nothing pending: returns
            seen.append("no cancellation")
        return seen

    assert in_thread(lambda: trio.run(main)) == [
        "survived disabled",
        True,
        True,
        True,
        "no cancellation",
    ]


@needs_default_checkpoints
@needs_curio
def test_curio_checkpoint_if_cancelled_raises_pending() -> None:
    async def main() -> list[object]:
        seen: list[object] = []
        await curio.set_cancellation(curio.TaskCancelled("pending"))
        await async_checkpoint_if_cancelled()  # checkpoints are off for curio: nothing happens
        seen.append("disabled: not raised")
        with enable_checkpoints():
            try:
                await async_checkpoint_if_cancelled()
            except curio.TaskCancelled:
                seen.append("raised")
        await curio.sleep(0)  # the pending cancellation was consumed
        seen.append("consumed")
        return seen

    assert in_thread(lambda: curio.run(main)) == ["disabled: not raised", "raised", "consumed"]


def test_green_checkpoint_if_cancelled_does_nothing(green_library: str) -> None:
    async def body(t: Task) -> tuple[Any, Any]:
        with enable_checkpoints():
            return green_checkpoint_if_cancelled(), green_checkpoint_if_cancelled(force=True)

    assert run(green_library, body) == (None, None)


# ---------------------------------------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------------------------------------


async def library_clock(t: Task) -> float:
    if t.library in ("threading", "gevent"):
        # gevent's own loop time (libev's ev_now) follows the wall clock, which is not monotonic: aiologic
        # serves gevent with the monotonic clock (its timers are relative, so sleeps agree with it).
        return time.monotonic()
    if t.library == "eventlet":
        return float(eventlet.hubs.get_hub().clock())
    if t.library == "curio":
        return float(await curio.clock())
    if t.backend == "trio":
        return float(trio.current_time())
    return asyncio.get_running_loop().time()


def test_clock_follows_library_clock(library: str) -> None:
    async def body(t: Task) -> tuple[float, float, float, float]:
        clock = green_clock if t.green else async_clock
        first = clock()
        own = await library_clock(t)
        await t.sleep(0.02)
        second = clock()
        own_after = await library_clock(t)
        return first, own, second, own_after

    first, own, second, own_after = run(library, body)
    assert second >= first + 0.015
    assert abs(first - own) < 0.5
    assert abs(second - own_after) < 0.5


def test_sleep_sleeps(library: str) -> None:
    async def body(t: Task) -> tuple[object, float, object, float]:
        start = time.monotonic()
        result = await t.call(green_sleep, async_sleep, 0.05)
        slept = time.monotonic() - start
        start = time.monotonic()
        zero = await t.call(green_sleep, async_sleep, 0)
        return result, slept, zero, time.monotonic() - start

    result, slept, zero, zero_time = run(library, body)
    assert result is None and zero is None
    assert slept >= 0.9 * 0.05
    assert zero_time < 1


def test_sleep_until(library: str) -> None:
    async def body(t: Task) -> tuple[float, float]:
        clock = green_clock if t.green else async_clock
        start = time.monotonic()
        await t.call(green_sleep_until, async_sleep_until, clock() - 100)
        past = time.monotonic() - start
        start = time.monotonic()
        await t.call(green_sleep_until, async_sleep_until, clock() + 0.05)
        return past, time.monotonic() - start

    past, future = run(library, body)
    assert past < 1
    assert future >= 0.9 * 0.05


@pytest.mark.parametrize(
    ("function", "value", "message"),
    [
        ("sleep", -1, "seconds must be non-negative"),
        ("sleep", -0.001, "seconds must be non-negative"),
        ("sleep", math.nan, ""),
        ("sleep_until", math.nan, "deadline must be non-NaN"),
    ],
)
def test_sleep_rejects_bad_values(library: str, function: str, value: float, message: str) -> None:
    async def body(t: Task) -> str:
        green = getattr(ll, f"green_{function}")
        async_ = getattr(ll, f"async_{function}")
        with pytest.raises(ValueError, match=re.escape(message) if message else None) as info:
            await t.call(green, async_, value)
        return str(info.value)

    assert message in run(library, body)


@pytest.mark.parametrize("forever", ["sleep_forever", "sleep_inf"])
def test_sleep_forever_ends_only_by_cancellation(cancellable_library: str, forever: str) -> None:
    async def body(t: Task) -> tuple[bool, float, bool]:
        start = time.monotonic()
        returned = False
        async with t.cancel_after(0.05) as scope:
            if forever == "sleep_forever":
                await t.call(green_sleep_forever, async_sleep_forever)
            else:
                await t.call(green_sleep, async_sleep, math.inf)
            returned = True
        return scope.cancelled, time.monotonic() - start, returned

    cancelled, elapsed, returned = run(cancellable_library, body)
    assert cancelled
    assert not returned
    assert elapsed >= 0.9 * 0.05


def test_green_sleep_forever_in_thread_ends_by_exception() -> None:
    script = """
        import os, signal, threading, time
        from aiologic.lowlevel import green_sleep_forever

        # A parent started in the background by a non-interactive shell passes SIGINT on as ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)

        def interrupt():
            time.sleep(0.1)
            os.kill(os.getpid(), signal.SIGINT)

        threading.Thread(target=interrupt).start()
        start = time.monotonic()
        try:
            green_sleep_forever()
        except KeyboardInterrupt:
            print("interrupted", time.monotonic() - start >= 0.09)
    """
    assert run_python(script).split() == ["interrupted", "True"]


# ---------------------------------------------------------------------------------------------------------
# shield
# ---------------------------------------------------------------------------------------------------------


def test_shield_asyncio_task_cancel() -> None:
    async def main() -> tuple[list[str], list[list[str]], bool]:
        log: list[str] = []
        observed: list[list[str]] = []
        started = asyncio.Event()

        async def inner() -> int:
            started.set()
            await asyncio.sleep(0.05)
            log.append("inner done")
            return 42

        async def caller() -> None:
            try:
                log.append(f"result {await shield(inner())}")
            except asyncio.CancelledError:
                observed.append(list(log))
                raise

        task = asyncio.create_task(caller())
        await started.wait()
        task.cancel()
        await asyncio.sleep(0.01)
        task.cancel()  # a second cancellation while shielded
        with pytest.raises(asyncio.CancelledError):
            await task
        return log, observed, task.cancelled()

    assert in_thread(lambda: asyncio.run(main())) == (["inner done"], [["inner done"]], True)


def test_shield_asyncio_returns_result() -> None:
    @shield
    async def function(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    async def main() -> tuple[int, int, str]:
        async def value() -> int:
            return 5

        return await function(4), await shield(value()), function.__name__

    assert in_thread(lambda: asyncio.run(main())) == (8, 5, "function")


def test_shield_trio_cancelled_scope() -> None:
    async def main() -> tuple[list[str], list[list[str]], bool]:
        log: list[str] = []
        observed: list[list[str]] = []

        @shield
        async def inner(x: int) -> int:
            await trio.sleep(0.02)
            log.append("inner done")
            return x

        with trio.CancelScope() as scope:
            scope.cancel()
            try:
                log.append(f"result {await inner(7)}")
                await trio.lowlevel.checkpoint()  # the cancellation surfaces here at the latest
                log.append("not reached")
            except trio.Cancelled:
                observed.append(list(log))
                raise
        return log, observed, scope.cancelled_caught

    log, observed, caught = in_thread(lambda: trio.run(main))
    assert caught
    assert log[:1] == ["inner done"]
    assert "not reached" not in log
    assert [seen[:1] for seen in observed] == [["inner done"]]


@needs_curio
def test_shield_curio_task_cancel() -> None:
    async def main() -> tuple[list[str], list[list[str]], bool]:
        log: list[str] = []
        observed: list[list[str]] = []
        started = curio.Event()

        async def inner() -> int:
            await started.set()
            await curio.sleep(0.05)
            log.append("inner done")
            return 42

        async def caller() -> None:
            try:
                log.append(f"result {await shield(inner())}")
                await curio.sleep(0)  # the cancellation surfaces here at the latest
                log.append("not reached")
            except curio.CancelledError:
                observed.append(list(log))
                raise

        task = await curio.spawn(caller)
        await started.wait()
        await task.cancel()
        return log, observed, task.cancelled

    log, observed, cancelled = in_thread(lambda: curio.run(main))
    assert cancelled
    assert log[:1] == ["inner done"]
    assert "not reached" not in log
    assert [seen[:1] for seen in observed] == [["inner done"]]


def test_shield_under_timeouts(cancellable_library: str) -> None:
    """Each library's own timeout interrupts the caller; the shielded call still runs to completion."""

    async def body(t: Task) -> tuple[bool, list[str], list[list[str]]]:
        log: list[str] = []
        observed: list[list[str]] = []

        def green_inner() -> int:
            (gevent if t.library == "gevent" else eventlet).sleep(0.1)
            log.append("inner done")
            return 1

        async def async_inner() -> int:
            await t.sleep(0.1)
            log.append("inner done")
            return 1

        async with t.cancel_after(0.01) as scope:
            try:
                result = shield(green_inner)() if t.green else await shield(async_inner())
                log.append(f"result {result}")
                await t.sleep(0)  # the cancellation surfaces here at the latest
                log.append("not reached")
            except BaseException:
                observed.append(list(log))
                raise
        return scope.cancelled, log, observed

    cancelled, log, observed = run(cancellable_library, body)
    assert cancelled
    assert "not reached" not in log
    assert [seen[:1] for seen in observed] == [["inner done"]]


def test_shield_gevent_timeout_reraised() -> None:
    async def body(t: Task) -> tuple[bool, list[str], int]:
        log: list[str] = []

        def inner(x: int) -> int:
            gevent.sleep(0.1)
            log.append("inner done")
            return x

        timeout = gevent.Timeout.start_new(0.01)
        try:
            shield(inner)(3)
        except gevent.Timeout as exc:
            return exc is timeout, log, shield(inner)(4)
        finally:
            timeout.cancel()
        return False, log, 0

    assert run("gevent", body) == (True, ["inner done", "inner done"], 4)


def test_shield_gevent_kill_completes_then_exits() -> None:
    async def body(t: Task) -> tuple[list[str], bool]:
        import gevent.event

        log: list[str] = []
        started = gevent.event.Event()

        def inner() -> None:
            started.set()
            gevent.sleep(0.05)
            log.append("inner done")

        def caller() -> None:
            try:
                shield(inner)()
                log.append("returned")
            except gevent.GreenletExit:
                log.append("exit")
                raise

        victim = gevent.spawn(caller)
        started.wait(10)
        victim.kill(block=True, timeout=10)
        return log, isinstance(victim.value, gevent.GreenletExit)

    assert run("gevent", body) == (["inner done", "exit"], True)


def test_shield_green_callable_in_threads() -> None:
    def probe() -> tuple[int, str]:
        wrapped = shield(lambda x, y=0: x + y)
        return wrapped(1, y=2), wrapped.__name__

    assert in_thread(probe) == (3, "<lambda>")


# ---------------------------------------------------------------------------------------------------------
# Singleton events
# ---------------------------------------------------------------------------------------------------------

SINGLETONS = [(SET_EVENT, True), (DUMMY_EVENT, True), (CANCELLED_EVENT, False)]


@pytest.mark.parametrize(("event", "expected"), SINGLETONS, ids=["SET", "DUMMY", "CANCELLED"])
def test_singleton_waits(library: str, event: Any, expected: bool) -> None:
    async def body(t: Task) -> list[bool]:
        results = [await t.wait(event), await t.wait(event, 0), await t.wait(event, 10)]
        if not t.green:
            results.append(await event)
        return results

    assert run(library, body) == [expected] * (3 if library in ("threading", "gevent", "eventlet") else 4)


@needs_default_checkpoints
def test_singleton_wait_is_a_trio_checkpoint() -> None:
    async def main() -> list[bool]:
        caught = []
        for event in (SET_EVENT, CANCELLED_EVENT):
            with trio.CancelScope() as scope:
                scope.cancel()
                await event
            caught.append(scope.cancelled_caught)
        return caught

    assert in_thread(lambda: trio.run(main)) == [True, True]


@pytest.mark.parametrize(("event", "expected"), SINGLETONS, ids=["SET", "DUMMY", "CANCELLED"])
def test_singleton_state(event: Any, expected: bool) -> None:
    assert event.set() is False
    assert event.set() is False
    assert event.is_set() is expected
    assert bool(event) is expected
    assert event.cancelled() is (not expected)
    assert event.shield is False and event.force is False
    for attribute in ("shield", "force"):
        with pytest.raises(AttributeError):
            setattr(event, attribute, True)
    assert event.shield is False and event.force is False
    assert pickle.loads(pickle.dumps(event)) is event
    assert copy.copy(event) is event
    assert copy.deepcopy(event) is event
    assert type(event)() is event
    assert event.is_set() is expected


def test_singleton_identities() -> None:
    assert SetEvent() is SET_EVENT
    assert DummyEvent() is DUMMY_EVENT
    assert CancelledEvent() is CANCELLED_EVENT
    assert DUMMY_EVENT is not SET_EVENT
    assert type(DUMMY_EVENT) is not type(SET_EVENT)


@pytest.mark.parametrize("base", [GreenEvent, AsyncEvent, SetEvent, DummyEvent, CancelledEvent])
def test_event_classes_are_final(base: type) -> None:
    with pytest.raises(TypeError):
        type("Sub", (base,), {})


def test_event_reprs() -> None:
    pattern = r"<aiologic\.lowlevel\.{}Event object at 0x[0-9a-f]+: {}>"
    green = create_green_event()
    assert re.fullmatch(pattern.format("Green", "unset"), repr(green))
    green.set()
    assert re.fullmatch(pattern.format("Green", "set"), repr(green))
    timed_out = create_green_event()
    assert timed_out.wait(0) is False
    assert re.fullmatch(pattern.format("Green", "cancelled"), repr(timed_out))
    async_event = create_async_event()
    assert re.fullmatch(pattern.format("Async", "unset"), repr(async_event))
    async_event.set()
    assert re.fullmatch(pattern.format("Async", "set"), repr(async_event))
    assert hex(id(green)) in repr(green)
    assert re.fullmatch(pattern.format("Set", "set"), repr(SET_EVENT))
    assert re.fullmatch(pattern.format("Cancelled", "cancelled"), repr(CANCELLED_EVENT))


# ---------------------------------------------------------------------------------------------------------
# Public surface
# ---------------------------------------------------------------------------------------------------------

DATA_OBJECTS = {
    "SET_EVENT",
    "DUMMY_EVENT",
    "CANCELLED_EVENT",
    "current_green_library_tlocal",
    "current_async_library_tlocal",
}


def test_public_names_report_public_module() -> None:
    assert len(ll.__all__) == len(set(ll.__all__)) >= 50
    checked = []
    for name in ll.__all__:
        value = getattr(ll, name)
        if name == "AsyncLibraryNotFoundError":
            assert value is sniffio.AsyncLibraryNotFoundError
            assert value.__module__.startswith("sniffio")
            continue
        if name in DATA_OBJECTS:
            continue
        assert value.__module__ == "aiologic.lowlevel", name
        checked.append(name)
    expected = {"shield", "GreenEvent", "async_checkpoint", "current_thread", "enable_checkpoints"}
    assert expected <= set(checked)
    for name in ("SET_EVENT", "DUMMY_EVENT", "CANCELLED_EVENT"):
        assert type(getattr(ll, name)).__module__ == "aiologic.lowlevel"


def test_current_thread_ident_reports_public_module() -> None:
    assert ll.current_thread_ident.__module__ == "aiologic.lowlevel"


def test_import_does_not_import_optional_libraries() -> None:
    script = """
        import sys
        import aiologic
        assert aiologic.lowlevel.current_green_library() == "threading"
        assert aiologic.lowlevel.current_async_library(failsafe=True) is None
        names = ("gevent", "eventlet", "trio", "anyio", "curio", "asyncio", "greenlet")
        print(sorted(name for name in names if name in sys.modules), hasattr(aiologic, "lowlevel"))
    """
    assert run_python(script).split() == ["[]", "True"]
