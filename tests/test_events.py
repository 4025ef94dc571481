"""aiologic.Event, REvent and CountdownEvent (spec §2, with the cross-cutting rules of §1).

Most tests run one body on every library (``library`` fixture). Mixed pairs park a waiter on one library in
its own thread and wake it from another library in another thread. Waiters are queued one after another by
releasing them through low-level "gates" and polling ``waiting`` with ``wait_until``, never by sleeping.
"""

from __future__ import annotations

import asyncio
import copy
import math
import os
import pickle
import re
import threading
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import aiologic
from aiologic._waiting import NO_WAITERS, _offered, waiter_queue
from aiologic.lowlevel import disable_checkpoints, enable_checkpoints
from aiologic.meta import DEFAULT
from harness import (
    ADDRESS,
    CANCELLED,
    FIFO_SCHEDULERS,
    GREEN,
    Arrivals,
    Running,
    Task,
    call_plain,
    run,
    switched,
    wait_until,
)

KINDS = ("Event", "REvent", "CountdownEvent")


def make(kind: str) -> tuple[Any, Callable[[], None]]:
    """An unset event of ``kind`` and the plain call that releases its waiters."""
    if kind == "Event":
        event = aiologic.Event()
        return event, event.set
    if kind == "REvent":
        revent = aiologic.REvent()

        def set_clear() -> None:  # must still release every waiter queued before set()
            revent.set()
            revent.clear()

        return revent, set_clear
    countdown = aiologic.CountdownEvent(1)
    return countdown, countdown.down


def make_set(kind: str) -> Any:
    """An event of ``kind`` that is set (a CountdownEvent at zero)."""
    if kind == "CountdownEvent":
        return aiologic.CountdownEvent()
    event = getattr(aiologic, kind)()
    event.set()
    return event


def wait(t: Task, event: Any, timeout: float | None = None) -> Awaitable[bool]:
    return t.call(event.wait, event.with_, timeout)  # type: ignore[no-any-return]


# --- object model, no waiting -------------------------------------------------------------------------


