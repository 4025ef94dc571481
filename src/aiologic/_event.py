"""Events: ``Event`` (one-shot), ``REvent`` (reusable) and ``CountdownEvent`` (set at zero).

Design note. A waiter queues a fresh low-level event, then looks at the state again: a ``set()`` that
slipped in between has already drained the queue without it, so the waiter drains it itself. Draining pops
from the left, so every waiter is woken exactly once and in arrival order, whoever drains. A wait on a set
event skips the checkpoint call when no caller can need one (see ``lowlevel._fast``).

The waiter queue is made by the first wait, not with the event (``NO_WAITERS`` until then, see
``_waiting.waiter_queue``): most events are set with nobody waiting.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from itertools import repeat
from typing import TYPE_CHECKING, Any

from aiologic._reprs import object_repr
from aiologic._waiting import NO_WAITERS, async_park, green_park, waiter_queue
from aiologic.lowlevel import (
    async_checkpoint,
    create_async_event,
    create_green_event,
    green_checkpoint,
)
from aiologic.lowlevel._events import Event as _LowLevelEvent
from aiologic.lowlevel._fast import plain_threads, quiet_async
from aiologic.meta import DEFAULT, DefaultType

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["CountdownEvent", "Event", "REvent"]

# Events are made on hot paths (one per request or item is common): a global beats ``object.__new__``'s
# two lookups.
_new_object = object.__new__


def _wake_all(waiters: deque[_LowLevelEvent]) -> None:
    while waiters:
        try:
            event = waiters.popleft()
        except IndexError:
            break
        event.set()


class _Waitable:
    """The waiting side shared by the three events: ``wait``, ``await`` and ``with_``."""

    __slots__ = ("_waiters",)
    _waiters: deque[_LowLevelEvent]

    def _is_set(self) -> bool:
        raise NotImplementedError

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the event is set (``True``) or ``timeout`` seconds passed (``False``)."""
        if self._is_set():
            if not plain_threads[0]:
                green_checkpoint()
            return True
        event = create_green_event()
        waiters = waiter_queue(self)
        waiters.append(event)
        if self._is_set():
            _wake_all(waiters)
        return green_park(event, timeout, waiters, event)

    async def with_(self, timeout: float | None = None) -> bool:
        """Wait until the event is set (``True``) or ``timeout`` seconds passed (``False``)."""
        if self._is_set():
            if not quiet_async[0]:
                await async_checkpoint()
            return True
        event = create_async_event()
        waiters = waiter_queue(self)
        waiters.append(event)
        if self._is_set():
            _wake_all(waiters)
        return await async_park(event, timeout, waiters, event)

    def __await__(self) -> Generator[Any, Any, bool]:
        if self._is_set() and quiet_async[0]:  # with_()'s fast path, without creating its coroutine
            return True
        return (yield from self.with_().__await__())

    @property
    def waiting(self) -> int:
        """The number of tasks waiting now."""
        return len(self._waiters)


class Event(_Waitable):
    """A one-shot event: once set, it stays set and every wait returns ``True`` at once."""

    __slots__ = ("__weakref__", "_unset")
    _unset: bool

    def __new__(cls) -> Self:
        self = _new_object(cls)
        self._unset = True
        self._waiters = NO_WAITERS
        return self

    def __getnewargs__(self) -> tuple[Any, ...]:
        return ()

    def __getstate__(self) -> None:
        return None

    def __copy__(self) -> Event:
        return type(self)()

    def __repr__(self) -> str:
        if self._unset:
            return object_repr(self, "", f"unset, waiting={self.waiting}")
        return object_repr(self, "", "set")

    def __bool__(self) -> bool:
        return not self._unset

    def _is_set(self) -> bool:
        return not self._unset

    def is_set(self) -> bool:
        """Whether the event is set."""
        return not self._unset

    def set(self) -> None:
        """Set the event and wake every waiting task; any thread may call it, any number of times."""
        self._unset = False
        if self._waiters:
            _wake_all(self._waiters)


class REvent(Event):
    """A reusable event: ``clear()`` unsets it again.

    ``set()`` wakes every task that was waiting when it was called, even if ``clear()`` follows at once.
    """

    __slots__ = ()

    def clear(self) -> None:
        """Unset the event; later waits block until the next ``set()``."""
        self._unset = True


class CountdownEvent(_Waitable):
    """An event that is set while its counter is zero: ``up()`` adds to it, ``down()`` takes one away."""

    __slots__ = ("__weakref__", "_initial_value", "_tokens")
    _initial_value: int
    _tokens: list[None]

    def __new__(cls, initial_value: int | DefaultType = DEFAULT) -> Self:
        if initial_value is DEFAULT:
            initial_value = 0
        elif initial_value < 0:
            raise ValueError("initial_value must be >= 0")
        self = object.__new__(cls)
        self._initial_value = initial_value
        # One token per unit of the counter: list.pop() makes down() atomic without a lock.
        self._tokens = [None] * initial_value
        self._waiters = NO_WAITERS
        return self

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self._initial_value,) if self._initial_value else ()

    def __getstate__(self) -> None:
        return None

    def __copy__(self) -> CountdownEvent:
        return type(self)(self._initial_value)

    def __repr__(self) -> str:
        args = str(self._initial_value) if self._initial_value else ""
        value = len(self._tokens)
        if value:
            return object_repr(self, args, f"value={value}, waiting={self.waiting}")
        return object_repr(self, args, "value=0")

    def __bool__(self) -> bool:
        return not self._tokens

    def _is_set(self) -> bool:
        return not self._tokens

    def up(self, count: int = 1) -> None:
        """Add ``count`` to the counter (a ``count`` of zero or less does nothing)."""
        if count > 0:
            self._tokens.extend(repeat(None, count))

    def down(self) -> None:
        """Subtract one; waiters are woken when the counter reaches zero."""
        try:
            self._tokens.pop()
        except IndexError:
            raise RuntimeError("down() called too many times") from None
        if not self._tokens:
            _wake_all(self._waiters)

    def clear(self) -> None:
        """Reset the counter to zero and wake every waiter."""
        self._tokens.clear()
        _wake_all(self._waiters)

    @property
    def value(self) -> int:
        """The counter now."""
        return len(self._tokens)

    @property
    def initial_value(self) -> int:
        """The counter the event was created with."""
        return self._initial_value
