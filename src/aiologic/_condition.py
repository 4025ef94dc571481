"""``Condition``: condition variables over aiologic locks, binary semaphores, thread locks, or no lock.

Design note. A waiter queues an item (its low-level event, the time it started waiting, its delegated
predicate) and releases the lock fully. ``notify()`` takes items from the left whose start time is not after
the notify's deadline, so a wait that began after a notify started is never consumed by it.

With an aiologic lock or binary semaphore, ``notify()`` does not wake the waiter: it moves the waiter's event
into the lock's own FIFO queue ("reparking"), so the waiter becomes runnable only when the lock is handed to
it. One wake-up per notified waiter, no stampede on the lock, and the lock order stays FIFO. With thread locks
(which have no queue of ours) the notifier sets the event and the waiter re-acquires the lock itself.

A wait always ends holding the lock again: re-acquiring ignores the timeout and is shielded from
cancellation, which is re-raised afterwards. A waiter that was notified but then cancelled hands its
notification on with ``notify()``.

Who decides whether a wait that ends by timeout (or cancellation) was notified: each waiter carries a one-item
``claim`` list, and exactly one side pops it. ``notify()`` pops it to notify the waiter (and only then counts
it); the waiter pops it when its wait ends without a wake-up, to leave unnotified. ``list.pop`` is atomic (the
GIL; a per-object lock on free-threaded builds), so the two outcomes exclude each other, and a waiter that
finds its claim gone knows that a notify counted it: it reports ``True`` (or passes the notification on). The
waiter queue is not the arbiter, because a notifier takes waiters out of it without notifying them: one whose
wait already ended (``event.cancelled()``, it will leave by itself) and, for the length of a delegated
predicate, one it then puts back. With the queue as the arbiter, a waiter that timed out in either window
could not remove itself and reported ``True`` for a notification nobody counted (and, when cancelled, passed
on one that never existed), and a waiter put back after it had left stayed in the queue for good.

Most conditions are never waited on (every ``concurrent.futures.Future`` has one) and each full GC collection
scans them all, so a condition keeps few objects that the GC tracks: its waiter queue is made by the first
wait (``NO_WAITERS`` until then), lock adapters without state are shared, the notify try-lock is a one-byte
``bytearray`` and the default timer a ``range`` iterator (as atomic as a one-element list and
``itertools.count``, but not tracked).
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Generator, Iterator
from itertools import repeat, starmap
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aiologic._guard import BusyResourceError
from aiologic._lock import Lock, RLock, _key
from aiologic._semaphore import BinarySemaphore
from aiologic._waiting import NO_WAITERS, leave, waiter_queue
from aiologic.lowlevel import (
    async_checkpoint,
    async_clock,
    create_async_event,
    create_green_event,
    current_async_library,
    current_async_task_ident,
    current_green_task_ident,
    green_checkpoint,
    green_clock,
)
from aiologic.lowlevel._threads import get_ident
from aiologic.meta import DEFAULT

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Condition"]

_T = TypeVar("_T")
_L = TypeVar("_L")


class _Waiter:
    __slots__ = ("claim", "error", "event", "lock_item", "predicate", "time")

    def __init__(self, event: Any, time: Any, predicate: Callable[[], object] | None, lock_item: Any) -> None:
        self.event = event
        self.time = time
        self.predicate = predicate
        self.lock_item = lock_item
        self.error: BaseException | None = None
        self.claim: list[None] = [None]  # popped by whoever decides: a notify, or the waiter leaving


# --- what each kind of lock needs -------------------------------------------------------------------------


class _Adapter:
    """How a condition uses its lock, given to each method. ``state`` is what a waiter needs to give the lock
    back to itself. Adapters without state of their own are shared by every condition over that lock kind."""

    __slots__ = ()
    reparks = False  # notify() moves waiters into the lock's own queue

    def held(self, lock: Any) -> bool:
        return True

    def check(self, lock: Any, green: bool) -> Any:
        """Check that the caller may wait; return what ``release`` and ``lock_item`` need."""

    def release(self, lock: Any, state: Any) -> Any:
        """Release the lock fully; return what the ``*_restore`` methods need."""
        return state

    def lock_item(self, event: Any, state: Any) -> Any:
        return None

    def granted(self, lock: Any) -> None:
        """The lock was handed to a reparked waiter."""

    def green_restore(self, lock: Any, state: Any) -> None:
        """Take the lock back (blocking, no timeout)."""

    async def async_restore(self, lock: Any, state: Any) -> None:
        self.green_restore(lock, state)

    def green_enter(self, lock: Any) -> None:
        pass

    async def async_enter(self, lock: Any) -> None:
        self.green_enter(lock)

    def exit(self, lock: Any, green: bool) -> None:
        pass


class _NoLock(_Adapter):
    __slots__ = ()

    def held(self, lock: Any) -> bool:
        return False


class _AiologicLock(_Adapter):
    """Owner-aware: aiologic ``Lock``/``RLock``; the state is (identity, owner key, thread, level)."""

    __slots__ = ()

    reparks = True

    def held(self, lock: Lock) -> bool:
        return lock.locked()

    def check(self, lock: Lock, green: bool) -> Any:
        ident = current_green_task_ident() if green else current_async_task_ident()
        key = _key(ident)
        if lock._owner != key:
            raise RuntimeError("cannot wait on un-acquired lock")
        return (ident, key, None if type(key) is int else get_ident(), lock._count)

    def release(self, lock: Lock, state: Any) -> Any:
        lock._release(state[0], state[3])
        return state

    def lock_item(self, event: Any, state: Any) -> Any:
        return (event, *state[1:])

    def green_restore(self, lock: Lock, state: Any) -> None:
        _green_shielded(lambda: lock._green_acquire(state[3], True, None))

    async def async_restore(self, lock: Lock, state: Any) -> None:
        await _async_shielded(lambda: lock._async_acquire(state[3], True, None))

    def green_enter(self, lock: Lock) -> None:
        lock._green_acquire(1, True, None)

    async def async_enter(self, lock: Lock) -> None:
        await lock._async_acquire(1, True, None)

    def exit(self, lock: Lock, green: bool) -> None:
        ident = current_green_task_ident() if green else current_async_task_ident()
        if lock._owner == _key(ident):
            lock._release(ident, 1)


class _Entries(_Adapter):
    """Counts context-manager entries per task, for locks that do not know their owner: one per condition."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: dict[tuple[str, int], int] = {}

    def entered(self, green: bool) -> None:
        ident = current_green_task_ident() if green else current_async_task_ident()
        self.entries[ident] = self.entries.get(ident, 0) + 1

    def exit(self, lock: Any, green: bool) -> None:
        """Release the lock if the caller entered it through the condition."""
        ident = current_green_task_ident() if green else current_async_task_ident()
        count = self.entries.get(ident, 0)
        if not count:
            return
        if count == 1:
            del self.entries[ident]
        else:
            self.entries[ident] = count - 1
        lock.release()