def test_class_hierarchy_and_api() -> None:
    assert issubclass(aiologic.REvent, aiologic.Event)
    assert not issubclass(aiologic.CountdownEvent, aiologic.Event)
    for cls in (aiologic.Event, aiologic.REvent, aiologic.CountdownEvent):
        assert cls.__module__ == "aiologic"
    assert not hasattr(aiologic.Event(), "clear")  # a one-shot event cannot be unset
    with pytest.raises(TypeError):
        aiologic.Event(1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        aiologic.REvent(1)  # type: ignore[call-arg]


@pytest.mark.parametrize("cls", [aiologic.Event, aiologic.REvent])
def test_set_is_plain_and_idempotent(cls: type[aiologic.Event]) -> None:
    event = cls()
    assert not event.is_set() and not event and event.waiting == 0
    assert event.set() is None
    assert event.is_set() and event
    assert event.set() is None
    assert event.is_set() and event


def test_revent_clear() -> None:
    event = aiologic.REvent()
    assert event.clear() is None  # clearing an unset event does nothing
    assert not event
    event.set()
    event.set()
    assert event.is_set()
    event.clear()
    assert not event.is_set() and not event
    event.clear()
    assert not event.is_set()
    event.set()
    assert event.is_set()


@pytest.mark.parametrize("cls", [aiologic.Event, aiologic.REvent])
def test_event_repr(cls: type[aiologic.Event]) -> None:
    event = cls()
    name = cls.__name__
    assert re.fullmatch(rf"<aiologic\.{name}\(\) at {ADDRESS} \[unset, waiting=0\]>", repr(event))
    assert repr(event).split()[2] == hex(id(event))
    event.set()
    assert re.fullmatch(rf"<aiologic\.{name}\(\) at {ADDRESS} \[set\]>", repr(event))


def test_countdown_repr() -> None:
    zero = aiologic.CountdownEvent()
    assert re.fullmatch(rf"<aiologic\.CountdownEvent\(\) at {ADDRESS} \[value=0\]>", repr(zero))
    zero.up()
    assert re.fullmatch(rf"<aiologic\.CountdownEvent\(\) at {ADDRESS} \[value=1, waiting=0\]>", repr(zero))
    two = aiologic.CountdownEvent(2)
    assert re.fullmatch(rf"<aiologic\.CountdownEvent\(2\) at {ADDRESS} \[value=2, waiting=0\]>", repr(two))
    two.down()
    two.down()
    assert re.fullmatch(rf"<aiologic\.CountdownEvent\(2\) at {ADDRESS} \[value=0\]>", repr(two))


def test_subclass_repr_uses_its_own_name() -> None:
    class Custom(aiologic.REvent):
        __slots__ = ()

    event = Custom()
    assert re.fullmatch(
        rf"<{re.escape(__name__)}\.test_subclass_repr_uses_its_own_name\.<locals>\.Custom\(\) at {ADDRESS} "
        r"\[unset, waiting=0\]>",
        repr(event),
    )


def test_countdown_construction() -> None:
    assert aiologic.CountdownEvent().initial_value == 0
    assert aiologic.CountdownEvent(DEFAULT).value == 0
    event = aiologic.CountdownEvent(3)
    assert (event.initial_value, event.value, bool(event)) == (3, 3, False)
    assert aiologic.CountdownEvent(0)
    with pytest.raises(ValueError, match=r"^initial_value must be >= 0$"):
        aiologic.CountdownEvent(-1)


def test_countdown_up_down_clear() -> None:
    event = aiologic.CountdownEvent()
    assert event and event.value == 0
    assert event.up() is None
    assert event.value == 1 and not event
    event.up(3)
    assert event.value == 4
    event.up(0)  # zero and negative counts are silent no-ops
    event.up(-5)
    assert event.value == 4
    assert event.down() is None
    assert event.value == 3
    assert event.clear() is None
    assert event.value == 0 and event
    assert event.initial_value == 0
    with pytest.raises(RuntimeError, match=r"^down\(\) called too many times$"):
        event.down()
    assert event.value == 0
    event.clear()  # clearing at zero is harmless
    assert event.value == 0


def test_countdown_down_at_zero_after_counting_down() -> None:
    event = aiologic.CountdownEvent(2)
    event.down()
    event.down()
    assert event
    with pytest.raises(RuntimeError, match="too many times"):
        event.down()
    assert event.value == 0 and event.initial_value == 2


def _used_event() -> aiologic.Event:
    event = aiologic.Event()
    event.set()
    return event


def _used_revent() -> aiologic.REvent:
    event = aiologic.REvent()
    event.set()
    return event


def _used_countdown() -> aiologic.CountdownEvent:
    event = aiologic.CountdownEvent(3)
    event.down()
    event.up(5)
    return event


def _copies(obj: Any) -> list[Any]:
    return [copy.copy(obj), copy.deepcopy(obj), pickle.loads(pickle.dumps(obj))]


@pytest.mark.parametrize("factory", [_used_event, _used_revent])
def test_copy_and_pickle_give_fresh_unset_events(factory: Callable[[], aiologic.Event]) -> None:
    original = factory()
    for clone in _copies(original):
        assert type(clone) is type(original)
        assert clone is not original
        assert not clone.is_set() and clone.waiting == 0
        clone.set()
    assert original.is_set()


def test_copy_and_pickle_keep_only_countdown_initial_value() -> None:
    original = _used_countdown()
    assert original.value == 7
    for clone in _copies(original):
        assert type(clone) is aiologic.CountdownEvent and clone is not original
        assert (clone.initial_value, clone.value, clone.waiting) == (3, 3, 0)
    for clone in _copies(aiologic.CountdownEvent()):
        assert (clone.initial_value, clone.value) == (0, 0)
        assert re.fullmatch(rf"<aiologic\.CountdownEvent\(\) at {ADDRESS} \[value=0\]>", repr(clone))


@pytest.mark.parametrize("kind", KINDS)
def test_weakref_slots_and_identity(kind: str) -> None:
    event, _ = make(kind)
    ref = weakref.ref(event)
    assert ref() is event
    with pytest.raises(AttributeError):
        event.anything = 1
    assert not hasattr(event, "__dict__")
    other, _ = make(kind)
    assert event == event and event != other
    assert hash(event) == hash(event) and len({event, other}) == 2
    del event
    assert ref() is None


# --- waiting on every library --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_wait_after_set_returns_true(library: str, kind: str) -> None:
    """A set event returns True at once, whatever the timeout (bad values are not even looked at)."""

    async def body(t: Task) -> list[bool]:
        event = make_set(kind)
        results = [await wait(t, event, timeout) for timeout in (None, 0, 5, math.inf, -1, math.nan)]
        if not t.green:
            results.append(await event)
        assert event.waiting == 0
        return results

    assert run(library, body) == [True] * (6 if library in GREEN else 7)


@pytest.mark.parametrize("kind", KINDS)
def test_wait_after_set_is_a_checkpoint(library: str, kind: str) -> None:
    """The fast path still yields once when checkpoints are on, and never when they are off."""

    async def body(t: Task) -> tuple[Any, Any]:
        event = make_set(kind)
        with enable_checkpoints():
            on = await switched(t, lambda: wait(t, event))
        with disable_checkpoints():
            off = await switched(t, lambda: wait(t, event))
        return on, off

    on, off = run(library, body)
    if library == "threading":
        assert on == off == (True, None)
    elif library in ("trio", "anyio-trio"):
        assert on == (CANCELLED, True)  # the checkpoint delivered the pending cancellation
        assert off == (True, False)
    else:
        assert on == (True, True)
        assert off == (True, False)


@pytest.mark.skipif(
    any(name.startswith("AIOLOGIC_") and name.endswith("_CHECKPOINTS") for name in os.environ),
    reason="checkpoint defaults are overridden by the environment",
)
def test_trio_checkpoints_by_default_asyncio_does_not() -> None:
    async def body(t: Task) -> Any:
        return await switched(t, lambda: wait(t, make_set("Event")))

    assert run("trio", body) == (CANCELLED, True)
    assert run("asyncio", body) == (True, False)


@pytest.mark.parametrize("timeout", [0, 0.02])
@pytest.mark.parametrize("kind", KINDS)
def test_timeout_returns_false(library: str, kind: str, timeout: float) -> None:
    async def body(t: Task) -> tuple[bool, float, int, bool]:
        event, wake = make(kind)
        start = time.monotonic()
        result = await wait(t, event, timeout)
        elapsed = time.monotonic() - start
        waiting = event.waiting
        wake()
        return result, elapsed, waiting, await wait(t, event, 0) if kind != "REvent" else True

    result, elapsed, waiting, after = run(library, body)
    assert result is False
    assert waiting == 0  # the timed-out waiter left the queue
    assert elapsed >= timeout / 2  # library timers may run a little early, but never wildly so
    assert elapsed < 5
    assert after is True


@pytest.mark.parametrize("timeout", [-1, -0.5, math.nan])
@pytest.mark.parametrize("kind", KINDS)
def test_bad_timeout_raises_only_when_waiting(library: str, kind: str, timeout: float) -> None:
    async def body(t: Task) -> bool:
        event, wake = make(kind)
        message = "timeout must be non-NaN" if math.isnan(timeout) else "timeout must be non-negative"
        with pytest.raises(ValueError, match=f"^{message}$"):
            await wait(t, event, timeout)
        assert event.waiting == 0
        assert not event.is_set() if kind != "CountdownEvent" else event.value == 1
        wake()
        return await wait(t, make_set(kind), timeout)  # ignored on the fast path

    assert run(library, body) is True


@pytest.mark.parametrize("timeout", [None, math.inf, 10**400])
def test_unbounded_timeouts_wait_until_set(library: str, timeout: float | None) -> None:
    event = aiologic.Event()

    async def body(t: Task) -> bool:
        return await wait(t, event, timeout)

    waiter = Running(library, body)
    wait_until(lambda: event.waiting == 1)
    assert re.fullmatch(rf"<aiologic\.Event\(\) at {ADDRESS} \[unset, waiting=1\]>", repr(event))
    event.set()
    assert waiter.result() is True
    assert event.waiting == 0


def test_await_waits_without_timeout(async_library: str) -> None:
    event = aiologic.Event()

    async def body(t: Task) -> bool:
        return await event  # type: ignore[no-any-return]

    waiter = Running(async_library, body)
    wait_until(lambda: event.waiting == 1)
    event.set()
    assert waiter.result() is True


def test_woken_from_another_thread(library: str, other_library: str) -> None:
    """The waiter parks on ``library``; a body of ``other_library`` in another thread releases it.

    REvent is released by ``set(); clear()`` in a row, CountdownEvent by the ``down()`` that reaches zero.
    """
    events = [make(kind) for kind in KINDS]

    async def waiter(t: Task) -> list[bool]:
        return [await wait(t, event, 10) for event, _ in events]

    waiting = Running(library, waiter)
    for event, wake in events:
        wait_until(lambda event=event: event.waiting == 1)
        run(other_library, call_plain, wake)
        assert event.waiting == 0
    assert waiting.result() == [True, True, True]
    assert [bool(event) for event, _ in events] == [True, False, True]


@pytest.mark.parametrize("kind", KINDS)
def test_waiting_counts_queued_waiters(library: str, kind: str) -> None:
    event, wake = make(kind)

    async def one(t: Task) -> bool:
        return await wait(t, event, 10)

    async def body(t: Task) -> list[bool]:
        return await t.gather(one, one, one)

    waiters = Running(library, body)
    wait_until(lambda: event.waiting == 3)
    state = "value=1, waiting=3" if kind == "CountdownEvent" else "unset, waiting=3"
    args = "1" if kind == "CountdownEvent" else ""
    assert re.fullmatch(rf"<aiologic\.{kind}\({args}\) at {ADDRESS} \[{state}\]>", repr(event))
    wake()
    assert event.waiting == 0  # the count drops as soon as the wake-up is issued
    assert waiters.result() == [True, True, True]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("library", FIFO_SCHEDULERS)
def test_waiters_resume_in_arrival_order(library: str, kind: str) -> None:
    count = 5
    event, wake = make(kind)
    arrivals = Arrivals(library, count, lambda t: wait(t, event, 10))
    for index in range(count):
        arrivals.admit(index, lambda index=index: event.waiting == index + 1)
    wake()
    assert arrivals.result() == [True] * count
    assert arrivals.resumed == list(range(count))


def test_revent_set_clear_releases_every_prior_waiter(library: str) -> None:
    event = aiologic.REvent()

    async def one(t: Task) -> bool:
        return await wait(t, event, 10)

    async def body(t: Task) -> list[bool]:
        return await t.gather(one, one, one)

    waiters = Running(library, body)
    wait_until(lambda: event.waiting == 3)
    event.set()
    event.clear()
    assert not event.is_set() and event.waiting == 0
    assert waiters.result() == [True, True, True]


def test_revent_waiter_after_clear_waits_for_next_set(library: str) -> None:
    event = aiologic.REvent()
    event.set()
    event.clear()

    async def missed(t: Task) -> bool:
        return await wait(t, event, 0.01)

    assert run(library, missed) is False

    async def late(t: Task) -> bool:
        return await wait(t, event, 10)

    waiter = Running(library, late)
    wait_until(lambda: event.waiting == 1)
    event.set()
    assert waiter.result() is True


def test_revent_set_again_after_clear(library: str) -> None:
    async def body(t: Task) -> list[bool]:
        event = aiologic.REvent()
        results = []
        for _ in range(3):
            event.set()
            results.append(await wait(t, event, 0))
            event.clear()
            results.append(await wait(t, event, 0))
        return results

    assert run(library, body) == [True, False] * 3


@pytest.mark.parametrize("release", ["down", "clear"])
def test_countdown_waiter_released_at_zero_even_if_up_follows(library: str, release: str) -> None:
    event = aiologic.CountdownEvent(1 if release == "down" else 3)

    async def body(t: Task) -> bool:
        return await wait(t, event, 10)

    waiter = Running(library, body)
    wait_until(lambda: event.waiting == 1)
    getattr(event, release)()
    event.up(2)  # back above zero before the waiter had a chance to run
    assert waiter.result() is True
    assert event.value == 2 and not event


def test_countdown_counts_down_across_threads(library: str, other_library: str) -> None:
    event = aiologic.CountdownEvent(3)

    async def body(t: Task) -> bool:
        return await wait(t, event, 10)

    waiter = Running(library, body)
    wait_until(lambda: event.waiting == 1)
    run(other_library, call_plain, event.down)
    run(other_library, call_plain, event.down)
    assert event.value == 1 and event.waiting == 1  # not released before zero
    run(other_library, call_plain, event.down)
    assert waiter.result() is True
    assert event.value == 0


def test_countdown_wait_follows_the_counter(library: str) -> None:
    async def body(t: Task) -> list[bool]:
        event = aiologic.CountdownEvent()
        results = [await wait(t, event, 0)]
        event.up(2)
        results.append(await wait(t, event, 0))
        event.down()
        results.append(await wait(t, event, 0))
        event.down()
        results.append(await wait(t, event, 0))
        return results

    assert run(library, body) == [True, False, False, True]


# --- cancellation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_while_waiting_drops_out(cancellable_library: str, kind: str) -> None:
    """An interrupted waiter leaves the queue at once; the other waiters are untouched."""
    event, wake = make(kind)

    async def patient(t: Task) -> bool:
        return await wait(t, event, 10)

    async def interrupted(t: Task) -> tuple[bool, int]:
        result = None
        async with t.cancel_after(0.01) as scope:
            result = await wait(t, event)
        assert result is None  # the cancellation propagated out of the wait
        return scope.cancelled, event.waiting

    other = Running("threading", patient)
    wait_until(lambda: event.waiting == 1)
    assert run(cancellable_library, interrupted) == (True, 1)
    wake()
    assert other.result() is True
    assert event.waiting == 0


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_after_set_asyncio(kind: str) -> None:
    """asyncio: a waiter woken but cancelled before it resumed raises CancelledError; others go on."""

    async def main() -> None:
        event, wake = make(kind)
        doomed = asyncio.ensure_future(event.with_())
        other = asyncio.ensure_future(event.with_())
        await asyncio.sleep(0)
        assert event.waiting == 2
        wake()
        doomed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await doomed
        assert await other is True
        assert event.waiting == 0

    asyncio.run(main())


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_after_set_trio(kind: str) -> None:
    """trio: once the set() rescheduled the waiters, a cancellation no longer interrupts their waits."""
    import trio
    import trio.testing

    async def main() -> list[bool]:
        event, wake = make(kind)
        results: list[bool] = []

        async def waiter() -> None:
            results.append(await event)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(waiter)
            nursery.start_soon(waiter)
            await trio.testing.wait_all_tasks_blocked()
            assert event.waiting == 2
            wake()
            nursery.cancel_scope.cancel()
        return results

    assert trio.run(main) == [True, True]


def test_cancel_racing_set_leaves_no_waiter_behind(cancellable_library: str) -> None:
    """Interruptions landing around a set() from another thread, round after round: each wait ends either
    woken (True) or interrupted, never hangs or raises anything else, leaves the queue; the event works on."""
    rounds = 30
    events = [aiologic.Event() for _ in range(rounds)]
    ready = [threading.Event() for _ in range(rounds)]

    async def waiter(t: Task) -> list[Any]:
        outcomes = []
        for event, flag in zip(events, ready, strict=True):
            flag.set()
            result: Any = "interrupted"
            async with t.cancel_after(0.002):
                result = await wait(t, event)
            outcomes.append((result, event.waiting))
        return outcomes

    waiting = Running(cancellable_library, waiter)
    for index, (event, flag) in enumerate(zip(events, ready, strict=True)):
        assert flag.wait(10)
        threading.Event().wait((index % 4) * 0.001)
        event.set()
    outcomes = waiting.result()
    assert {result for result, _ in outcomes} <= {True, "interrupted"}
    assert all(left == 0 for _, left in outcomes)

    async def afterwards(t: Task) -> list[bool]:
        return [await wait(t, event, 0) for event in events]

    assert run(cancellable_library, afterwards) == [True] * rounds


# --- many waiters -------------------------------------------------------------------------------------


def test_one_event_wakes_200_threads() -> None:
    count = 200
    event = aiologic.Event()
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(event.wait(20))) for _ in range(count)]
    for thread in threads:
        thread.start()
    wait_until(lambda: event.waiting == count)
    event.set()
    for thread in threads:
        thread.join(20)
    assert results == [True] * count
    assert event.waiting == 0


