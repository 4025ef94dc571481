"""Locks: ``Lock`` (owned, not reentrant) and ``RLock`` (reentrant).

Design note. The lock is one token (see ``TokenQueue``): taking it is a ``list.pop()``, so the uncontended
path never waits on anything internal. Ownership is the caller's ``(library, id)`` identity, recorded by
whoever grants the token: the acquirer itself on the fast path, the releaser on a hand-off, so ``owner``
names the next holder as soon as ``release()`` returns. Each waiter's item carries its identity, its OS
thread and the recursion level it asked for.

The owner is recorded as a *key*: a plain thread by its bare thread id, anyone else by its identity tuple
(with ``_owner_thread``, the OS thread it runs on, for the deadlock check of a thread against its own
tasks). While ``plain_threads`` holds (see ``lowlevel._fast``) ``with lock`` is then a ``get_ident()``
and a ``pop()`` in, a comparison and an ``append()`` out, with no library detection and no checkpoint; those
``__enter__``/``__exit__`` do not even read the flag, as ``_use_green_identities`` replaces them when it
turns off.
``async with`` inlines the free-token path of ``_async_acquire`` (no second coroutine) and looks the task up
once, on entry. That path also records the frame that entered (``_enter_frame``, the caller of
``__aenter__``) when it is a coroutine's; while it holds, ``__aexit__`` called from that same frame is the
owner by construction: a suspended coroutine is resumed only by the task awaiting it, and every release
clears the record, so a stale frame never vouches for a later owner. An async generator's frame is not
recorded, as each step may run in another task. Anyone else goes through the identity lookup.
``_count``, the owner's level, is 1 whenever the lock is free (``_give_back`` and ``_refused`` restore it), so
taking a free lock at level 1 (``with``, ``async with``) writes only the owner.
"""

from __future__ import annotations

from sys import _getframe
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from aiologic._reprs import object_repr
from aiologic._waiting import NO_WAITERS, Owned, Reentrant, async_park, green_park, waiter_queue
from aiologic.lowlevel import (
    async_checkpoint,
    create_async_event,
    create_green_event,
    current_async_task_ident,
    current_green_task_ident,
    green_checkpoint,
)
from aiologic.lowlevel._checkpoints import _quiet
from aiologic.lowlevel._fast import plain_threads, quiet_async, when_off
from aiologic.lowlevel._threads import get_ident

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Lock", "RLock"]

# inspect.CO_COROUTINE (stable since 3.5; inspect itself is slow to import).
_CO_COROUTINE = 0x80

#: How a lock records its owner: a plain thread's bare id, anyone else's identity tuple.
Key = int | tuple[str, int]


def _key(ident: tuple[str, int]) -> Key:
    return ident[1] if ident[0] == "threading" else ident


def green_key() -> Key:
    """The key of the current thread or greenlet."""
    return get_ident() if plain_threads[0] else _key(current_green_task_ident())


