"""Replacements for ``asyncio``'s primitives and queues: the stdlib API and semantics, and thread-safe.

One object may be shared by several event loops in several threads, by tasks of other async libraries and
by threads and greenlets, which get the sync side: ``green_acquire``/``with``, ``green_wait``,
``green_wait_for``, ``green_put``, ``green_get``, ``green_join``. The objects are not bound to a loop.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import aiologic
from aiologic._patching import loop_blocked

from ._queues import QueueCore
from ._shared import OwnerlessLock, wait_timeout

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "SWAPS",
    "Barrier",
    "BoundedSemaphore",
    "Condition",
    "Event",
    "LifoQueue",
    "Lock",
    "PriorityQueue",
    "Queue",
    "Semaphore",
]

_T = TypeVar("_T")


def _repr(self: object, extra: str) -> str:
    """The repr shape of ``asyncio.locks`` classes: ``<module.Class object at 0x... [state]>``."""
    return f"<{type(self).__module__}.{type(self).__qualname__} object at {id(self):#x} [{extra}]>"


def _waiters(extra: str, count: int) -> str:
    return f"{extra}, waiters:{count}" if count else extra


def _not_awaitable(self: object) -> Any:
    """asyncio's primitives are not awaitable themselves (aiologic's are): keep their error."""
    raise TypeError(f"object {type(self).__name__} can't be used in 'await' expression")


class Lock(OwnerlessLock, asyncio.Lock):  # type: ignore[misc]
    """``asyncio.Lock``: any task may release it; also ``green_acquire`` and ``with`` for threads."""

    _not_held = "Lock is not acquired."

    def __repr__(self) -> str:
        return _repr(self, _waiters("locked", len(self._waiters)) if not self._tokens else "unlocked")

    @property
    def _locked(self) -> bool:
        return not self._tokens

    async def acquire(self) -> bool:  # type: ignore[override]
        """Acquire the lock, waiting in FIFO order; returns ``True``."""
        return await self.async_acquire()

    async def __aenter__(self) -> None:  # type: ignore[override]
        await self.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()


class Event(aiologic.REvent, asyncio.Event):  # type: ignore[misc]
    """``asyncio.Event``, settable from any thread; also ``green_wait`` for threads and greenlets."""

    __await__ = _not_awaitable

    def __init__(self) -> None:
        pass

    def __repr__(self) -> str:
        return _repr(self, _waiters("unset", self.waiting) if self._unset else "set")

    @property
    def _value(self) -> bool:
        return not self._unset

    async def wait(self) -> bool:  # type: ignore[override]
        """Wait until the event is set; returns ``True``."""
        if not self._unset:
            return True
        return await self.with_()

    def green_wait(self, timeout: float | None = None) -> bool:
        """Block until the event is set (``True``) or ``timeout`` passed (``False``)."""
        if not self._unset:
            return True
        loop_blocked("asyncio.Event", timeout)
        return aiologic.REvent.wait(self, wait_timeout(timeout))


class Condition(aiologic.Condition[Any, Any], asyncio.Condition):  # type: ignore[misc]
    """``asyncio.Condition`` over a patched ``asyncio.Lock`` (default: a new one); also ``green_wait``,
    ``green_wait_for`` and ``with`` for threads and greenlets."""

    __await__ = _not_awaitable

    def __new__(cls, lock: Any = None) -> Self:
        if lock is None:
            lock = Lock()
        elif not isinstance(lock, (Lock, aiologic.Lock, aiologic.BinarySemaphore)):
            raise TypeError(
                f"a patched asyncio.Condition needs a patched asyncio.Lock, not {type(lock).__qualname__} "
                "(was the lock created before patching?)"
            )
        self = super().__new__(cls, lock)
        # A deque from the start, not NO_WAITERS: asyncio.Condition's is (the stdlib's tests append to it).
        self._waiters = deque()
        return self

    def __init__(self, lock: Any = None) -> None:
        pass

    def __repr__(self) -> str:
        if self._lock.locked():
            return _repr(self, _waiters("locked", len(self._waiters)))
        return _repr(self, "unlocked")

    async def acquire(self) -> bool:  # type: ignore[override]
        return bool(await self._lock.acquire())

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return bool(self._lock.locked())

    async def __aenter__(self) -> None:  # type: ignore[override]
        await self._lock.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self._lock.release()

    async def wait(self) -> bool:  # type: ignore[override]
        """Release the lock, wait for a notification, take the lock back; returns ``True``."""
        if not self._lock.locked():
            raise RuntimeError("cannot wait on un-acquired lock")
        await self._async_wait(None, None)
        return True

    async def wait_for(self, predicate: Callable[[], _T]) -> _T:  # type: ignore[override]
        """Wait until ``predicate()`` (evaluated by this task) is true; returns its value."""
        result: _T = await self.for_(predicate, None, delegate=False)
        return result

    def green_wait(self, timeout: float | None = None) -> bool:
        """The sync form of :meth:`wait`, for a thread or greenlet holding the lock; ``False`` on timeout."""
        loop_blocked("asyncio.Condition", timeout)
        return self._green_wait(wait_timeout(timeout), None)

    def green_wait_for(self, predicate: Callable[[], _T], timeout: float | None = None) -> _T:
        """The sync form of :meth:`wait_for`; returns the predicate's last value."""
        loop_blocked("asyncio.Condition", timeout)
        result: _T = aiologic.Condition.wait_for(self, predicate, wait_timeout(timeout), delegate=False)
        return result

    def notify(self, n: int = 1) -> int:  # type: ignore[override]
        """Wake up to ``n`` waiters (the lock must be held)."""
        if not self._lock.locked():
            raise RuntimeError("cannot notify on un-acquired lock")
        return self._notify_held(n, None) if n > 0 else 0

    def notify_all(self) -> int:  # type: ignore[override]
        """Wake every waiter (the lock must be held)."""
        if not self._lock.locked():
            raise RuntimeError("cannot notify on un-acquired lock")
        return self._notify_held(-1, None)