def test_one_event_wakes_200_waiters(library: str) -> None:
    count = 200
    event = aiologic.REvent()

    async def one(t: Task) -> bool:
        return await wait(t, event, 20)

    async def body(t: Task) -> list[bool]:
        return await t.gather(*[one] * count)

    waiters = Running(library, body)
    wait_until(lambda: event.waiting == count)
    event.set()
    event.clear()
    assert waiters.result(timeout=40) == [True] * count


# --- the waiter queue, made by the first wait -------------------------------------------------------------


FRESH: dict[str, tuple[Callable[[], Any], str]] = {
    "Event": (aiologic.Event, "set"),
    "REvent": (aiologic.REvent, "set"),
    "CountdownEvent": (lambda: aiologic.CountdownEvent(1), "down"),
}


@pytest.mark.parametrize(("make", "release"), FRESH.values(), ids=FRESH)
def test_first_waiters_racing_share_one_queue(make: Callable[[], Any], release: str) -> None:
    """Fresh events have no waiter queue; 8 threads making their first wait at once all end up in one
    queue, so one ``set()`` wakes every one of them. Repeated on 50 fresh events to meet the race."""
    for _ in range(50):
        event = make()
        assert event._waiters is NO_WAITERS and event.waiting == 0
        start = threading.Barrier(8)
        results: list[bool] = []

        def first_wait(
            event: Any = event, start: threading.Barrier = start, results: list[bool] = results
        ) -> None:
            start.wait()
            results.append(event.wait(20))

        threads = [threading.Thread(target=first_wait) for _ in range(8)]
        for thread in threads:
            thread.start()
        wait_until(lambda event=event: event.waiting == 8)
        getattr(event, release)()
        for thread in threads:
            thread.join(20)
        assert results == [True] * 8
    assert not _offered


