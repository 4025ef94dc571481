"""Replacements for ``threading``'s primitives: the stdlib API and semantics, on aiologic's machinery.

Each class keeps the standard library's signatures, return values and exceptions (timeouts of ``-1`` for
locks, ``None`` for the Python-level classes, negative ones meaning "don't wait"), derives from the original
where the original is a subclassable class, and adds the async side: ``async_acquire``/``async with``,
``async_wait``, ``async_wait_for``. A blocking call made in a gevent greenlet or an eventlet greenthread
yields to its hub. ``threading.Lock`` is a factory (3.10-3.12) or a final class (3.13), so its replacement
only shares its API.
"""

from __future__ import annotations

import threading
from _thread import RLock as _CRLock
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import aiologic
from aiologic._barrier import BROKEN
from aiologic._lock import green_key
from aiologic._patching import loop_blocked
from aiologic._waiting import NO_WAITERS
from aiologic.lowlevel._fast import plain_threads
from aiologic.lowlevel._threads import get_ident, original

from ._shared import OwnerlessLock, lock_timeout, wait_timeout

if TYPE_CHECKING:
    from threading import Barrier as _Barrier
    from threading import BoundedSemaphore as _BoundedSemaphore
    from threading import Condition as _Condition
    from threading import Event as _Event
    from threading import Semaphore as _Semaphore

    from typing_extensions import Self
else:  # the standard library's classes, also when gevent or eventlet patched threading before us
    _Barrier = original("threading", "Barrier")
    _BoundedSemaphore = original("threading", "BoundedSemaphore")
    _Condition = original("threading", "Condition")
    _Event = original("threading", "Event")
    _Semaphore = original("threading", "Semaphore")

__all__ = ["SWAPS", "Barrier", "BoundedSemaphore", "Condition", "Event", "Lock", "RLock", "Semaphore"]

_T = TypeVar("_T")


def _repr(self: object, state: str) -> str:
    """The repr shape of the standard library's Python-level classes, named as they are."""
    return f"<threading.{type(self).__name__} at {id(self):#x}: {state}>"


class Lock(OwnerlessLock):
    """``threading.Lock``: any thread may release it; also ``await lock.async_acquire()``, ``async with``."""

    __slots__ = ()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire; ``False`` on timeout or failed non-blocking acquire (``timeout=-1`` waits forever)."""
        return bool(self.green_acquire(blocking, lock_timeout(blocking, timeout)))

    def __enter__(self) -> bool:  # type: ignore[override]
        if not self._waiters:  # _take inlined: ``with lock`` is the hot path
            try:
                self._releasable.append(self._tokens.pop())
            except IndexError:
                pass
            else:
                return True
        return bool(self.green_acquire())

    def __repr__(self) -> str:
        state = "locked" if not self._tokens else "unlocked"
        return f"<{state} {type(self).__module__}.{type(self).__qualname__} object at {id(self):#x}>"


class RLock(aiologic.RLock):
    """``threading.RLock``: owned by a thread (or greenlet, or task on the async side), counts levels."""

    __slots__ = ()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire one level; ``False`` on timeout or failed non-blocking acquire."""
        if plain_threads[0] and timeout == -1:
            # aiologic.RLock.__enter__'s fast path, returning True as the C RLock does.
            key = get_ident()
            if not self._waiters:
                try:
                    self._tokens.pop()
                except IndexError:
                    pass
                else:
                    self._owner = key
                    return True
            if self._owner == key:
                self._count += 1
                return True
        timeout_ = lock_timeout(blocking, timeout)
        if self._green_acquire(1, False, None):
            return True
        if not blocking:
            return False
        loop_blocked("RLock", timeout_)
        return self._green_acquire(1, True, timeout_)

    __enter__ = acquire  # type: ignore[assignment]

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def release(self) -> None:
        """Release one level held by the current thread; ``RuntimeError`` if it holds none."""
        if self._owner != (get_ident() if plain_threads[0] else green_key()):  # green_key() inlined
            raise RuntimeError("cannot release un-acquired lock")
        level = self._count - 1
        if level:
            self._count = level
        else:  # _give_back inlined: a Future's condition releases its RLock three times per task
            self._owner = None
            self._tokens.append(None)
            if self._waiters:
                self._wake_up()

    async def async_acquire(  # type: ignore[override]
        self, blocking: bool = True, timeout: float | None = None
    ) -> bool:
        """Acquire one level as the current task."""
        return await self._async_acquire(1, blocking, wait_timeout(timeout))

    def _is_owned(self) -> bool:
        return self._owner == green_key()

    def _release_save(self) -> tuple[int, Any]:
        key = green_key()
        if self._owner != key:
            raise RuntimeError("cannot release un-acquired lock")
        count = self._count
        self._give_back()
        return count, key

    def _acquire_restore(self, state: tuple[int, Any]) -> None:
        self._green_acquire(state[0], True, None)

    def _recursion_count(self) -> int:
        return self._count if self._owner == green_key() else 0

    def _at_fork_reinit(self) -> None:
        self._tokens[:] = [None]
        self._waiters = NO_WAITERS
        self._owner = None
        self._count = 1

    def __repr__(self) -> str:
        state = "locked" if not self._tokens else "unlocked"
        owner = self.owner[1] if self.owner else 0
        return (
            f"<{state} {type(self).__module__}.{type(self).__qualname__} object owner={owner} "
            f"count={self.count} at {id(self):#x}>"
        )