class _BinarySemaphore(_Entries):
    """Ownerless: aiologic binary semaphores; "held" means "locked"."""

    __slots__ = ()
    reparks = True

    def held(self, lock: BinarySemaphore) -> bool:
        return not lock._tokens

    def check(self, lock: BinarySemaphore, green: bool) -> Any:
        if lock._tokens:
            raise RuntimeError("cannot wait on un-acquired lock")

    def release(self, lock: BinarySemaphore, state: Any) -> Any:
        lock.release()

    def lock_item(self, event: Any, state: Any) -> Any:
        return (event,)

    def granted(self, lock: BinarySemaphore) -> None:
        lock._taken()

    def green_restore(self, lock: BinarySemaphore, state: Any) -> None:
        _green_shielded(lock.green_acquire)

    async def async_restore(self, lock: BinarySemaphore, state: Any) -> None:
        await _async_shielded(lock.async_acquire)

    def green_enter(self, lock: BinarySemaphore) -> None:
        lock.green_acquire()
        self.entered(True)

    async def async_enter(self, lock: BinarySemaphore) -> None:
        await lock.async_acquire()
        self.entered(False)


class _ThreadLock(_Entries):
    """A plain thread lock (``threading.Lock``): "held" means "locked"."""

    __slots__ = ()

    def held(self, lock: Any) -> bool:
        return bool(lock.locked())

    def check(self, lock: Any, green: bool) -> Any:
        if not lock.locked():
            raise RuntimeError("cannot wait on un-acquired lock")

    def release(self, lock: Any, state: Any) -> Any:
        lock.release()

    def green_restore(self, lock: Any, state: Any) -> None:
        lock.acquire()

    def green_enter(self, lock: Any) -> None:
        lock.acquire()
        self.entered(True)

    async def async_enter(self, lock: Any) -> None:
        lock.acquire()
        self.entered(False)