class Semaphore(aiologic.Semaphore, asyncio.Semaphore):  # type: ignore[misc]
    """``asyncio.Semaphore``; also ``green_acquire`` and ``with`` for threads and greenlets."""

    def __new__(cls, value: int = 1) -> Self:
        if value < 0:
            raise ValueError("Semaphore initial value must be >= 0")
        return cls._create(value)

    def __init__(self, value: int = 1) -> None:
        pass

    def __repr__(self) -> str:
        extra = "locked" if self.locked() else f"unlocked, value:{len(self._tokens)}"
        return _repr(self, _waiters(extra, len(self._waiters)))

    @property
    def _value(self) -> int:  # type: ignore[override]
        return len(self._tokens)

    def locked(self) -> bool:
        """Whether an ``acquire()`` would wait now."""
        return not self._tokens or bool(self._waiters)

    async def acquire(self) -> bool:  # type: ignore[override]
        """Take a permit, waiting in FIFO order; returns ``True``."""
        if self._take():
            return True
        return await super().async_acquire()

    def green_acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Take a permit from a thread or greenlet; ``False`` on timeout or failed non-blocking acquire."""
        if self._take():
            return True
        if not blocking:
            return False
        loop_blocked(f"asyncio.{type(self).__name__}", timeout)
        return super().green_acquire(timeout=wait_timeout(timeout))

    def release(self) -> None:  # type: ignore[override]
        """Return a permit."""
        self._hand_off()

    async def __aenter__(self) -> None:  # type: ignore[override]
        await self.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()


class BoundedSemaphore(Semaphore, aiologic.BoundedSemaphore, asyncio.BoundedSemaphore):  # type: ignore[misc]
    """``asyncio.BoundedSemaphore``: releasing beyond the initial value raises ``ValueError``."""

    def __new__(cls, value: int = 1) -> Self:
        if value < 0:
            raise ValueError("Semaphore initial value must be >= 0")
        return cls._create_bounded(value, value)

    def release(self) -> None:  # type: ignore[override]
        """Return a permit; ``ValueError`` if that would exceed the initial value."""
        try:
            self._releasable.pop()
        except IndexError:
            raise ValueError("BoundedSemaphore released too many times") from None
        self._hand_off()


class Queue(QueueCore, asyncio.Queue[_T]):
    """``asyncio.Queue``, usable from several loops and threads; also ``green_put``, ``green_get`` and
    ``green_join`` for threads and greenlets."""

    _Empty = asyncio.QueueEmpty
    _Full = asyncio.QueueFull
    _ShutDown = getattr(asyncio, "QueueShutDown", RuntimeError)

    def __init__(self, maxsize: int = 0) -> None:
        self._setup(maxsize, aiologic.Condition)

    @property
    def maxsize(self) -> int:
        """The bound of the queue (0: unbounded)."""
        return self._maxsize

    @maxsize.setter
    def maxsize(self, value: int) -> None:
        self._maxsize = value

    @property
    def _unfinished_tasks(self) -> int:
        return self._tasks

    @_unfinished_tasks.setter
    def _unfinished_tasks(self, value: int) -> None:
        self._tasks = value

    @property
    def _is_shutdown(self) -> bool:
        return self._shut

    @property
    def _getters(self) -> Any:
        return self._not_empty._waiters

    @property
    def _putters(self) -> Any:
        return self._not_full._waiters

    def _qsize(self) -> int:
        return len(self._queue)  # type: ignore[attr-defined]

    async def put(self, item: _T) -> None:
        """Put ``item``, waiting for a free place."""
        await self._async_put(item, None)

    def put_nowait(self, item: _T) -> None:
        """Put ``item`` if there is a free place now, else raise ``asyncio.QueueFull``."""
        self._put_now(item)

    async def get(self) -> _T:
        """Remove and return an item, waiting for one."""
        item: _T = await self._async_get(None)
        return item

    def get_nowait(self) -> _T:
        """Remove and return an item if there is one now, else raise ``asyncio.QueueEmpty``."""
        item: _T = self._get_now()
        return item

    async def join(self) -> None:
        """Wait until every item put has been processed (``task_done``)."""
        await self._async_join()

    def green_put(self, item: _T, timeout: float | None = None) -> None:
        """The sync form of :meth:`put`; ``asyncio.QueueFull`` on timeout."""
        self._green_put(item, True, wait_timeout(timeout))

    def green_get(self, timeout: float | None = None) -> _T:
        """The sync form of :meth:`get`; ``asyncio.QueueEmpty`` on timeout."""
        item: _T = self._green_get(True, wait_timeout(timeout))
        return item

    def green_join(self) -> None:
        """The sync form of :meth:`join`."""
        self._green_join()


class LifoQueue(Queue[_T], asyncio.LifoQueue[_T]):
    """``asyncio.LifoQueue``: the last item put is the first got."""


class PriorityQueue(Queue[Any], asyncio.PriorityQueue[Any]):
    """``asyncio.PriorityQueue``: the lowest item is got first."""


_LOCKS: dict[str, Any] = {
    "Lock": Lock,
    "Event": Event,
    "Condition": Condition,
    "Semaphore": Semaphore,
    "BoundedSemaphore": BoundedSemaphore,
}

if sys.version_info >= (3, 11):

    class Barrier(aiologic.RBarrier, asyncio.Barrier):
        """``asyncio.Barrier`` shared by loops and threads; also ``green_wait`` for threads and greenlets."""

        __await__ = _not_awaitable

        _error = asyncio.BrokenBarrierError

        def __new__(cls, parties: int) -> Self:
            if parties < 1:
                raise ValueError("parties must be > 0")
            return super().__new__(cls, parties)

        def __init__(self, parties: int) -> None:
            pass

        def __repr__(self) -> str:
            if self._broken:
                return _repr(self, "broken")
            state = "resetting" if self._resetting else "filling" if self._trip else "draining"
            return _repr(self, f"{state}, waiters:{len(self._waiters)}/{self._parties}")

        async def wait(self) -> int:  # type: ignore[override]
            """Wait for the group; returns the arrival index."""
            return await self.with_()

        def green_wait(self, timeout: float | None = None) -> int:
            """The sync form of :meth:`wait`; a timeout breaks the barrier."""
            if len(self._waiters) + 1 < self._parties:
                loop_blocked("asyncio.Barrier", timeout)
            return aiologic.RBarrier.wait(self, wait_timeout(timeout))

        async def reset(self) -> None:  # type: ignore[override]
            """Release the current waiters with ``BrokenBarrierError`` and make the barrier usable again."""
            aiologic.RBarrier.reset(self)

        async def abort(self) -> None:  # type: ignore[override]
            """Break the barrier."""
            self._break()

        async def __aexit__(self, *exc_info: object) -> None:
            pass

        @property
        def n_waiting(self) -> int:
            """The number of tasks waiting for the group to complete."""
            return len(self._waiters)

    _LOCKS["Barrier"] = Barrier

_QUEUES: dict[str, Any] = {"Queue": Queue, "LifoQueue": LifoQueue, "PriorityQueue": PriorityQueue}

SWAPS: dict[str, dict[str, Any]] = {
    "asyncio": {**_LOCKS, **_QUEUES},
    "asyncio.locks": _LOCKS,
    "asyncio.queues": _QUEUES,
}
