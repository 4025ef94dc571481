"""Queues: ``SimpleQueue``/``SimpleLifoQueue`` (unbounded, non-blocking put) and ``Queue``/``LifoQueue``/
``PriorityQueue`` (optionally bounded, with the ``_init``/``_put``/``_get`` hooks of ``queue.Queue``).

Design note. A queue is counted by two pools of permits (``_Pool``, a semaphore without the API): ``_items``
holds one permit per item that a getter may take, ``_places`` (bounded queues only) one per free place. A
getter first takes an item permit (waiting in FIFO order if none is free), then an item; a putter takes a
place permit, then inserts and adds an item permit. Because permits are handed straight to the oldest waiter
and passed on when that waiter is cancelled at the moment it is served, an item is never lost or taken twice:
a cancelled getter leaves its item in the queue for the next one, and a cancelled putter never inserted its
item.

Fast paths. While nobody waits, a put is an append to the container plus an append to the item permits, and
a get a pop of a permit plus a pop from the container: no event, no waiter, no library detection (a
checkpoint is skipped without asking which library runs the caller as long as none that checkpoints can be
running, see ``lowlevel._fast``). The container is only touched by a caller that holds a permit for it, and a
permit is added only after its item is in, so a get never finds the container empty.

Atomicity and memory ordering. The permits are lists and waiter queues deques: ``list.append``/``pop`` and
``deque.append``/``popleft`` are atomic under the GIL, and on free-threaded builds each runs under its
object's own lock. The default containers are deques too, so ``Queue``, ``LifoQueue`` and the simple queues
touch them without a mutex. A putter appends the item (under the deque's lock), then the permit (under the
list's lock); a getter pops the permit (under the list's lock), then the item (under the deque's lock). The
list's lock orders the permit's append before its pop, and each thread's program order does the rest, so the
getter that got the permit sees the item. A waiter that queues itself then looks for a free permit, and a
releaser that adds a permit then looks for a waiter, as in ``TokenQueue``: one of the two sees the other, so
no permit stays free while someone waits for it. Containers defined by subclass hooks (``PriorityQueue``'s
heap, any user ``_init``/``_put``/``_get``) may run Python code in the middle of an update, so their hooks run
under a short thread lock, never held across a wait.
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from aiologic._reprs import object_repr
from aiologic._waiting import TokenQueue, async_park, green_park
from aiologic.lowlevel import AsyncEvent, GreenEvent, async_checkpoint, green_checkpoint
from aiologic.lowlevel._checkpoints import _green_quiet
from aiologic.lowlevel._fast import quiet_async
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


def _oldest(data: Any) -> Callable[[], Any]:
    """The deque method that takes the oldest item out (FIFO)."""
    return data.popleft  # type: ignore[no-any-return]


def _newest(data: Any) -> Callable[[], Any]:
    """The deque method that takes the newest item out (LIFO)."""
    return data.pop  # type: ignore[no-any-return]


class _Pool(TokenQueue):
    """One kind of a queue's permits (items to take or places to fill) and the FIFO of callers waiting."""

    __slots__ = ("_tokens", "_waiters")

    def __init__(self, count: int) -> None:
        self._tokens = [None] * count
        self._waiters = deque()

    def take(self) -> bool:
        """Take a free permit if nobody waits for one (a newcomer never barges ahead of waiters)."""
        tokens = self._tokens
        if self._waiters or not tokens:  # the look spares raising IndexError on the way to wait
            return False
        try:
            tokens.pop()
        except IndexError:
            return False
        return True

    def green_checkpoint(self) -> None:
        """The checkpoint of a green fast path that took a permit: on failure the permit goes back."""
        try:
            green_checkpoint()
        except BaseException:
            self._hand_off()
            raise

    async def async_checkpoint(self) -> None:
        """The checkpoint of an async fast path that took a permit: on failure the permit goes back."""
        try:
            await async_checkpoint()
        except BaseException:
            self._hand_off()
            raise

    def _enqueue(self, event: GreenEvent | AsyncEvent) -> tuple[Any]:
        """Queue a waiter on ``event``; its item in the waiter queue."""
        item = (event,)
        self._waiters.append(item)
        if self._tokens:  # freed since ``take``: serve the oldest waiter (a releaser that missed us)
            self._wake_up()
        return item

    def green_wait(self, timeout: float | None) -> bool:
        """Wait in FIFO order for a permit that ``take`` did not get; ``False`` on timeout."""
        event = GreenEvent()
        return green_park(event, timeout, self._waiters, self._enqueue(event), self._hand_off)

    def async_wait(self, timeout: float | None) -> Awaitable[bool]:
        """The async form of :meth:`green_wait`: a plain function returning the park, which spares a
        coroutine level on each suspension and resumption."""
        event = AsyncEvent()
        return async_park(event, timeout, self._waiters, self._enqueue(event), self._hand_off)