def test_first_queue_takes_the_offer_of_a_racer_that_has_not_stored_yet() -> None:
    """The interleaving the race above can only hit by chance: another first waiter offered its queue and
    was interrupted before storing it. The next first waiter stores that offer, not a second queue (which
    would strand the interrupted one), and withdraws it."""
    event = aiologic.Event()
    racer = _offered.setdefault(event, deque())
    assert waiter_queue(event) is racer and event._waiters is racer and event not in _offered
    assert waiter_queue(event) is racer  # and so does every later waiter


class _Racy:
    """A primitive whose ``_waiters`` read number ``at_read`` lets a racing first waiter run ``waiter_queue``
    completely, before or after the read takes its value (a thread switch, a signal handler, a destructor)."""

    def __init__(self, at_read: int, before: bool) -> None:
        self.value: Any = NO_WAITERS
        self.reads = 0
        self.at_read = at_read
        self.before = before
        self.racer: Any = None

    @property
    def _waiters(self) -> Any:
        self.reads += 1
        value = self.value
        if self.reads == self.at_read:
            self.racer = waiter_queue(self)
            if self.before:
                value = self.value
        return value

    @_waiters.setter
    def _waiters(self, value: Any) -> None:
        self.value = value


@pytest.mark.parametrize("at_read", [1, 2])
@pytest.mark.parametrize("before", [True, False], ids=["racer-first", "read-first"])
def test_racing_first_waiters_get_one_queue(at_read: int, before: bool) -> None:
    """The other interleavings of two first waiters (events, locks and conditions share ``waiter_queue``):
    both get the queue that is stored, and no offer is left behind."""
    primitive = _Racy(at_read, before)
    queue = waiter_queue(primitive)
    assert type(queue) is deque
    assert queue is primitive.racer is primitive.value
    assert primitive not in _offered
