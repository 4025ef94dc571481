"""Capacity limiters: ``CapacityLimiter`` and the reentrant ``RCapacityLimiter``.

Design note. Tokens and waiters are a ``TokenQueue`` like a semaphore's; on top, ``borrowers`` maps each
holder's ``(library, id)`` identity to its recursion level. A token handed to a waiter is recorded there by
the waiter itself once it resumes, so a waiter cancelled at that moment simply passes the token on.
"""

from __future__ import annotations

from collections import deque
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from aiologic._reprs import object_repr
from aiologic._waiting import Owned, Reentrant, async_park, green_park
from aiologic.lowlevel import (
    async_checkpoint,
    create_async_event,
    create_green_event,
    current_async_task_ident,
    current_green_task_ident,
    green_checkpoint,
)
from aiologic.meta import DEFAULT, DefaultType

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["CapacityLimiter", "RCapacityLimiter"]


class CapacityLimiter(Owned):
    """At most ``total_tokens`` holders at once; each thread, greenlet or task holds at most one token."""

    __slots__ = ("__weakref__", "_borrowers", "_tokens", "_total_tokens", "_waiters")
    _borrowers: dict[tuple[str, int], int]
    _total_tokens: int
    _reentrant = False

    def __new__(cls, total_tokens: int | DefaultType = DEFAULT) -> Self:
        if total_tokens is DEFAULT:
            total_tokens = 1
        elif total_tokens < 0:
            raise ValueError("total_tokens must be >= 0")
        self = object.__new__(cls)
        self._total_tokens = total_tokens
        self._tokens = [None] * total_tokens
        self._waiters = deque()
        self._borrowers = {}
        return self

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self._total_tokens,)

    def __getstate__(self) -> None:
        return None

    def __copy__(self) -> Self:
        return type(self)(self._total_tokens)

    def __repr__(self) -> str:
        available = len(self._tokens)
        state = f"available_tokens={available}"
        if not available:
            state += f", waiting={len(self._waiters)}"
        return object_repr(self, str(self._total_tokens), state)

    def __bool__(self) -> bool:
        return len(self._tokens) < self._total_tokens

    def _held(self, ident: tuple[str, int], count: int) -> bool:
        """Handle a caller that already holds a token: reenter, or refuse."""
        if not self._reentrant:
            raise RuntimeError("the current task is already holding one of this capacity limiter's tokens")
        self._borrowers[ident] += count
        return True

    def _green_acquire(self, count: int, blocking: bool, timeout: float | None) -> bool:
        ident = current_green_task_ident()
        if ident in self._borrowers:
            if blocking and self._reentrant:
                green_checkpoint()
            return self._held(ident, count)
        if not self._waiters:
            try:
                self._tokens.pop()
            except IndexError:
                pass
            else:
                self._borrowers[ident] = count
                if blocking:
                    try:
                        green_checkpoint()
                    except BaseException:
                        self._give_back(ident)
                        raise
                return True
        if not blocking:
            return False
        event = create_green_event()
        item = (event,)
        self._waiters.append(item)
        self._wake_up()
        if green_park(event, timeout, self._waiters, item, self._hand_off):
            self._borrowers[ident] = count
            return True
        return False

    async def _async_acquire(self, count: int, blocking: bool, timeout: float | None) -> bool:
        ident = current_async_task_ident()
        if ident in self._borrowers:
            if blocking and self._reentrant:
                await async_checkpoint()
            return self._held(ident, count)
        if not self._waiters:
            try:
                self._tokens.pop()
            except IndexError:
                pass
            else:
                self._borrowers[ident] = count
                if blocking:
                    try:
                        await async_checkpoint()
                    except BaseException:
                        self._give_back(ident)
                        raise
                return True
        if not blocking:
            return False
        event = create_async_event()
        item = (event,)
        self._waiters.append(item)
        self._wake_up()
        if await async_park(event, timeout, self._waiters, item, self._hand_off):
            self._borrowers[ident] = count
            return True
        return False

    def _give_back(self, ident: tuple[str, int]) -> None:
        del self._borrowers[ident]
        self._hand_off()

    def _release(self, ident: tuple[str, int], count: int) -> None:
        level = self._borrowers.get(ident)
        if level is None:
            raise RuntimeError("the current task is not holding any of this capacity limiter's tokens")
        if count > level:
            raise RuntimeError("capacity limiter released too many times")
        if count < level:
            self._borrowers[ident] = level - count
        else:
            self._give_back(ident)

    def green_acquire(self, *, blocking: bool = True, timeout: float | None = None) -> bool:
        """Borrow a token for the current thread or greenlet (FIFO wait)."""
        return self._green_acquire(1, blocking, timeout)

    async def async_acquire(self, *, blocking: bool = True, timeout: float | None = None) -> bool:
        """Borrow a token for the current task (FIFO wait)."""
        return await self._async_acquire(1, blocking, timeout)

    def green_release(self) -> None:
        """Return the current thread's or greenlet's token."""
        self._release(current_green_task_ident(), 1)

    def async_release(self) -> None:
        """Return the current task's token."""
        self._release(current_async_task_ident(), 1)

    def green_borrowed(self) -> bool:
        """Whether the current thread or greenlet holds a token."""
        return current_green_task_ident() in self._borrowers

    def async_borrowed(self) -> bool:
        """Whether the current task holds a token."""
        return current_async_task_ident() in self._borrowers

    @property
    def total_tokens(self) -> int:
        """The number of tokens the limiter was created with."""
        return self._total_tokens

    @property
    def available_tokens(self) -> int:
        """Tokens free now."""
        return len(self._tokens)

    @property
    def borrowed_tokens(self) -> int:
        """Tokens held now (including one being handed to a waiter)."""
        return self._total_tokens - len(self._tokens)

    @property
    def borrowers(self) -> MappingProxyType[tuple[str, int], int]:
        """A live, read-only view: holder identity -> recursion level."""
        return MappingProxyType(self._borrowers)


class RCapacityLimiter(Reentrant, CapacityLimiter):
    """A capacity limiter whose holders may acquire again: levels count, one token per holder."""

    __slots__ = ()

    def _level(self, ident: tuple[str, int]) -> int:
        return self._borrowers.get(ident, 0)
