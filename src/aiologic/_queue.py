"""Queues: ``SimpleQueue``/``SimpleLifoQueue`` (unbounded, non-blocking put) and ``Queue``/``LifoQueue``/
``PriorityQueue`` (optionally bounded, with the ``_init``/``_put``/``_get`` hooks of ``queue.Queue``).

Design note. A queue is counted by semaphores: ``_items`` holds one permit per item that a getter may take,
``_slots`` (bounded queues only) one per free place. A getter first takes an item permit (waiting in FIFO
order if none is free), then an item. Because permits are handed straight to the oldest waiter and passed on
when that waiter is cancelled at the moment it is served, an item is never lost or taken twice: a cancelled
getter leaves its item in the queue for the next one, and a cancelled putter never inserted its item. The
container hooks of ``Queue`` run under a short thread lock, never held across a wait; ``SimpleQueue`` needs
none since ``deque`` appends and pops are atomic.
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Iterable
from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aiologic._reprs import object_repr
from aiologic._semaphore import Semaphore
from aiologic.lowlevel import async_checkpoint, green_checkpoint
from aiologic.lowlevel._threads import original
from aiologic.meta import MISSING, MissingType

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "LifoQueue",
    "PriorityQueue",
    "Queue",
    "QueueEmpty",
    "QueueFull",
    "SimpleLifoQueue",
    "SimpleQueue",
]

_T = TypeVar("_T")
_create_rlock = original("_thread", "RLock")


class QueueEmpty(Exception):
    """Raised by a get that found no item (``blocking=False``, or after its timeout)."""


class QueueFull(Exception):
    """Raised by a put that found no free place (``blocking=False``, or after its timeout)."""


def _warn_state() -> None:
    warnings.warn(
        "Queue copies and pickles will no longer preserve the state in a future version",
        DeprecationWarning,
        stacklevel=3,
    )


class _Contents(Generic[_T]):
    """What both queue families share: the content, copying and pickling."""

    __slots__ = ()
    _data: Any
    _items: Semaphore

    def __len__(self) -> int:
        return len(self._data)

    def __bool__(self) -> bool:
        return bool(self._data)

    def _content(self) -> list[_T]:
        return list(self._data)

    def __getstate__(self) -> None:
        return None

    def copy(self) -> Self:
        """Deprecated: use ``copy.copy(queue)``."""
        warnings.warn("Use copy.copy(queue) instead", DeprecationWarning, stacklevel=2)
        return self.__copy__()

    def __copy__(self) -> Self:
        args = self.__getnewargs__()
        if self._data:
            _warn_state()
        return type(self)(*args)

    def __getnewargs__(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def __reduce_ex__(self, protocol: Any) -> Any:
        if self._data:
            _warn_state()
        return super().__reduce_ex__(protocol)

    @property
    def getting(self) -> int:
        """The number of getters waiting now."""
        return self._items.waiting


class SimpleQueue(_Contents[_T]):
    """An unbounded FIFO queue: ``put()`` never blocks and works from anywhere, gets wait in FIFO order."""

    __slots__ = ("__weakref__", "_data", "_items")

    def __new__(cls, items: Iterable[_T] | MissingType = MISSING, /) -> Self:
        self = object.__new__(cls)
        self._data = deque() if items is MISSING else deque(items)
        self._items = Semaphore(len(self._data))
        return self

    def __getnewargs__(self) -> tuple[Any, ...]:
        if self._data:
            return (self._content(),)
        return ()

    def __repr__(self) -> str:
        length = len(self._data)
        state = f"length={length}" if length else f"length=0, getting={self._items.waiting}"
        return object_repr(self, repr(self._content()), state)

    def _take(self) -> _T:
        return self._data.popleft()  # type: ignore[no-any-return]

    def put(self, item: _T) -> None:
        """Add ``item``; never blocks, never yields (safe in signal handlers and from any thread)."""
        self._data.append(item)
        self._items.release()

    def green_put(self, item: _T, *, blocking: bool = True, timeout: float | None = None) -> None:
        """``put`` with a checkpoint before the item goes in (an interruption there leaves it out)."""
        if blocking:
            green_checkpoint()
        self.put(item)

    async def async_put(self, item: _T, *, blocking: bool = True, timeout: float | None = None) -> None:
        """``put`` with a checkpoint before the item goes in (a cancellation there leaves it out)."""
        if blocking:
            await async_checkpoint()
        self.put(item)

    def green_get(self, *, blocking: bool = True, timeout: float | None = None) -> _T:
        """Remove and return an item, waiting in FIFO order; ``QueueEmpty`` if none came in time."""
        if not self._items.green_acquire(blocking=blocking, timeout=timeout):
            raise QueueEmpty
        return self._take()

    async def async_get(self, *, blocking: bool = True, timeout: float | None = None) -> _T:
        """Remove and return an item, waiting in FIFO order; ``QueueEmpty`` if none came in time."""
        if not await self._items.async_acquire(blocking=blocking, timeout=timeout):
            raise QueueEmpty
        return self._take()

    @property
    def putting(self) -> int:
        """Always 0: puts never wait."""
        return 0

    @property
    def waiting(self) -> int:
        """The number of getters waiting now."""
        return self._items.waiting


class SimpleLifoQueue(SimpleQueue[_T]):
    """An unbounded LIFO queue: the newest item comes out first."""

    __slots__ = ()

    def _take(self) -> _T:
        return self._data.pop()  # type: ignore[no-any-return]


class Queue(_Contents[_T]):
    """A FIFO queue, unbounded or bounded by ``maxsize``; subclasses may redefine the container through
    ``_init(items, maxsize)``, ``_put(item)`` and ``_get()``, which run under an internal mutex."""

    __slots__ = ("__weakref__", "_data", "_items", "_maxsize", "_mutex", "_overflow", "_slots")
    _maxsize: int
    _mutex: Any
    _overflow: list[None]
    _slots: Semaphore | None

    def __new__(
        cls, items: Iterable[_T] | int | MissingType | None = MISSING, /, maxsize: int | None = None
    ) -> Self:
        if items is None or isinstance(items, int):
            maxsize = items
            items = MISSING
        if maxsize is not None and maxsize <= 0:
            raise ValueError("maxsize must be >= 1 or None")
        self = object.__new__(cls)
        self._maxsize = 0 if maxsize is None else maxsize
        self._mutex = _create_rlock()
        self._init([] if items is MISSING else items, self._maxsize)
        length = len(self._data)
        self._items = Semaphore(length)
        self._slots = None if maxsize is None else Semaphore(max(maxsize - length, 0))
        # Initial items beyond maxsize: the gets that take them must not free a place.
        self._overflow = [None] * max(length - self._maxsize, 0) if maxsize is not None else []
        return self

    def __getnewargs__(self) -> tuple[Any, ...]:
        maxsize = self._maxsize or None
        if self._data:
            return (self._content(), maxsize)
        return (maxsize,)

    def __repr__(self) -> str:
        args = repr(self._content())
        if self._maxsize:
            args += f", maxsize={self._maxsize}"
        length = len(self._data)
        if not length:
            state = f"length=0, getting={self._items.waiting}"
        elif self._maxsize and length >= self._maxsize:
            state = f"length={length}, putting={self.putting}"
        else:
            state = f"length={length}"
        return object_repr(self, args, state)

    # container hooks (called under the mutex) ---------------------------------------------------------------

    def _init(self, items: Iterable[_T], maxsize: int) -> None:
        self._data = deque(items)

    def _put(self, item: _T) -> None:
        self._data.append(item)

    def _get(self) -> _T:
        return self._data.popleft()  # type: ignore[no-any-return]

    # putting and getting ----------------------------------------------------------------------------------

    def _insert(self, item: _T) -> None:
        with self._mutex:
            self._put(item)
        self._items.release()

    def _remove(self) -> _T:
        with self._mutex:
            item = self._get()
        if self._slots is not None:
            try:
                self._overflow.pop()
            except IndexError:
                self._slots.release()
        return item

    def green_put(self, item: _T, *, blocking: bool = True, timeout: float | None = None) -> None:
        """Add ``item``, waiting in FIFO order while the queue is full; ``QueueFull`` if no place came."""
        if self._slots is None:
            if blocking:
                green_checkpoint()
        elif not self._slots.green_acquire(blocking=blocking, timeout=timeout):
            raise QueueFull
        self._insert(item)

    async def async_put(self, item: _T, *, blocking: bool = True, timeout: float | None = None) -> None:
        """Add ``item``, waiting in FIFO order while the queue is full; ``QueueFull`` if no place came."""
        if self._slots is None:
            if blocking:
                await async_checkpoint()
        elif not await self._slots.async_acquire(blocking=blocking, timeout=timeout):
            raise QueueFull
        self._insert(item)

    def green_get(self, *, blocking: bool = True, timeout: float | None = None) -> _T:
        """Remove and return an item, waiting in FIFO order; ``QueueEmpty`` if none came in time."""
        if not self._items.green_acquire(blocking=blocking, timeout=timeout):
            raise QueueEmpty
        return self._remove()

    async def async_get(self, *, blocking: bool = True, timeout: float | None = None) -> _T:
        """Remove and return an item, waiting in FIFO order; ``QueueEmpty`` if none came in time."""
        if not await self._items.async_acquire(blocking=blocking, timeout=timeout):
            raise QueueEmpty
        return self._remove()

    @property
    def maxsize(self) -> int:
        """The bound, or 0 for an unbounded queue."""
        return self._maxsize

    @property
    def putting(self) -> int:
        """The number of putters waiting now."""
        return 0 if self._slots is None else self._slots.waiting

    @property
    def waiting(self) -> int:
        """The number of putters and getters waiting now."""
        return self.putting + self._items.waiting


class LifoQueue(Queue[_T]):
    """A queue that returns the newest item first."""

    __slots__ = ()

    def _get(self) -> _T:
        return self._data.pop()  # type: ignore[no-any-return]


class PriorityQueue(Queue[_T]):
    """A queue that returns the smallest item first (a binary heap)."""

    __slots__ = ()

    def _init(self, items: Iterable[_T], maxsize: int) -> None:
        self._data = list(items)
        heapify(self._data)

    def _put(self, item: _T) -> None:
        heappush(self._data, item)

    def _get(self) -> _T:
        return heappop(self._data)  # type: ignore[no-any-return]
