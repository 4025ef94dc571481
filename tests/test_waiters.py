"""Low-level events: every library parks on them and any thread wakes them, exactly once."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest

from aiologic.lowlevel import create_async_event, create_green_event
from harness import Running, Task, run, wait_until


def parked(event: object) -> bool:
    return bool(event._wake_slot)  # type: ignore[attr-defined]


async def wait_for(t: Task, event: object, timeout: float | None = None) -> bool:
    return await t.wait(event, timeout)


async def set_event(t: Task, event: object) -> bool:
    return event.set()  # type: ignore[attr-defined, no-any-return]


def test_wait_after_set_returns_true(library: str) -> None:
    async def body(t: Task) -> tuple[bool, bool]:
        event = t.create_event()
        assert event.set()
        return await t.wait(event), await t.wait(event, 0)

    assert run(library, body) == (True, True)


def test_woken_from_another_thread(library: str, other_library: str) -> None:
    """The waiter parks on ``library``; a task of ``other_library`` in another thread wakes it."""
    event = create_green_event() if library in ("threading", "gevent", "eventlet") else create_async_event()
    waiter = Running(library, wait_for, event, 10)
    wait_until(lambda: parked(event))
    assert run(other_library, set_event, event) is True
    assert waiter.result() is True
    assert event.is_set() and not event.cancelled()
    assert not event.set()


def test_woken_from_same_thread(library: str) -> None:
    async def body(t: Task) -> list[object]:
        event = t.create_event()

        async def waker(t: Task) -> bool:
            while not parked(event):
                await t.sleep(0.001)
            return event.set()

        # Plain threads gather in separate threads; the others run both tasks on this thread's loop or hub.
        return await t.gather(lambda t: wait_for(t, event, 10), waker)

    assert run(library, body) == [True, True]


@pytest.mark.parametrize("timeout", [0, 0.01])
def test_timeout_cancels_event(library: str, timeout: float) -> None:
    async def body(t: Task) -> tuple[bool, bool, bool, bool, bool]:
        event = t.create_event()
        result = await t.wait(event, timeout)
        return result, event.cancelled(), event.is_set(), event.set(), await t.wait(event)

    assert run(library, body) == (False, True, False, False, False)


@pytest.mark.parametrize("timeout", [-1, float("nan")])
def test_bad_timeout_is_rejected(library: str, timeout: float) -> None:
    async def body(t: Task) -> bool:
        event = t.create_event()
        with pytest.raises(ValueError, match="timeout must be"):
            await t.wait(event, timeout)
        return event.cancelled()

    assert run(library, body) is True


def test_bad_timeout_is_ignored_when_set(library: str) -> None:
    async def body(t: Task) -> bool:
        event = t.create_event()
        event.set()
        return await t.wait(event, -1)

    assert run(library, body) is True


def test_infinite_timeout_waits(library: str) -> None:
    event = create_green_event() if library in ("threading", "gevent", "eventlet") else create_async_event()
    waiter = Running(library, wait_for, event, float("inf"))
    wait_until(lambda: parked(event))
    event.set()
    assert waiter.result() is True


def test_external_cancellation_cancels_event(cancellable_library: str) -> None:
    async def body(t: Task) -> tuple[bool, bool, bool]:
        event = t.create_event()
        async with t.cancel_after(0.01) as scope:
            await t.wait(event)
        return scope.cancelled, event.cancelled(), event.set()

    assert run(cancellable_library, body) == (True, True, False)


def test_second_concurrent_wait_is_refused(library: str) -> None:
    event = create_green_event() if library in ("threading", "gevent", "eventlet") else create_async_event()
    waiter = Running(library, wait_for, event, 10)
    wait_until(lambda: parked(event))

    async def second(t: Task) -> None:
        with pytest.raises(RuntimeError, match="already in use"):
            await t.wait(event, 1)

    run(library, second)
    event.set()
    assert waiter.result() is True


def test_timeout_racing_set_never_loses_wakeup(library: str, other_library: str) -> None:
    """A timeout and a set() from another thread land at about the same moment, many times over.

    Exactly one side wins each time: either the wait reports the wake-up, or set() reports failure.
    """
    rounds = 40
    events = [
        create_green_event() if library in ("threading", "gevent", "eventlet") else create_async_event()
        for _ in range(rounds)
    ]
    ready = [threading.Event() for _ in range(rounds)]

    async def waiter(t: Task) -> list[bool]:
        results = []
        for event, flag in zip(events, ready, strict=True):
            flag.set()
            results.append(await t.wait(event, 0.002))
        return results

    async def setter(t: Task) -> list[bool]:
        results = []
        rng = random.Random(1)
        for event, flag in zip(events, ready, strict=True):
            flag.wait(10)
            await t.sleep(rng.uniform(0, 0.003))
            results.append(event.set())
        return results

    waiting = Running(library, waiter)
    set_results = run(other_library, setter)
    wait_results = waiting.result()
    assert wait_results == set_results
    for event, woken in zip(events, wait_results, strict=True):
        assert event.is_set() is woken
        assert event.cancelled() is not woken


def test_cancellation_racing_set_is_reported(cancellable_library: str) -> None:
    """An interrupted wait whose event was set anyway leaves the event set: the wake-up is not lost."""
    rounds = 40
    events = [
        create_green_event() if cancellable_library in ("gevent", "eventlet") else create_async_event()
        for _ in range(rounds)
    ]
    ready = [threading.Event() for _ in range(rounds)]

    async def waiter(t: Task) -> list[bool]:
        outcomes = []
        for event, flag in zip(events, ready, strict=True):
            flag.set()
            woken = False
            async with t.cancel_after(0.002):
                woken = await t.wait(event)
            outcomes.append(woken)
        return outcomes

    def setter() -> list[bool]:
        rng = random.Random(2)
        results = []
        for event, flag in zip(events, ready, strict=True):
            flag.wait(10)
            threading.Event().wait(rng.uniform(0, 0.003))
            results.append(event.set())
        return results

    waiting = Running(cancellable_library, waiter)
    set_results = setter()
    outcomes = waiting.result()
    for event, set_won, woken in zip(events, set_results, outcomes, strict=True):
        assert event.is_set() is set_won
        assert event.cancelled() is not set_won
        if woken:
            assert set_won


def test_asyncio_cancel_after_set_reports_set() -> None:
    import asyncio

    async def main() -> None:
        event = create_async_event()
        task = asyncio.ensure_future(event.with_())
        await asyncio.sleep(0)
        assert event.set()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert event.is_set() and not event.cancelled()

    asyncio.run(main())


def test_trio_cancel_after_set_completes_wait() -> None:
    """trio's rule: once rescheduled, a wait is no longer interrupted by cancellation."""
    import trio

    async def main() -> None:
        event = create_async_event()
        results = []
        async with trio.open_nursery() as nursery:

            async def waiter() -> None:
                results.append(await event)

            nursery.start_soon(waiter)
            await trio.testing.wait_all_tasks_blocked()
            assert event.set()
            nursery.cancel_scope.cancel()
        assert results == [True]

    import trio.testing

    trio.run(main)