class _ThreadRLock(_Adapter):
    """A reentrant thread lock (anything with ``_is_owned``): owned by the current thread."""

    __slots__ = ()

    def held(self, lock: Any) -> bool:
        # By anyone: the owner may be another thread, which _is_owned() does not see.
        if lock._is_owned():
            return True
        if lock.acquire(False):
            lock.release()
            return False
        return True

    def check(self, lock: Any, green: bool) -> Any:
        if not lock._is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")

    def release(self, lock: Any, state: Any) -> Any:
        return lock._release_save()

    def green_restore(self, lock: Any, state: Any) -> None:
        lock._acquire_restore(state)

    def green_enter(self, lock: Any) -> None:
        lock.acquire()

    def exit(self, lock: Any, green: bool) -> None:
        if lock._is_owned():
            lock.release()


_NO_LOCK = _NoLock()
_AIOLOGIC_LOCK = _AiologicLock()
_THREAD_RLOCK = _ThreadRLock()


def _adapter_for(lock: Any) -> _Adapter:
    """The adapter for a lock other than an aiologic ``Lock``/``RLock`` (``Condition`` checks that inline)."""
    if lock is None:
        return _NO_LOCK
    if isinstance(lock, BinarySemaphore):
        return _BinarySemaphore()
    if hasattr(lock, "_is_owned"):
        return _THREAD_RLOCK
    if hasattr(lock, "acquire") and hasattr(lock, "release"):
        return _ThreadLock()
    raise TypeError(f"unsupported lock type: {type(lock).__qualname__}")


def _green_shielded(acquire: Callable[[], object]) -> None:
    """Run a blocking acquire to completion; an interruption is re-raised once it succeeded."""
    interruption: BaseException | None = None
    while True:
        try:
            acquire()
        except BaseException as exc:
            if interruption is None:
                interruption = exc
            continue
        if interruption is not None:
            raise interruption
        return


async def _async_shielded(acquire: Callable[[], Any]) -> None:
    """The async form of :func:`_green_shielded`, in the current task (the lock's owner must be this task).

    trio and curio shield the acquire itself; anyio's cancel scopes are shielded when anyio is imported; a
    plain asyncio cancellation is held back and the acquire retried.
    """
    library = current_async_library()
    interruption: BaseException | None = None
    while True:
        try:
            if library == "trio":
                with sys.modules["trio"].CancelScope(shield=True):
                    await acquire()
            elif library == "curio":
                async with sys.modules["curio"].disable_cancellation():
                    await acquire()
            elif "anyio" in sys.modules:
                with sys.modules["anyio"].CancelScope(shield=True):
                    await acquire()
            else:
                await acquire()
        except BaseException as exc:
            if interruption is None:
                interruption = exc
            continue
        if interruption is not None:
            raise interruption
        return


# --- the condition ----------------------------------------------------------------------------------------

_COUNTING = range(sys.maxsize)  # iter() of it is the default timer, made here once (range() is slow)
_NOT_NOTIFYING = bytearray(1)  # copied: faster than bytearray(1)


