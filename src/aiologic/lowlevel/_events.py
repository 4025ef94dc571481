"""Low-level events: one-shot, stateful wake-ups that every aiologic primitive parks its callers on.

An event is created by whoever is about to wait (or ahead of time); the library is detected when the wait
starts. ``set()`` may be called from any thread, greenlet, task or loop, any number of times; only the first
call before the wait was cancelled returns ``True``. A wait that ends by timeout or exception *cancels* the
event, unless ``set()`` won the race, in which case the event stays set and the interrupted waiter must pass
on whatever the set granted (the primitives do that). See ``_waiters`` for the hand-shake.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from math import isinf, isnan
from types import coroutine
from typing import TYPE_CHECKING, Any, Final, NoReturn

from aiologic.lowlevel import _waiters
from aiologic.lowlevel._checkpoints import _async_checkpoint, green_checkpoint
from aiologic.lowlevel._fast import plain_threads
from aiologic.lowlevel._libraries import _running_asyncio_loop, current_async_library, current_green_library

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "CANCELLED_EVENT",
    "DUMMY_EVENT",
    "SET_EVENT",
    "AsyncEvent",
    "CancelledEvent",
    "DummyEvent",
    "Event",
    "GreenEvent",
    "SetEvent",
    "create_async_event",
    "create_green_event",
]


def _validate_timeout(timeout: float | None) -> float | None:
    """``None`` for "no limit" (also ``inf``), else a non-negative float; raises ``ValueError``."""
    if timeout is None:
        return None
    try:
        timeout = float(timeout)
    except OverflowError:  # an int too large for a float
        return None
    if isnan(timeout):
        raise ValueError("timeout must be non-NaN")
    if timeout < 0:
        raise ValueError("timeout must be non-negative")
    if isinf(timeout):
        return None
    return timeout


class Event:
    """The state every low-level event shares: unset, then set or cancelled, once."""

    __slots__ = ("__weakref__", "_cancelled", "_unset", "_wake_slot", "force", "shield")

    def __init__(self, *, shield: bool = False, force: bool = False) -> None:
        self._unset: list[None] = [None]
        self._wake_slot: list[Callable[[], object]] = []
        self._cancelled = False
        self.shield = shield
        self.force = force

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if cls.__module__ != __name__:
            raise TypeError(f"type '{cls.__qualname__}' is not an acceptable base type")
        super().__init_subclass__(**kwargs)

    def __reduce__(self) -> NoReturn:
        raise TypeError(f"cannot reduce {self!r}")

    def __repr__(self) -> str:
        state = "cancelled" if self._cancelled else "unset" if self._unset else "set"
        return f"<{type(self).__module__}.{type(self).__qualname__} object at {id(self):#x}: {state}>"

    def __bool__(self) -> bool:
        return self.is_set()

    def is_set(self) -> bool:
        return not self._unset and not self._cancelled

    def cancelled(self) -> bool:
        return self._cancelled

    def set(self) -> bool:
        """Wake the waiter; ``True`` only for the call that set the event before its wait was cancelled."""
        try:
            self._unset.pop()
        except IndexError:
            return False
        try:
            wake = self._wake_slot.pop()
        except IndexError:  # nobody is parked yet; the waiter will see the token gone
            return True
        wake()
        return True

    # The waiter's side of the hand-shake (see ``_waiters``).

    def _publish(self, wake: Callable[[], object]) -> bool:
        """Offer ``wake`` to the setter; ``False`` if the event is already set and no wake-up will come."""
        self._wake_slot.append(wake)
        if self._unset:
            return True
        return not self._retract()

    def _retract(self) -> bool:
        try:
            self._wake_slot.pop()
        except IndexError:
            return False
        return True

    def _cancel(self) -> bool:
        """Take the token for the waiter: ``True`` if cancelled now, ``False`` if ``set()`` won."""
        try:
            self._unset.pop()
        except IndexError:
            return False
        self._cancelled = True
        return True

    def _claim(self) -> None:
        if self._wake_slot or self._cancelled:
            raise RuntimeError("this event is already in use")


class GreenEvent(Event):
    """A low-level event waited on by threads and greenlets (``wait``)."""

    __slots__ = ()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until set (``True``) or until ``timeout`` seconds passed (``False``)."""
        if not self._unset:
            if self._cancelled:
                return False
            green_checkpoint(force=self.force)
            return True
        self._claim()
        if timeout is not None:
            try:
                timeout = _validate_timeout(timeout)
            except BaseException:
                self._cancel()
                raise
        library = "threading" if plain_threads[0] else current_green_library()
        if library == "threading":
            return _waiters.park_threading(self, timeout)
        if library == "gevent":
            return _waiters.park_gevent(self, timeout)
        if library == "eventlet":
            return _waiters.park_eventlet(self, timeout)
        self._cancel()
        raise RuntimeError(f"unsupported green library {library!r}")

    def _park_thread(self) -> bool:
        """``wait()`` of a primitive's own fresh event while every green caller is a plain thread
        (``plain_threads``, which the caller checked): straight to the thread park."""
        if self._unset:
            return _waiters.park_threading(self, None)
        return self.wait()