class Condition(aiologic.Condition[Any, Any], _Condition):
    """``threading.Condition`` over any lock (default: a new patched ``RLock``); also ``async_wait``,
    ``async_wait_for`` and ``async with``. Notified waiters take the lock back in FIFO order."""

    def __new__(cls, lock: Any = None) -> Self:
        return super().__new__(cls, RLock() if lock is None else lock)

    def __init__(self, lock: Any = None) -> None:
        pass

    def __enter__(self) -> Any:
        return self._lock.__enter__()

    def __exit__(self, *exc_info: Any) -> Any:
        lock = self._lock
        if type(lock) is RLock:  # the default lock, whose __exit__ is release(): two calls fewer
            lock.release()
            return None
        return lock.__exit__(*exc_info)

    def __repr__(self) -> str:
        return f"<Condition({self._lock!r}, {len(self._waiters)})>"

    def acquire(self, *args: Any, **kwargs: Any) -> bool:
        return bool(self._lock.acquire(*args, **kwargs))

    def release(self) -> None:
        self._lock.release()

    def _is_owned(self) -> bool:
        lock = self._lock
        try:
            return bool(lock._is_owned())
        except AttributeError:
            pass
        if lock.acquire(False):
            lock.release()
            return False
        return True

    def _release_save(self) -> Any:
        if hasattr(self._lock, "_release_save"):
            return self._lock._release_save()
        self._lock.release()
        return None

    def _acquire_restore(self, state: Any) -> None:
        if hasattr(self._lock, "_acquire_restore"):
            self._lock._acquire_restore(state)
        else:
            self._lock.acquire()

    def _at_fork_reinit(self) -> None:
        self._lock._at_fork_reinit()
        self._waiters = NO_WAITERS

    def wait(self, timeout: float | None = None) -> bool:
        """Release the lock, wait for a notification, take the lock back; ``False`` on timeout."""
        if not self._is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        loop_blocked("Condition", timeout)
        return self._green_wait(wait_timeout(timeout), None)

    def wait_for(self, predicate: Callable[[], _T], timeout: float | None = None) -> _T:  # type: ignore[override]
        """Wait until ``predicate()`` is true (evaluated by this thread); returns its last value."""
        loop_blocked("Condition", timeout)
        result: _T = super().wait_for(predicate, wait_timeout(timeout), delegate=False)
        return result

    async def async_wait(self, timeout: float | None = None) -> bool:
        """The async form of :meth:`wait`, for a task that holds the lock."""
        return await self._async_wait(wait_timeout(timeout), None)

    async def async_wait_for(self, predicate: Callable[[], _T], timeout: float | None = None) -> _T:
        """The async form of :meth:`wait_for`."""
        result: _T = await self.for_(predicate, wait_timeout(timeout), delegate=False)
        return result

    def notify(self, n: int = 1) -> int:  # type: ignore[override]
        """Wake up to ``n`` threads or tasks waiting on the condition (the lock must be held)."""
        if not self._is_owned():
            raise RuntimeError("cannot notify on un-acquired lock")
        if n < 0:
            raise ValueError("n must be >= 0")
        return self._notify_held(n, None) if n else 0

    def notify_all(self) -> int:  # type: ignore[override]
        """Wake every thread or task waiting on the condition (the lock must be held)."""
        if not self._is_owned():
            raise RuntimeError("cannot notify on un-acquired lock")
        return self._notify_held(-1, None)


class Semaphore(aiologic.Semaphore, _Semaphore):
    """``threading.Semaphore``; also ``async_acquire`` and ``async with``."""

    def __new__(cls, value: int = 1) -> Self:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        return cls._create(value)

    def __init__(self, value: int = 1) -> None:
        pass

    def __repr__(self) -> str:
        return _repr(self, f"value={len(self._tokens)}")

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Take a permit; ``False`` on timeout or failed non-blocking acquire."""
        if not blocking and timeout is not None:
            raise ValueError("can't specify timeout for non-blocking acquire")
        if self._take():
            return True
        if not blocking or (timeout is not None and timeout <= 0 and plain_threads[0]):
            return False  # a thread's zero timeout is one non-blocking try, as in the stdlib
        loop_blocked(type(self).__name__, timeout)
        return self.green_acquire(timeout=timeout)

    def __enter__(self) -> bool:  # type: ignore[override]
        return self.acquire()

    async def async_acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Take a permit from a task of any async library."""
        return await super().async_acquire(blocking=blocking, timeout=wait_timeout(timeout))

    def release(self, n: int = 1) -> None:
        """Return ``n`` permits."""
        if n < 1:
            raise ValueError("n must be one or more")
        super().release(n)

    @property
    def _value(self) -> int:  # type: ignore[override]
        return len(self._tokens)