class _Contents(Generic[_T]):
    """What both queue families share: the container and its hooks, putting in, getting, copying, pickling."""

    __slots__ = ("__weakref__", "_data", "_items", "_mutex", "_overflow", "_places", "_pull", "_push")
    _data: Any
    _items: _Pool
    _places: _Pool | None
    _overflow: list[None]
    _mutex: Any
    # A class whose hooks are the deque ones below (``_taker`` may change which end a get takes from) puts
    # and gets through bound deque methods without a mutex (see the design note); otherwise through its
    # hooks under the mutex.
    _push: Callable[[_T], object] | None
    _pull: Callable[[], _T] | None
    _atomic: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        hooks = ("_init", "_put", "_get")
        cls._atomic = all(getattr(cls, hook) is getattr(_Contents, hook) for hook in hooks)

    def _setup(self, items: Iterable[_T], maxsize: int | None) -> None:
        cls = type(self)
        self._mutex = None if cls._atomic else _create_rlock()
        self._init(items, maxsize or 0)
        data = self._data
        if cls._atomic:
            self._push = data.append
            self._pull = cls._taker(data)
        else:
            self._push = self._pull = None
        length = len(data)
        self._items = _Pool(length)
        self._places = None if maxsize is None else _Pool(max(maxsize - length, 0))
        # Initial items beyond maxsize: the gets that take them must not free a place.
        self._overflow = [None] * max(length - maxsize, 0) if maxsize is not None else []

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

    # container hooks ---------------------------------------------------------------------------------------

    _taker = staticmethod(_oldest)

    def _init(self, items: Iterable[_T], maxsize: int) -> None:
        self._data = deque(items)

    def _put(self, item: _T) -> None:
        self._data.append(item)

    def _get(self) -> _T:
        return self._taker(self._data)()  # type: ignore[no-any-return]

    # putting in and getting -------------------------------------------------------------------------------

    def _insert(self, item: _T) -> None:
        """Put ``item`` into the container (the caller holds a place, if bounded) and add its permit."""
        push = self._push
        if push is not None:
            push(item)
        else:
            with self._mutex:
                self._put(item)
        self._items._hand_off()

    def _remove(self) -> _T:
        """Take an item out of the container (the caller holds its permit) and free its place."""
        pull = self._pull
        if pull is not None:
            item = pull()
        else:
            with self._mutex:
                item = self._get()
        places = self._places
        if places is not None:
            overflow = self._overflow
            if overflow:
                try:
                    overflow.pop()
                except IndexError:
                    places._hand_off()
            else:
                places._hand_off()
        return item

    def green_get(self, *, blocking: bool = True, timeout: float | None = None) -> _T:
        """Remove and return an item, waiting in FIFO order; ``QueueEmpty`` if none came in time."""
        items = self._items
        if items.take():
            if blocking and not _green_quiet[0]:
                items.green_checkpoint()
        elif not blocking or not items.green_wait(timeout):
            raise QueueEmpty
        return self._remove()

    async def async_get(self, *, blocking: bool = True, timeout: float | None = None) -> _T:
        """Remove and return an item, waiting in FIFO order; ``QueueEmpty`` if none came in time."""
        items = self._items
        if items.take():
            if blocking and not quiet_async[0]:
                await items.async_checkpoint()
        elif not blocking or not await items.async_wait(timeout):
            raise QueueEmpty
        return self._remove()

    @property
    def getting(self) -> int:
        """The number of getters waiting now."""
        return self._items.waiting


