"""The algorithm shared by the ``queue`` and ``asyncio`` queue replacements.

Design note. These queues keep the standard library's protocol: a mutex guards the container, which only the
subclass hooks ``_init``/``_qsize``/``_put``/``_get`` touch, and three conditions over that mutex say when
there is an item, a free place, or no unfinished task. So ``with q.mutex: q.queue.clear()`` stays correct,
unlike a design that counts items in a semaphore.

The mutex is an original thread lock that nobody holds across a suspension point: every critical section
here is short and non-blocking, and a waiter releases it while parked. A task or greenlet on an event loop's
thread therefore never waits on it for long, and ``put_nowait``, ``task_done`` or ``qsize`` never depend on a
task that is not running. The conditions are aiologic conditions, so threads, greenlets and tasks of every
library wait on the same queue; a notifier evaluates each waiter's predicate and wakes only waiters that can
proceed, and a waiter cancelled after its notification hands the notification on.
"""

from __future__ import annotations

import sys
from typing import Any

import aiologic
from aiologic._patching import loop_blocked
from aiologic.lowlevel._threads import allocate_lock

_wait_for = aiologic.Condition.wait_for
_for = aiologic.Condition.for_
_notify = aiologic.Condition.notify


def _wake(condition: Any, count: int = 1) -> None:
    if condition._waiters:
        _notify(condition, count)


class QueueCore:
    """The ``mutex`` + conditions queue; subclasses give the API names and the container hooks."""

    _Empty: type[BaseException]
    _Full: type[BaseException]
    _ShutDown: type[BaseException]
    maxsize: int
    mutex: Any
    _not_empty: Any
    _not_full: Any
    _all_done: Any
    _tasks: int
    _shut: bool

    # the container hooks come from the standard library's class, after this one in the MRO
    _init: Any
    _qsize: Any
    _put: Any
    _get: Any

    def _setup(self, maxsize: int, condition: type) -> None:
        self.maxsize = maxsize
        self._init(maxsize)
        self.mutex = allocate_lock()
        self._not_empty = condition(self.mutex)
        self._not_full = condition(self.mutex)
        self._all_done = condition(self.mutex)
        self._tasks = 0
        self._shut = False

    # predicates (the mutex is held) ------------------------------------------------------------------------

    def _room(self) -> bool:
        return self._shut or self.maxsize <= 0 or self._qsize() < self.maxsize

    def _ready(self) -> bool:
        return self._shut or self._qsize() > 0

    def _done(self) -> bool:
        return not self._tasks

    def _accept(self, item: Any) -> None:
        if self._shut:
            raise self._ShutDown
        self._put(item)
        self._tasks += 1
        _wake(self._not_empty)

    def _take(self) -> Any:
        if self._shut and not self._qsize():
            raise self._ShutDown
        item = self._get()
        _wake(self._not_full)
        return item

    # the operations ----------------------------------------------------------------------------------------

    def _green_put(self, item: Any, block: bool, timeout: float | None) -> None:
        with self.mutex:
            if not self._room():
                if not block:
                    raise self._Full
                loop_blocked(f"{type(self).__name__}.put", timeout)
                if not _wait_for(self._not_full, self._room, timeout):
                    raise self._Full
            self._accept(item)

    async def _async_put(self, item: Any, timeout: float | None) -> None:
        with self.mutex:
            if not self._room() and not await _for(self._not_full, self._room, timeout):
                raise self._Full
            self._accept(item)

    def _put_now(self, item: Any) -> None:
        with self.mutex:
            if not self._room():
                raise self._Full
            self._accept(item)

    def _green_get(self, block: bool, timeout: float | None) -> Any:
        with self.mutex:
            if not self._ready():
                if not block:
                    raise self._Empty
                loop_blocked(f"{type(self).__name__}.get", timeout)
                if not _wait_for(self._not_empty, self._ready, timeout):
                    raise self._Empty
            return self._take()

    async def _async_get(self, timeout: float | None) -> Any:
        with self.mutex:
            if not self._ready() and not await _for(self._not_empty, self._ready, timeout):
                raise self._Empty
            return self._take()

    def _get_now(self) -> Any:
        with self.mutex:
            if not self._ready():
                raise self._Empty
            return self._take()

    def task_done(self) -> None:
        """Mark one fetched item as processed; ``ValueError`` if there were none."""
        with self.mutex:
            unfinished = self._tasks - 1
            if unfinished < 0:
                raise ValueError("task_done() called too many times")
            self._tasks = unfinished
            if not unfinished:
                _wake(self._all_done, -1)

    def _green_join(self) -> None:
        with self.mutex:
            if self._tasks:
                loop_blocked(f"{type(self).__name__}.join")
                _wait_for(self._all_done, self._done)

    async def _async_join(self) -> None:
        with self.mutex:
            if self._tasks:
                await _for(self._all_done, self._done)

    def qsize(self) -> int:
        """The number of items in the queue now."""
        with self.mutex:
            return int(self._qsize())

    def empty(self) -> bool:
        """Whether the queue holds no item now."""
        with self.mutex:
            return bool(not self._qsize())

    def full(self) -> bool:
        """Whether the queue is bounded and holds ``maxsize`` items now."""
        with self.mutex:
            return bool(0 < self.maxsize <= self._qsize())

    if sys.version_info >= (3, 13):

        def shutdown(self, immediate: bool = False) -> None:
            """Refuse new items; with ``immediate``, drop the queued ones too. Blocked callers are woken."""
            with self.mutex:
                self._shut = True
                if immediate:
                    while self._qsize():
                        self._get()
                        if self._tasks > 0:
                            self._tasks -= 1
                    _wake(self._all_done, -1)
                _wake(self._not_empty, -1)
                _wake(self._not_full, -1)
