"""How a primitive parks a caller, and what happens when that wait fails.

Every primitive keeps its waiters in a ``deque`` of items, each holding a low-level event (see
``aiologic.lowlevel``). A waiter queues its item, parks on the event, and on failure (timeout, cancellation,
any exception) either leaves the queue or, when a wake-up already granted it something (a permit, the lock, an
item), hands that on through ``pass_on``. The two functions below are that logic once for each side.

Events, locks and conditions start with ``NO_WAITERS`` instead, and their first waiter makes the deque
(``waiter_queue``): most of them never get a waiter (each ``concurrent.futures.Future`` has a condition over
a lock), and an empty deque is a ~760-byte allocation and one more object for every full GC collection to
scan. First waiters racing in several threads (or a signal handler interrupting one) must agree on one deque
without a lock.

Lock-free state changes use two CPython atomics: ``list.pop()``/``deque.popleft()`` (exactly one caller gets a
given element) and ``list.append()``. A short "try-lock" is a one-element list: ``pop()`` takes it without
waiting and whoever fails knows that the holder will re-check after putting it back, so no update is lost and
nothing ever blocks, even in a signal handler or a destructor that interrupted the holder.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Coroutine, Generator
from types import TracebackType, coroutine
from typing import TYPE_CHECKING, Any, cast

from aiologic.lowlevel import AsyncEvent, GreenEvent, current_async_task_ident, current_green_task_ident
from aiologic.lowlevel._fast import plain_threads

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "NO_WAITERS",
    "Owned",
    "Reentrant",
    "TokenQueue",
    "async_park",
    "green_park",
    "leave",
    "waiter_queue",
]

#: The waiter queue of a primitive that never had a waiter: an empty tuple, which reads (truth, ``len``,
#: iteration) as an empty deque does; whatever adds a waiter gets a real one from ``waiter_queue``.
NO_WAITERS = cast("deque[Any]", ())

# Waiter queues being made, by primitive: an entry lives from the first offer until a queue is in place.
_offered: dict[Any, deque[Any]] = {}


def waiter_queue(primitive: Any) -> deque[Any]:
    """The ``_waiters`` deque of ``primitive``, made now if it has ``NO_WAITERS``; callers racing to make it
    all get the same one.

    Each maker offers a new queue through ``dict.setdefault`` (one atomic step) and, unless a queue is in
    place by then, stores the offer that won. An offer is withdrawn only once a queue is in place, so every
    maker that reads "no queue" holds the first offer, and all stores store that one queue. (A maker
    interrupted between offering and storing leaves its entry behind: a leak of one primitive, never a second
    queue.)
    """
    waiters: deque[Any] = primitive._waiters
    if waiters is NO_WAITERS:
        offer = _offered.setdefault(primitive, deque())
        waiters = primitive._waiters
        if waiters is NO_WAITERS:
            primitive._waiters = waiters = offer
        _offered.pop(primitive, None)
    return waiters


if hasattr(os, "register_at_fork"):  # an offer left by a thread that did not survive the fork is stale
    os.register_at_fork(after_in_child=_offered.clear)


def leave(waiters: deque[Any], item: object) -> None:
    """Remove ``item`` from ``waiters`` unless a waker already took it."""
    try:
        waiters.remove(item)
    except ValueError:
        pass


def _settle(event: Any, waiters: deque[Any], item: object, pass_on: Callable[[], object] | None) -> None:
    """After a wait that did not report a wake-up: pass on what a wake-up granted anyway, or leave."""
    event._cancel()  # a no-op unless the park handed out its bare future (``AsyncEvent._park``)
    if event.is_set():
        if pass_on is not None:
            pass_on()
    else:
        leave(waiters, item)


def green_park(
    event: GreenEvent,
    timeout: float | None,
    waiters: deque[Any],
    item: object,
    pass_on: Callable[[], object] | None = None,
) -> bool:
    """Block on ``event`` (queued in ``waiters`` as ``item``); ``True`` once woken, ``False`` on timeout."""
    woken = False
    try:
        woken = event._park_thread() if timeout is None and plain_threads[0] else event.wait(timeout)
    finally:
        if not woken:
            _settle(event, waiters, item, pass_on)
    return woken


# A generator rather than a coroutine function, so that the future ``_park`` may return is awaited with
# ``yield from`` right here: the one frame of ours between the primitive and the library.
@coroutine
def async_park(
    event: AsyncEvent,
    timeout: float | None,
    waiters: deque[Any],
    item: object,
    pass_on: Callable[[], object] | None = None,
) -> Generator[Any, Any, bool]:
    """The async form of :func:`green_park`."""
    woken: bool = False
    try:
        woken = yield from event._park(timeout)  # type: ignore[misc]  # an awaitable, iterated
    finally:
        if not woken:
            _settle(event, waiters, item, pass_on)
    return woken


class TokenQueue:
    """Base of the hand-off primitives (locks, semaphores, limiters): free tokens plus a FIFO of waiters.

    Fairness: a released token goes straight to the oldest live waiter (``_grant``), so ``owner``/``value``
    already show the new holder when the release returns and a newcomer cannot barge ahead (the fast path
    only takes a free token while nobody waits). A waiter that arrives while a token is free but others wait
    queues and then runs ``_wake_up``, which gives that free token to the head of the queue.
    """

    __slots__ = ()
    _tokens: list[None]
    _waiters: deque[Any]

    def _grant(self, item: Any) -> bool:
        """Give one token to the waiter ``item``; ``False`` if it no longer waits."""
        return bool(item[0].set())

    def _refused(self) -> None:
        """Undo what a ``_grant`` to a waiter that no longer waits recorded."""

    def _hand_off(self) -> None:
        """Pass on one token that the caller holds: to the oldest live waiter, else back to the pool."""
        self._tokens.append(None)
        if self._waiters:
            self._wake_up()

    def _wake_up(self) -> None:
        """Give free tokens to the oldest live waiters while both exist (run after queueing a waiter, and
        after returning a token while others wait).

        A token goes back to the pool before the queue is looked at, never the other way round: a waiter
        that queues meanwhile runs this itself and finds it, so no token stays free while someone waits.
        """
        waiters = self._waiters
        tokens = self._tokens
        while waiters:
            try:
                tokens.pop()
            except IndexError:
                return
            while True:
                try:
                    item = waiters.popleft()
                except IndexError:
                    tokens.append(None)
                    break
                if self._grant(item):
                    break
                self._refused()

    @property
    def waiting(self) -> int:
        """The number of tasks waiting now."""
        return len(self._waiters)


class Owned(TokenQueue):
    """Base of the primitives whose tokens belong to a task (``Lock``, ``CapacityLimiter``): ``with`` and
    ``async with`` take one level as the current thread, greenlet or task, and give it back."""

    __slots__ = ()
    _green_acquire: Callable[[int, bool, float | None], bool]
    _async_acquire: Callable[[int, bool, float | None], Coroutine[Any, Any, bool]]
    _release: Callable[[tuple[str, int], int], None]

    def __enter__(self) -> Self:
        self._green_acquire(1, True, None)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._release(current_green_task_ident(), 1)

    async def __aenter__(self) -> Self:
        await self._async_acquire(1, True, None)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._release(current_async_task_ident(), 1)


class Reentrant(Owned):
    """The ``count``-taking front of the reentrant primitives (``RLock``, ``RCapacityLimiter``).

    Put before the base class: it validates ``count`` and calls the base's ``_green_acquire``,
    ``_async_acquire`` and ``_release``; ``_level`` reads a task's recursion level.
    """

    __slots__ = ()
    _reentrant = True

    def _level(self, ident: tuple[str, int]) -> int:
        raise NotImplementedError

    def green_acquire(self, count: int = 1, *, blocking: bool = True, timeout: float | None = None) -> bool:
        """Take ``count`` levels as the current thread or greenlet (FIFO wait for the first one)."""
        _check_count(count)
        return self._green_acquire(count, blocking, timeout)

    async def async_acquire(
        self, count: int = 1, *, blocking: bool = True, timeout: float | None = None
    ) -> bool:
        """Take ``count`` levels as the current task (FIFO wait for the first one)."""
        _check_count(count)
        return await self._async_acquire(count, blocking, timeout)

    def green_release(self, count: int = 1) -> None:
        """Release ``count`` levels of the current thread or greenlet; the last one releases for real."""
        _check_count(count)
        self._release(current_green_task_ident(), count)

    def async_release(self, count: int = 1) -> None:
        """Release ``count`` levels of the current task; the last one releases for real."""
        _check_count(count)
        self._release(current_async_task_ident(), count)

    def green_count(self) -> int:
        """The current thread's or greenlet's recursion level (0 if it holds nothing)."""
        return self._level(current_green_task_ident())

    def async_count(self) -> int:
        """The current task's recursion level (0 if it holds nothing)."""
        return self._level(current_async_task_ident())


def _check_count(count: int) -> None:
    if count < 1:
        raise ValueError("count must be >= 1")