class Lock(Owned):
    """A lock owned by the thread, greenlet or task that acquired it; FIFO hand-off, no reentrancy."""

    __slots__ = ("__weakref__", "_count", "_enter_frame", "_owner", "_owner_thread", "_tokens", "_waiters")
    _owner: Key | None
    _owner_thread: int | None
    _enter_frame: FrameType | None
    _count: int
    _reentrant = False

    def __new__(cls) -> Self:
        self = object.__new__(cls)
        self._tokens = [None]
        self._waiters = NO_WAITERS
        self._owner = None
        self._owner_thread = None
        self._enter_frame = None
        self._count = 1
        return self

    def __getnewargs__(self) -> tuple[Any, ...]:
        return ()

    def __getstate__(self) -> None:
        return None

    def __copy__(self) -> Self:
        return type(self)()

    def __repr__(self) -> str:
        if self._tokens:
            return object_repr(self, "", "unlocked")
        return object_repr(self, "", f"locked, waiting={len(self._waiters)}")

    def __bool__(self) -> bool:
        return not self._tokens

    # hand-off hooks ----------------------------------------------------------------------------------------

    def _grant(self, item: Any) -> bool:
        event, self._owner, self._owner_thread, self._count = item
        return bool(event.set())

    def _refused(self) -> None:
        self._owner = None
        self._count = 1

    def _give_back(self) -> None:
        """Release the token the caller holds (or was just handed) to the next waiter or the pool."""
        self._owner = None
        self._enter_frame = None
        self._count = 1
        self._hand_off()

    # acquiring ---------------------------------------------------------------------------------------------

    def _check_reentry(self, key: Key) -> None:
        owner = self._owner
        if owner == key:
            raise RuntimeError("the current task is already holding this lock")
        if type(key) is int and type(owner) is tuple and self._owner_thread == key:
            raise RuntimeError("the current thread is already holding this lock")

    def _green_acquire(self, count: int, blocking: bool, timeout: float | None) -> bool:
        ident = current_green_task_ident()
        key = _key(ident)
        # A plain thread's key names its thread; a greenlet's does not (see _check_reentry).
        thread = None if type(key) is int else get_ident()
        if not self._waiters:
            try:
                self._tokens.pop()
            except IndexError:
                pass
            else:
                self._owner = key
                self._owner_thread = thread
                self._count = count
                if blocking and not _quiet.get(ident[0]):
                    try:
                        green_checkpoint()
                    except BaseException:
                        self._give_back()
                        raise
                return True
        if self._owner == key and self._reentrant:
            if blocking:
                green_checkpoint()
            self._count += count
            return True
        self._check_reentry(key)
        if not blocking:
            return False
        event = create_green_event()
        item = (event, key, thread, count)
        waiters = waiter_queue(self)
        waiters.append(item)
        self._wake_up()
        return green_park(event, timeout, waiters, item, self._give_back)

    async def _async_acquire(self, count: int, blocking: bool, timeout: float | None) -> bool:
        ident = current_async_task_ident()
        thread = get_ident()
        if not self._waiters:
            try:
                self._tokens.pop()
            except IndexError:
                pass
            else:
                self._owner = ident
                self._owner_thread = thread
                self._count = count
                if blocking and not (quiet_async[0] or _quiet.get(ident[0])):
                    try:
                        await async_checkpoint()
                    except BaseException:
                        self._give_back()
                        raise
                return True
        if self._owner == ident and self._reentrant:
            if blocking:
                await async_checkpoint()
            self._count += count
            return True
        self._check_reentry(ident)
        if not blocking:
            return False
        event = create_async_event()
        item = (event, ident, thread, count)
        waiters = waiter_queue(self)
        waiters.append(item)
        self._wake_up()
        return await async_park(event, timeout, waiters, item, self._give_back)

    def green_acquire(self, *, blocking: bool = True, timeout: float | None = None) -> bool:
        """Acquire as the current thread or greenlet; ``False`` on timeout or failed ``blocking=False``."""
        return self._green_acquire(1, blocking, timeout)

    async def async_acquire(self, *, blocking: bool = True, timeout: float | None = None) -> bool:
        """Acquire as the current task; ``False`` on timeout or failed ``blocking=False``."""
        return await self._async_acquire(1, blocking, timeout)

    def __enter__(self) -> Self:
        # Plain threads only (see the module's note). The fast path of _green_acquire: a Lock's level is 1.
        if not self._waiters:
            try:
                self._tokens.pop()
            except IndexError:
                pass
            else:
                self._owner = get_ident()
                return self
        self._green_acquire(1, True, None)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Plain threads only (see the module's note).
        if self._owner == get_ident():
            # _give_back inlined
            self._owner = None
            self._tokens.append(None)
            if self._waiters:
                self._wake_up()
        else:
            self._release(current_green_task_ident(), 1)

    def _green_enter(self) -> Self:
        self._green_acquire(1, True, None)
        return self

    def _green_exit(self, *exc_info: object) -> None:
        self._release(current_green_task_ident(), 1)

    async def __aenter__(self) -> Self:
        # The fast path of _async_acquire, without its coroutine; everything else goes there.
        ident = current_async_task_ident()
        if not self._waiters:
            try:
                self._tokens.pop()
            except IndexError:
                pass
            else:
                self._owner = ident
                self._owner_thread = get_ident()
                frame = _getframe(1)
                self._enter_frame = frame if frame.f_code.co_flags & _CO_COROUTINE else None
                if not (quiet_async[0] or _quiet.get(ident[0])):
                    try:
                        await async_checkpoint()
                    except BaseException:
                        self._give_back()
                        raise
                return self
        await self._async_acquire(1, True, None)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._enter_frame is _getframe(1):  # the owner, see the module's note
            if self._count == 1:
                # _give_back inlined
                self._owner = None
                self._enter_frame = None
                self._tokens.append(None)
                if self._waiters:
                    self._wake_up()
            else:
                self._count -= 1
            return
        # An async identity is never a plain thread's, so it is its own key (no _key() call).
        ident = current_async_task_ident()
        if self._owner == ident and self._count == 1:
            self._give_back()
        else:
            self._release(ident, 1)

    # releasing ---------------------------------------------------------------------------------------------

    def _release(self, ident: tuple[str, int], count: int) -> None:
        if self._owner != _key(ident):
            if self._tokens:
                raise RuntimeError("release unlocked lock")
            raise RuntimeError("the current task is not holding this lock")
        level = self._count - count
        if level:
            if level < 0:
                raise RuntimeError("lock released too many times")
            self._count = level
        else:
            self._give_back()

    def green_release(self) -> None:
        """Release a lock held by the current thread or greenlet; waiters get it in FIFO order."""
        self._release(current_green_task_ident(), 1)

    def async_release(self) -> None:
        """Release a lock held by the current task; waiters get it in FIFO order."""
        self._release(current_async_task_ident(), 1)

    def green_owned(self) -> bool:
        """Whether the current thread or greenlet holds the lock."""
        return self._owner == _key(current_green_task_ident())

    def async_owned(self) -> bool:
        """Whether the current task holds the lock."""
        return self._owner == current_async_task_ident()

    def locked(self) -> bool:
        """Whether anyone holds the lock (it stays locked across a hand-off)."""
        return not self._tokens

    @property
    def owner(self) -> tuple[str, int] | None:
        """The ``(library, id)`` identity of the holder, or ``None``."""
        owner = self._owner
        return ("threading", owner) if isinstance(owner, int) else owner


class RLock(Reentrant, Lock):
    """A reentrant lock: its owner may acquire it again; it is released when every level is released."""

    __slots__ = ()

    def __enter__(self) -> Self:
        # Plain threads only (see the module's note). The fast path of _green_acquire, reentry included.
        # patches/threading.py's RLock.acquire repeats it: a shared helper would cost this one a call, the
        # speed it exists for.
        key = get_ident()
        if not self._waiters:
            try:
                self._tokens.pop()
            except IndexError:
                pass
            else:
                self._owner = key
                return self
        if self._owner == key:
            self._count += 1
            return self
        self._green_acquire(1, True, None)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Plain threads only (see the module's note).
        if self._owner == get_ident():
            if self._count == 1:
                self._owner = None
                self._tokens.append(None)
                if self._waiters:
                    self._wake_up()
            else:
                self._count -= 1
        else:
            self._release(current_green_task_ident(), 1)

    def _level(self, ident: tuple[str, int]) -> int:
        return self._count if self._owner == _key(ident) else 0

    @property
    def count(self) -> int:
        """The owner's recursion level, 0 when unlocked."""
        return self._count if self._owner is not None else 0


def _use_green_identities() -> None:
    """Once a caller may be a greenlet, ``with`` finds its identity on every call."""
    for cls in (Lock, RLock):
        cls.__enter__ = Lock._green_enter  # type: ignore[method-assign]
        cls.__exit__ = Lock._green_exit  # type: ignore[method-assign]


when_off(plain_threads, _use_green_identities)