class Condition(Generic[_L, _T]):
    """A condition variable usable from threads, greenlets and tasks at once.

    ``lock`` is an aiologic ``Lock``/``RLock`` (default: a new ``RLock``), a binary semaphore, a thread lock,
    or ``None`` for a lockless condition. ``timer`` stamps each wait (default: a counter).
    """

    __slots__ = (
        "__weakref__",
        "_adapter",
        "_custom_timer",
        "_lock",
        "_notifying",
        "_stamps",
        "_timer",
        "_waiters",
    )
    _lock: Any
    _timer: Callable[[], Any]  # set only for a custom timer
    _custom_timer: bool
    _stamps: Iterator[Any]  # next() stamps a wait: the custom timer's value, or the default counter's
    _adapter: _Adapter
    _waiters: deque[_Waiter]
    _notifying: bytearray  # a try-lock: notify() is not reentrant (a delegated predicate may not notify)

    def __new__(cls, lock: Any = DEFAULT, timer: Any = DEFAULT) -> Self:
        if lock is DEFAULT:
            lock = RLock()
        self = object.__new__(cls)
        self._lock = lock
        self._custom_timer = timer is not DEFAULT
        if self._custom_timer:
            self._timer = timer
            self._stamps = starmap(timer, repeat(()))  # calls timer() on each next()
        else:
            self._stamps = iter(_COUNTING)  # counts as itertools.count() does
        self._adapter = _AIOLOGIC_LOCK if isinstance(lock, Lock) else _adapter_for(lock)
        self._waiters = NO_WAITERS
        self._notifying = _NOT_NOTIFYING.copy()
        return self

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self._lock, self._timer) if self._custom_timer else (self._lock,)

    def __getstate__(self) -> None:
        return None

    def __copy__(self) -> Self:
        return type(self)(*self.__getnewargs__())

    def __repr__(self) -> str:
        lock = self._lock
        args = "None" if lock is None else f"<{type(lock).__module__}.{type(lock).__qualname__}>"
        if self._custom_timer:
            args += f", timer={self._timer!r}"
        return f"<{type(self).__module__}.Condition({args}) at {id(self):#x} [waiting={len(self._waiters)}]>"

    def __bool__(self) -> bool:
        return self._adapter.held(self._lock)

    # context manager ---------------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self._adapter.green_enter(self._lock)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._adapter.exit(self._lock, True)

    async def __aenter__(self) -> Self:
        await self._adapter.async_enter(self._lock)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._adapter.exit(self._lock, False)

    # waiting -----------------------------------------------------------------------------------------------

    def _enqueue(
        self, event: Any, green: bool, predicate: Callable[[], object] | None
    ) -> tuple[_Waiter, Any]:
        adapter = self._adapter
        lock = self._lock
        state = adapter.check(lock, green)
        waiter = _Waiter(event, next(self._stamps), predicate, adapter.lock_item(event, state))
        waiters = waiter_queue(self)
        waiters.append(waiter)  # queued before the lock is released: no notify can slip by
        try:
            return waiter, adapter.release(lock, state)
        except BaseException:
            leave(waiters, waiter)
            raise

    def _settled(self, waiter: _Waiter, woken: bool) -> tuple[bool, bool]:
        """After the wait: (notified, still must take the lock back)."""
        if woken:
            if self._adapter.reparks:
                self._adapter.granted(self._lock)
                return True, False
            return True, True
        if waiter.event.is_set():  # granted at the very moment the wait failed
            if self._adapter.reparks:
                self._adapter.granted(self._lock)
                return True, False
            return True, True
        try:
            waiter.claim.pop()
        except IndexError:
            return True, True  # a notify counted us (we were reparked, then our wait ended)
        leave(self._waiters, waiter)  # not there while a notifier evaluates our predicate: it drops us then
        return False, True

    def _green_wait(self, timeout: float | None, predicate: Callable[[], object] | None) -> bool:
        event = create_green_event()
        waiter, state = self._enqueue(event, True, predicate)
        try:
            woken = event.wait(timeout)
        except BaseException:
            notified, restore = self._settled(waiter, False)
            try:
                if restore:
                    self._adapter.green_restore(self._lock, state)
            finally:
                if notified:
                    self.notify()  # hand our notification on
            raise
        notified, restore = self._settled(waiter, woken)
        if restore:
            self._adapter.green_restore(self._lock, state)
        if waiter.error is not None:
            raise waiter.error
        return notified

    async def _async_wait(self, timeout: float | None, predicate: Callable[[], object] | None) -> bool:
        event = create_async_event()
        waiter, state = self._enqueue(event, False, predicate)
        try:
            woken = await event.with_(timeout)
        except BaseException:
            notified, restore = self._settled(waiter, False)
            try:
                if restore:
                    await self._adapter.async_restore(self._lock, state)
            finally:
                if notified:
                    self.notify()
            raise
        notified, restore = self._settled(waiter, woken)
        if restore:
            await self._adapter.async_restore(self._lock, state)
        if waiter.error is not None:
            raise waiter.error
        return notified

    def wait(self, timeout: float | None = None) -> bool:
        """Release the lock, wait for a notification, take the lock back; ``False`` on timeout."""
        return self._green_wait(timeout, None)

    async def with_(self, timeout: float | None = None) -> bool:
        """Release the lock, wait for a notification, take the lock back; ``False`` on timeout."""
        return await self._async_wait(timeout, None)

    def __await__(self) -> Generator[Any, Any, bool]:
        return self.with_().__await__()

    def wait_for(
        self, predicate: Callable[[], _T], timeout: float | None = None, *, delegate: bool = True
    ) -> _T:
        """Wait until ``predicate()`` is true and return its value; its last (false) value on timeout.

        With ``delegate``, notifiers evaluate the predicate and only wake this waiter when it holds.
        """
        result = predicate()
        if result:
            green_checkpoint()
            return result
        deadline = None if timeout is None else green_clock() + timeout
        while True:
            remaining = None if deadline is None else max(deadline - green_clock(), 0.0)
            notified = self._green_wait(remaining, predicate if delegate else None)
            result = predicate()
            if result or not notified:
                return result

    async def for_(
        self, predicate: Callable[[], _T], timeout: float | None = None, *, delegate: bool = True
    ) -> _T:
        """Wait until ``predicate()`` is true and return its value; its last (false) value on timeout."""
        result = predicate()
        if result:
            await async_checkpoint()
            return result
        deadline = None if timeout is None else async_clock() + timeout
        while True:
            remaining = None if deadline is None else max(deadline - async_clock(), 0.0)
            notified = await self._async_wait(remaining, predicate if delegate else None)
            result = predicate()
            if result or not notified:
                return result

    # notifying ---------------------------------------------------------------------------------------------

    def notify(self, count: int = 1, *, deadline: Any = None) -> int:
        """Wake up to ``count`` waiters (all if negative), oldest first; returns how many were woken."""
        adapter = self._adapter
        if adapter.reparks and not adapter.held(self._lock):
            raise RuntimeError("cannot notify on un-acquired lock")
        return self._notify_held(count, deadline)

    def _notify_held(self, count: int, deadline: Any) -> int:
        """:meth:`notify` once the lock is known to be held (a subclass may check ownership itself)."""
        if not self._waiters and self._notifying:  # as if it came before any wait that is starting now
            return 0
        try:
            self._notifying.pop()
        except IndexError:
            raise BusyResourceError("another task is already notifying this resource") from None
        try:
            if deadline is None:
                deadline = next(self._stamps)
            return self._notify(count, deadline)
        finally:
            self._notifying.append(0)

    def _notify(self, count: int, deadline: Any) -> int:
        waiters = self._waiters
        skipped: list[_Waiter] = []
        notified = 0
        try:
            while count < 0 or notified < count:
                try:
                    waiter = waiters[0]
                except IndexError:
                    break
                if waiter.time > deadline:
                    break
                try:
                    waiters.remove(waiter)
                except ValueError:  # it left meanwhile
                    continue
                if not waiter.claim or waiter.event.cancelled():  # its wait ended: it leaves unnotified
                    continue
                if waiter.predicate is not None and not self._holds(waiter, skipped):
                    continue
                try:
                    waiter.claim.pop()
                except IndexError:  # its wait ended meanwhile: it leaves unnotified
                    continue
                if self._adapter.reparks:
                    waiter_queue(self._lock).append(waiter.lock_item)
                else:
                    waiter.event.set()
                notified += 1
        finally:
            waiters.extend(skipped)
            for waiter in skipped:
                if not waiter.claim:  # it left while out of the queue, so it could not remove itself
                    leave(waiters, waiter)
        return notified

    def _holds(self, waiter: _Waiter, skipped: list[_Waiter]) -> bool:
        """Evaluate a delegated predicate for ``waiter``: ``False`` puts it back (with a fresh time)."""
        if not self._adapter.held(self._lock):
            self._put_back(waiter)
            raise RuntimeError("cannot notify for predicate on un-acquired lock")
        assert waiter.predicate is not None
        try:
            value = waiter.predicate()
        except BusyResourceError:  # the predicate notified: refused, and the notifier is told
            self._put_back(waiter)
            raise
        except BaseException as exc:
            waiter.error = exc
            import logging

            logging.getLogger("aiologic._conditions").exception("predicate of a condition waiter failed")
            return True
        if value:
            return True
        waiter.time = next(self._stamps)
        skipped.append(waiter)
        return False

    def _put_back(self, waiter: _Waiter) -> None:
        """Return a waiter that a failing notify took out to the head of the queue, unless it has left."""
        self._waiters.appendleft(waiter)
        if not waiter.claim:
            leave(self._waiters, waiter)

    def notify_all(self, *, deadline: Any = None) -> int:
        """Wake every waiter that started waiting before this call."""
        return self.notify(-1, deadline=deadline)

    # properties --------------------------------------------------------------------------------------------

    @property
    def lock(self) -> Any:
        """The underlying lock (``None`` for a lockless condition)."""
        return self._lock

    @property
    def timer(self) -> Callable[[], Any]:
        """The callable that stamps waits."""
        return self._timer if self._custom_timer else self._stamps.__next__

    @property
    def waiting(self) -> int:
        """The number of tasks waiting for a notification now."""
        return len(self._waiters)