class BoundedSemaphore(Semaphore, aiologic.BoundedSemaphore, _BoundedSemaphore):
    """``threading.BoundedSemaphore``: releasing beyond the initial value raises ``ValueError``."""

    def __new__(cls, value: int = 1) -> Self:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        return cls._create_bounded(value, value)

    def __repr__(self) -> str:
        return _repr(self, f"value={len(self._tokens)}/{self._initial_value}")

    def release(self, n: int = 1) -> None:
        """Return ``n`` permits; all or none: ``ValueError`` if that would exceed the initial value."""
        if n < 1:
            raise ValueError("n must be one or more")
        releasable = self._releasable
        for taken in range(n):
            try:
                releasable.pop()
            except IndexError:
                releasable.extend([None] * taken)
                raise ValueError("Semaphore released too many times") from None
        for _ in range(n):
            self._hand_off()


class Event(aiologic.REvent, _Event):
    """``threading.Event``; also ``await event.async_wait()``."""

    def __init__(self) -> None:
        pass

    def __repr__(self) -> str:
        return _repr(self, "unset" if self._unset else "set")

    @property
    def _flag(self) -> bool:
        return not self._unset

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the flag is set (``True``) or ``timeout`` passed (``False``)."""
        if not self._unset:
            return True
        loop_blocked("Event", timeout)
        return super().wait(wait_timeout(timeout))

    async def async_wait(self, timeout: float | None = None) -> bool:
        """The async form of :meth:`wait`."""
        return await self.with_(wait_timeout(timeout))

    def _at_fork_reinit(self) -> None:
        self._waiters = NO_WAITERS


class _ActionFailed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class Barrier(aiologic.RBarrier, _Barrier):
    """``threading.Barrier`` with ``action`` and a default ``timeout``; also ``await b.async_wait()``.

    The action runs in the thread that completes the group, before anyone is released; if it raises, the
    barrier breaks and the party that arrived last gets the action's exception.
    """

    _error = threading.BrokenBarrierError
    _action: Callable[[], object] | None
    _timeout: float | None

    def __new__(
        cls, parties: int, action: Callable[[], object] | None = None, timeout: float | None = None
    ) -> Self:
        if parties < 1:
            raise ValueError("parties must be > 0")
        self = super().__new__(cls, parties)
        self._action = action
        self._timeout = timeout
        return self

    def __init__(
        self, parties: int, action: Callable[[], object] | None = None, timeout: float | None = None
    ) -> None:
        pass

    def __repr__(self) -> str:
        return _repr(self, "broken" if self._broken else f"waiters={len(self._waiters)}/{self._parties}")

    def _settle(self, group: list[list[Any]], outcome: Any) -> None:  # type: ignore[override]
        if outcome is None and self._action is not None:
            try:
                self._action()
            except BaseException as exc:
                for item in group[:-1]:
                    item[1] = BROKEN
                    item[0].set()
                group[-1][1] = _ActionFailed(exc)
                group[-1][0].set()
                self._break()
                return
        super()._settle(group, outcome)

    def _outcome(self, item: list[Any], woken: bool) -> Any:
        outcome = super()._outcome(item, woken)
        if isinstance(outcome, _ActionFailed):
            raise outcome.error
        return outcome

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the group; returns the arrival index. A timeout breaks the barrier."""
        timeout = self._timeout if timeout is None else timeout
        if len(self._waiters) + 1 < self._parties:
            loop_blocked("Barrier", timeout)
        return super().wait(wait_timeout(timeout))

    async def async_wait(self, timeout: float | None = None) -> int:
        """The async form of :meth:`wait`."""
        return await self.with_(wait_timeout(self._timeout if timeout is None else timeout))

    @property
    def n_waiting(self) -> int:
        """The number of threads or tasks waiting for the group to complete."""
        return len(self._waiters)

    @property
    def _state(self) -> int:
        return -1 if self._broken else 0


def _trio_entry_queue_keeps_the_c_rlock(module: ModuleType) -> None:
    """trio asserts that the lock of its entry queue is the C ``RLock``: a signal handler may take it
    (``run_sync_soon``) while the main thread holds it, which only a lock without Python-level steps
    survives. Each entry queue gets one, whatever ``threading.RLock`` was at trio's import."""
    import wrapt

    def init(wrapped: Callable[..., None], instance: Any, args: Any, kwargs: Any) -> None:
        wrapped(*args, **kwargs)
        instance.lock = _CRLock()

    wrapt.wrap_function_wrapper(module, "EntryQueue.__init__", init)


# modules that must keep an original primitive where the patch would hand them a replacement: the hook runs
# when the module is imported
KEEP_ORIGINALS: dict[str, Callable[[ModuleType], None]] = {
    "trio._core._entry_queue": _trio_entry_queue_keeps_the_c_rlock,
}

SWAPS: dict[str, dict[str, Any]] = {
    "threading": {
        "Lock": Lock,
        "RLock": RLock,
        "Condition": Condition,
        "Semaphore": Semaphore,
        "BoundedSemaphore": BoundedSemaphore,
        "Event": Event,
        "Barrier": Barrier,
    }
}