class AsyncEvent(Event):
    """A low-level event awaited by asyncio, trio and curio tasks (``await ev``, ``await ev.with_(t)``)."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, Any, bool]:
        return (yield from self.with_(None))

    # The primitives park through ``with_``, so it is the one without a wrapping generator: every level
    # costs on each suspension and resumption.
    @coroutine
    def with_(self, timeout: float | None = None) -> Generator[Any, Any, bool]:
        """Wait until set (``True``) or until ``timeout`` seconds passed (``False``)."""
        if not self._unset:
            if self._cancelled:
                return False
            yield from _async_checkpoint(self.force)
            return True
        self._claim()
        try:
            if timeout is not None:
                timeout = _validate_timeout(timeout)
            library = current_async_library()
        except BaseException:
            self._cancel()
            raise
        if library == "asyncio":
            return (yield from _waiters.park_asyncio(self, timeout))
        if library == "trio":
            return (yield from _waiters.park_trio(self, timeout).__await__())
        if library == "curio":
            return (yield from _waiters.park_curio(self, timeout).__await__())
        self._cancel()
        raise RuntimeError(f"unsupported async library {library!r}")

    def _park(self, timeout: float | None) -> Awaitable[bool]:
        """``with_(timeout)`` for a primitive's own fresh event, and for an asyncio task without a timeout the
        bare future that ``set()`` resolves instead (no frame of ours on each suspension and resumption).
        After an exception the awaiting primitive cancels the event itself (``_cancel()``)."""
        if timeout is None and self._unset:
            loop = _running_asyncio_loop()
            if loop is not None:
                return _waiters.asyncio_future(self, loop)  # type: ignore[no-any-return]
        return self.with_(timeout)


class _Singleton(Event):
    __slots__ = ()
    _instance: Any = None

    def __new__(cls) -> Self:
        instance: Self | None = cls._instance
        if instance is None:
            instance = cls._instance = super().__new__(cls)
            Event.__init__(instance)
        return instance

    def __init__(self) -> None:
        pass

    def __reduce__(self) -> Any:
        return type(self), ()

    def __setattr__(self, name: str, value: object) -> None:
        if name in ("shield", "force") and hasattr(self, name):
            raise AttributeError(f"{name!r} of {type(self).__qualname__} is read-only")
        super().__setattr__(name, value)

    def set(self) -> bool:
        return False

    def wait(self, timeout: float | None = None) -> bool:
        green_checkpoint()
        return self.is_set()

    def __await__(self) -> Generator[Any, Any, bool]:
        yield from _async_checkpoint(False)
        return self.is_set()

    @coroutine
    def with_(self, timeout: float | None = None) -> Generator[Any, Any, bool]:
        return (yield from self.__await__())


class SetEvent(_Singleton):
    """Always set: waits return ``True`` after a checkpoint."""

    __slots__ = ()


class DummyEvent(_Singleton):
    """Behaves like :data:`SET_EVENT` but is a distinct object (a placeholder for "no real event")."""

    __slots__ = ()


class CancelledEvent(_Singleton):
    """Always cancelled: waits return ``False`` after a checkpoint."""

    __slots__ = ()


SET_EVENT: Final = SetEvent()
SET_EVENT._unset.clear()
DUMMY_EVENT: Final = DummyEvent()
DUMMY_EVENT._unset.clear()
CANCELLED_EVENT: Final = CancelledEvent()
CANCELLED_EVENT._cancel()


def create_green_event(*, locking: bool = False, shield: bool = False, force: bool = False) -> GreenEvent:
    """A new unset :class:`GreenEvent`."""
    return GreenEvent(shield=shield, force=force)


def create_async_event(*, locking: bool = False, shield: bool = False, force: bool = False) -> AsyncEvent:
    """A new unset :class:`AsyncEvent`."""
    return AsyncEvent(shield=shield, force=force)