class SimpleQueue(_Contents[_T]):
    """An unbounded FIFO queue: ``put()`` never blocks and works from anywhere, gets wait in FIFO order."""

    __slots__ = ()

    def __new__(cls, items: Iterable[_T] | MissingType = MISSING, /) -> Self:
        self = object.__new__(cls)
        self._setup(() if items is MISSING else items, None)
        return self

    def __getnewargs__(self) -> tuple[Any, ...]:
        if self._data:
            return (self._content(),)
        return ()

    def __repr__(self) -> str:
        length = len(self._data)
        state = f"length={length}" if length else f"length=0, getting={self._items.waiting}"
        return object_repr(self, repr(self._content()), state)

    def put(self, item: _T) -> None:
        """Add ``item``; never blocks, never yields (safe in signal handlers and from any thread)."""
        self._insert(item)

    def green_put(self, item: _T, *, blocking: bool = True, timeout: float | None = None) -> None:
        """``put`` with a checkpoint before the item goes in (an interruption there leaves it out)."""
        if blocking and not _green_quiet[0]:
            green_checkpoint()
        self._insert(item)

    async def async_put(self, item: _T, *, blocking: bool = True, timeout: float | None = None) -> None:
        """``put`` with a checkpoint before the item goes in (a cancellation there leaves it out)."""
        if blocking and not quiet_async[0]:
            await async_checkpoint()
        self._insert(item)

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
    _taker = staticmethod(_newest)


class Queue(_Contents[_T]):
    """A FIFO queue, unbounded or bounded by ``maxsize``; subclasses may redefine the container through
    ``_init(items, maxsize)``, ``_put(item)`` and ``_get()``, which then run under an internal mutex."""

    __slots__ = ("_maxsize",)
    _maxsize: int

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
        self._setup([] if items is MISSING else items, maxsize)
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

    def green_put(self, item: _T, *, blocking: bool = True, timeout: float | None = None) -> None:
        """Add ``item``, waiting in FIFO order while the queue is full; ``QueueFull`` if no place came."""
        places = self._places
        if places is None:
            if blocking and not _green_quiet[0]:
                green_checkpoint()
        elif places.take():
            if blocking and not _green_quiet[0]:
                places.green_checkpoint()
        elif not blocking or not places.green_wait(timeout):
            raise QueueFull
        self._insert(item)

    async def async_put(self, item: _T, *, blocking: bool = True, timeout: float | None = None) -> None:
        """Add ``item``, waiting in FIFO order while the queue is full; ``QueueFull`` if no place came."""
        places = self._places
        if places is None:
            if blocking and not quiet_async[0]:
                await async_checkpoint()
        elif places.take():
            if blocking and not quiet_async[0]:
                await places.async_checkpoint()
        elif not blocking or not await places.async_wait(timeout):
            raise QueueFull
        self._insert(item)

    @property
    def maxsize(self) -> int:
        """The bound, or 0 for an unbounded queue."""
        return self._maxsize

    @property
    def putting(self) -> int:
        """The number of putters waiting now."""
        return 0 if self._places is None else self._places.waiting

    @property
    def waiting(self) -> int:
        """The number of putters and getters waiting now."""
        return self.putting + self._items.waiting


class LifoQueue(Queue[_T]):
    """A queue that returns the newest item first."""

    __slots__ = ()
    _taker = staticmethod(_newest)


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