def test_many_waiters_woken_at_once(library: str) -> None:
    count = 200

    async def body(t: Task) -> list[bool]:
        events = [t.create_event() for _ in range(count)]

        def set_all() -> None:
            wait_until(lambda: all(parked(event) for event in events))
            for event in events:
                event.set()

        setter = threading.Thread(target=set_all)
        setter.start()
        try:
            return await t.gather(*[lambda t, e=e: wait_for(t, e, 20) for e in events])
        finally:
            setter.join()

    assert run(library, body, timeout=60) == [True] * count


def test_keyboard_interrupt_during_wait_is_prompt() -> None:
    script = textwrap.dedent(
        """
        import os, signal, threading, time
        from aiologic.lowlevel import create_green_event

        # A shell that starts us in the background makes us inherit SIGINT as ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)

        event = create_green_event()

        def interrupt():
            while not event._wake_slot:
                time.sleep(0.001)
            os.kill(os.getpid(), signal.SIGINT)

        threading.Thread(target=interrupt).start()
        start = time.monotonic()
        try:
            event.wait()
        except KeyboardInterrupt:
            elapsed = time.monotonic() - start
            print("interrupted", event.cancelled(), event.set(), elapsed < 5)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.stdout.split() == ["interrupted", "True", "False", "True"], result.stderr


@pytest.mark.parametrize("order", ["eventlet-then-aiologic", "aiologic-then-eventlet"])
def test_eventlet_greenthread_woken_from_os_thread_under_monkey_patching(order: str) -> None:
    """An OS thread wakes a parked greenthread through the hub's self-pipe, which the hub itself reads: that
    read must be the interpreter's, not eventlet's green ``os.read`` (it refuses to run in the hub)."""
    imports = ["import eventlet; eventlet.monkey_patch()", "import aiologic.lowlevel"]
    if order == "aiologic-then-eventlet":
        imports.reverse()
    silence = r'import warnings; warnings.filterwarnings("ignore", r"\s*Eventlet is deprecated")'
    script = "\n".join([silence, *imports]) + textwrap.dedent(
        """
        import eventlet.patcher
        from aiologic.lowlevel import create_green_event
        from aiologic.lowlevel._threads import sleep

        start_os_thread = eventlet.patcher.original("_thread").start_new_thread
        events = [create_green_event() for _ in range(20)]

        def waker():
            for event in events:  # one at a time: each set() waits until its waiter is parked
                while not event._wake_slot:
                    sleep(0.001)
                event.set()

        def waiter():
            woken = 0
            for event in events:
                if not event.wait(10):
                    break  # a lost wake-up: the rest would be lost too
                woken += 1
            return woken

        greenthread = eventlet.spawn(waiter)
        start_os_thread(waker, ())
        print(greenthread.wait())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert (result.stdout.strip(), result.stderr) == ("20", "")


def test_events_refuse_pickling() -> None:
    import pickle

    with pytest.raises(TypeError, match="cannot reduce"):
        pickle.dumps(create_green_event())


# --- the primitives' asyncio park: the bare future, and the general path wherever it cannot be used -------


def _park_from_thread(make_awaitable: object) -> tuple[bool, bool]:
    """On a fresh asyncio loop: park a fresh event through ``_park``, set it from another thread; whether the
    park was the bare future, and what the wait returned."""
    import asyncio

    async def main() -> tuple[bool, bool]:
        event = create_async_event()
        awaitable = make_awaitable(event)  # type: ignore[operator]
        setter = threading.Thread(target=event.set)
        setter.start()
        try:
            return isinstance(awaitable, asyncio.Future), await awaitable
        finally:
            setter.join()

    return asyncio.run(main())


def test_asyncio_primitive_park_is_the_bare_future() -> None:
    assert _park_from_thread(lambda event: event._park(None)) == (True, True)


def test_asyncio_primitive_park_with_timeout_takes_the_general_path() -> None:
    assert _park_from_thread(lambda event: event._park(10)) == (False, True)


def test_asyncio_primitive_park_of_a_set_event_takes_the_general_path() -> None:
    def park(event: object) -> object:
        assert event.set()  # type: ignore[attr-defined]
        return event._park(None)  # type: ignore[attr-defined]

    assert _park_from_thread(park) == (False, True)


@pytest.mark.parametrize("override", ["sniffio context", "sniffio thread-local"])
def test_asyncio_primitive_park_under_a_library_override_takes_the_general_path(override: str) -> None:
    """Detection asks sniffio before the running loop, so the bare-future path steps aside for it."""
    import sniffio

    def park(event: object) -> object:
        if override == "sniffio context":
            sniffio.current_async_library_cvar.set("asyncio")  # inside main()'s task context only
            return event._park(None)  # type: ignore[attr-defined]
        sniffio.thread_local.name = "asyncio"
        try:
            return event._park(None)  # type: ignore[attr-defined]
        finally:
            sniffio.thread_local.name = None

    assert _park_from_thread(park) == (False, True)


def test_trio_guest_on_asyncio_parks_as_trio() -> None:
    """A trio guest run lives inside an asyncio loop: its tasks see that loop running, yet are trio's (trio
    names itself in sniffio's thread-local while a task runs), so a queue get parks them the trio way: the
    asyncio future would be a yield that trio cannot take. In a fresh interpreter, as trio's guest mode
    leaves an idle I/O thread behind for a while."""
    script = textwrap.dedent(
        """
        import asyncio, threading, trio
        from aiologic import Queue

        async def trio_main(queue):
            return await queue.async_get()

        async def host():
            loop = asyncio.get_running_loop()
            queue = Queue()
            done = loop.create_future()
            trio.lowlevel.start_guest_run(
                trio_main, queue, run_sync_soon_threadsafe=loop.call_soon_threadsafe,
                done_callback=done.set_result,
            )
            while not queue.getting:
                await asyncio.sleep(0.001)
            threading.Thread(target=queue.green_put, args=(7,)).start()
            return (await done).unwrap()

        print(asyncio.run(host()))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (result.stdout.strip(), result.stderr) == ("7", "")


# --- how other threads wake an asyncio loop: its own socket pair, or call_soon_threadsafe -------------------


def _woken_from_threads(loop_class: type, rounds: int = 3) -> tuple[list[bool], Any]:
    """On a fresh loop of ``loop_class``: ``rounds`` parks, each set from another thread; the results and
    the loop, closed. The loop keeps the same wake-up all along."""
    import asyncio

    async def main() -> list[bool]:
        results = []
        kept = []
        for _ in range(rounds):
            event = create_async_event()
            future = event._park(None)  # type: ignore[attr-defined]
            kept.append(_wakeup(asyncio.get_running_loop()))
            setter = threading.Thread(target=event.set)
            setter.start()
            results.append(await future)
            setter.join()
        assert all(wakeup is kept[0] for wakeup in kept)
        return results

    loop = loop_class()
    try:
        results = loop.run_until_complete(main())
    finally:
        loop.close()
    return results, loop


def _wakeup(loop: Any) -> Any:
    """What the loop kept as its wake-up (``None`` if nothing)."""
    return loop.__dict__.get("_aiologic_wakeup")


def test_asyncio_loop_keeps_one_wakeup() -> None:
    import asyncio

    results, loop = _woken_from_threads(asyncio.SelectorEventLoop, rounds=5)
    assert results == [True] * 5
    assert type(_wakeup(loop).__self__).__name__ == "_AsyncioWakeup"


def test_asyncio_loop_without_readers_is_woken_by_call_soon_threadsafe() -> None:
    import asyncio

    class NoReaders(asyncio.SelectorEventLoop):  # type: ignore[misc, valid-type]
        def add_reader(self, *args: object) -> None:
            raise NotImplementedError  # like the proactor loop

    results, loop = _woken_from_threads(NoReaders)
    assert results == [True, True, True]
    assert _wakeup(loop).func.__name__ == "_call_soon_threadsafe"


def test_asyncio_loop_refusing_attributes_is_woken_by_call_soon_threadsafe() -> None:
    import asyncio

    class NoAttributes(asyncio.SelectorEventLoop):  # type: ignore[misc, valid-type]
        def __setattr__(self, name: str, value: object) -> None:
            if name.startswith("_aiologic"):
                raise AttributeError(name)
            super().__setattr__(name, value)

    results, loop = _woken_from_threads(NoAttributes)
    assert results == [True, True, True]
    assert _wakeup(loop) is None


def test_asyncio_wakeup_after_the_loop_closed_is_dropped() -> None:
    """A thread that sets an event whose loop has closed meanwhile wakes nobody and raises nothing, with
    either wake-up."""
    import asyncio

    class NoReaders(asyncio.SelectorEventLoop):  # type: ignore[misc, valid-type]
        def add_reader(self, *args: object) -> None:
            raise NotImplementedError

    async def park(event: Any) -> Any:
        return event._park(None)  # parked, never awaited

    for loop_class in (asyncio.SelectorEventLoop, NoReaders):
        event = create_async_event()
        loop = loop_class()
        future = loop.run_until_complete(park(event))
        loop.close()
        outcome: list[bool] = []
        thread = threading.Thread(target=lambda: outcome.append(event.set()))  # noqa: B023
        thread.start()
        thread.join()
        assert outcome == [True] and not future.done()


def test_asyncio_wakeup_sockets_close_with_the_loop() -> None:
    import asyncio
    import gc

    _, loop = _woken_from_threads(asyncio.SelectorEventLoop, rounds=1)
    wakeup = _wakeup(loop).__self__
    sockets = [wakeup._recv_into.__self__, wakeup._send.__self__]
    assert all(sock.fileno() != -1 for sock in sockets)  # closing the loop leaves them to its collection
    del loop, wakeup
    gc.collect()
    assert all(sock.fileno() == -1 for sock in sockets)


def test_asyncio_wakeup_burst_from_a_thread_wakes_every_task() -> None:
    """5000 tasks parked on one loop, set by a thread while the loop drains: more bytes than one read takes,
    queued while earlier ones are being resolved."""
    import asyncio

    async def main() -> list[bool]:
        events = [create_async_event() for _ in range(5000)]
        tasks = [asyncio.ensure_future(_awaited(event._park(None))) for event in events]  # type: ignore[attr-defined]
        setter = threading.Thread(target=lambda: [event.set() for event in events])
        setter.start()
        try:
            return await asyncio.gather(*tasks)
        finally:
            setter.join()

    assert asyncio.run(main()) == [True] * 5000


async def _awaited(awaitable: Any) -> Any:
    return await awaitable
