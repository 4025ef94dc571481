"""Replacements for ``queue``'s classes: the stdlib API and semantics, shareable with tasks and greenlets.

``Queue``, ``LifoQueue`` and ``PriorityQueue`` keep the standard library's protocol (``mutex``,
``not_empty``, ``not_full``, ``all_tasks_done``, ``unfinished_tasks``, ``queue`` and the ``_init``/``_qsize``/
``_put``/``_get`` hooks; see ``_queues``) and add ``await q.async_put(item)``, ``await q.async_get()`` and
``await q.async_join()``. ``SimpleQueue`` keeps its guarantee that ``put`` never blocks and may be called
from a destructor or a signal handler: its items are a ``deque`` counted by an ``aiologic.Semaphore``.
"""

from __future__ import annotations

import queue
from collections import deque
from typing import TYPE_CHECKING, Any, TypeVar

import aiologic
from aiologic._patching import loop_blocked
from aiologic.lowlevel._threads import original

from ._queues import QueueCore
from .threading import Condition

if TYPE_CHECKING:
    from queue import LifoQueue as _LifoQueue
    from queue import PriorityQueue as _PriorityQueue
    from queue import Queue as _Queue
    from queue import SimpleQueue as _SimpleQueue
else:  # the standard library's classes, also when gevent patched queue before us
    _LifoQueue = original("queue", "LifoQueue")
    _PriorityQueue = original("queue", "PriorityQueue")
    _Queue = original("queue", "Queue")
    _SimpleQueue = original("queue", "SimpleQueue")

__all__ = ["SWAPS", "LifoQueue", "PriorityQueue", "Queue", "SimpleQueue"]

_T = TypeVar("_T")


def _check(block: bool, timeout: float | None) -> None:
    if block and timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")


class Queue(QueueCore, _Queue[_T]):
    """``queue.Queue``; also ``async_put``, ``async_get`` and ``async_join`` for tasks of any library."""

    _Empty = queue.Empty
    _Full = queue.Full
    _ShutDown = getattr(queue, "ShutDown", RuntimeError)

    def __init__(self, maxsize: int = 0) -> None:
        self._setup(maxsize, Condition)
        self.not_empty = self._not_empty
        self.not_full = self._not_full
        self.all_tasks_done = self._all_done

    @property
    def unfinished_tasks(self) -> int:
        return self._tasks

    @unfinished_tasks.setter
    def unfinished_tasks(self, value: int) -> None:
        self._tasks = value

    @property
    def is_shutdown(self) -> bool:
        return self._shut

    @is_shutdown.setter
    def is_shutdown(self, value: bool) -> None:
        self._shut = value

    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        """Put ``item``, waiting for a free place; ``queue.Full`` on timeout or failed non-blocking put."""
        _check(block, timeout)
        self._green_put(item, block, timeout)

    def put_nowait(self, item: _T) -> None:
        """Put ``item`` if there is a free place now, else raise ``queue.Full``."""
        self._put_now(item)

    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        """Remove and return an item, waiting for one; ``queue.Empty`` on timeout or non-blocking failure."""
        _check(block, timeout)
        item: _T = self._green_get(block, timeout)
        return item

    def get_nowait(self) -> _T:
        """Remove and return an item if there is one now, else raise ``queue.Empty``."""
        item: _T = self._get_now()
        return item

    def join(self) -> None:
        """Block until every item put has been processed (``task_done``)."""
        self._green_join()

    async def async_put(self, item: _T, timeout: float | None = None) -> None:
        """The async form of :meth:`put`."""
        _check(True, timeout)
        await self._async_put(item, timeout)

    async def async_get(self, timeout: float | None = None) -> _T:
        """The async form of :meth:`get`."""
        _check(True, timeout)
        item: _T = await self._async_get(timeout)
        return item

    async def async_join(self) -> None:
        """The async form of :meth:`join`."""
        await self._async_join()


class LifoQueue(Queue[_T], _LifoQueue[_T]):
    """``queue.LifoQueue``: the last item put is the first got."""


class PriorityQueue(Queue[Any], _PriorityQueue[Any]):
    """``queue.PriorityQueue``: the lowest item is got first."""


class SimpleQueue(_SimpleQueue[_T]):
    """``queue.SimpleQueue``: unbounded, ``put`` never blocks (and is safe in destructors and signal
    handlers); also ``async_put`` and ``async_get``.

    The items are a ``deque`` counted by a semaphore, as in ``aiologic.SimpleQueue``, held here directly so
    that ``put`` is an append and a release and a ``get`` that finds an item is a take and a ``popleft``,
    without the checkpoint of the aiologic queue (the standard library's never yields there).
    """

    __slots__ = ("_count", "_data")
    _data: deque[_T]
    _count: aiologic.Semaphore

    def __init__(self) -> None:
        self._data = deque()
        self._count = aiologic.Semaphore(0)

    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        """Put ``item``; never blocks (``block`` and ``timeout`` are accepted for compatibility)."""
        self._data.append(item)
        count = self._count
        count._tokens.append(None)  # count.release() inlined
        if count._waiters:
            count._wake_up()

    put_nowait = put

    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        """Remove and return an item, waiting for one; ``queue.Empty`` on timeout or non-blocking failure."""
        if timeout is not None:
            _check(block, timeout)
        count = self._count
        if not count._waiters:  # count._take() inlined (the permits are unbounded: nothing to note)
            try:
                count._tokens.pop()
            except IndexError:
                pass
            else:
                return self._data.popleft()
        if not block:
            raise queue.Empty
        loop_blocked("SimpleQueue.get", timeout)
        if count.green_acquire(timeout=timeout):
            return self._data.popleft()
        raise queue.Empty

    def get_nowait(self) -> _T:
        """Remove and return an item if there is one now, else raise ``queue.Empty``."""
        return self.get(False)

    async def async_put(self, item: _T, timeout: float | None = None) -> None:
        """Put ``item`` (never waits)."""
        self.put(item)

    async def async_get(self, timeout: float | None = None) -> _T:
        """The async form of :meth:`get`."""
        _check(True, timeout)
        if await self._count.async_acquire(timeout=timeout):
            return self._data.popleft()
        raise queue.Empty

    def empty(self) -> bool:
        """Whether the queue holds no item now."""
        return not self._data

    def qsize(self) -> int:
        """The number of items in the queue now."""
        return len(self._data)


SWAPS: dict[str, dict[str, Any]] = {
    "queue": {
        "Queue": Queue,
        "LifoQueue": LifoQueue,
        "PriorityQueue": PriorityQueue,
        "SimpleQueue": SimpleQueue,
    }
}
