"""Semaphores: ``Semaphore``, ``BoundedSemaphore``, ``BinarySemaphore`` and ``BoundedBinarySemaphore``.

Design note. The permits are tokens in a list (``value`` is its length): ``pop()`` takes one atomically and
``append()`` returns one, so no operation ever waits on an internal lock. A release hands the permit directly
to the oldest waiter (see ``TokenQueue``). Bounded semaphores keep a second pool, ``_releasable``, the permits
that may still be released, so an over-release is detected atomically too. Every permit taken is appended
to ``_releasable``; for the unbounded classes it is a shared ``deque(maxlen=0)`` that forgets it, so one
uncontended path (``_releasable.append(_tokens.pop())``) serves every class without a per-class hook.
``__enter__`` and ``__aenter__`` inline ``_take`` and skip the checkpoint when no caller can need one (see
``lowlevel._fast``).
"""

from __future__ import annotations

from collections import deque
from itertools import repeat
from types import TracebackType
from typing import TYPE_CHECKING, Any

from aiologic._reprs import object_repr
from aiologic._waiting import TokenQueue, async_park, green_park
from aiologic.lowlevel import async_checkpoint, create_async_event, create_green_event, green_checkpoint
from aiologic.lowlevel._fast import plain_threads, quiet_async
from aiologic.meta import DEFAULT, DefaultType

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["BinarySemaphore", "BoundedBinarySemaphore", "BoundedSemaphore", "Semaphore"]

# The ``_releasable`` of the unbounded classes: taking a permit notes it nowhere.
_FORGET: deque[None] = deque(maxlen=0)


class Semaphore(TokenQueue):
    """A counting semaphore with FIFO hand-off; anyone may release, there is no owner."""

    __slots__ = ("__weakref__", "_initial_value", "_releasable", "_tokens", "_waiters")
    _initial_value: int
    _releasable: list[None] | deque[None]

    def __new__(
        cls, initial_value: int | DefaultType = DEFAULT, max_value: int | DefaultType | None = DEFAULT
    ) -> Any:
        if max_value is not DEFAULT and max_value is not None:
            if cls is Semaphore:
                return BoundedSemaphore(initial_value, max_value)
            raise TypeError(
                f"{cls.__qualname__} is not bounded: inherit from BoundedSemaphore to pass max_value"
            )
        if initial_value is DEFAULT:
            initial_value = 1
        elif initial_value < 0:
            raise ValueError("initial_value must be >= 0")
        return cls._create(initial_value)

    @classmethod
    def _create(cls, initial_value: int) -> Self:
        self = object.__new__(cls)
        self._initial_value = initial_value
        self._tokens = [None] * initial_value
        self._waiters = deque()
        self._releasable = _FORGET
        return self

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self._initial_value,)

    def __getstate__(self) -> None:
        return None

    def __copy__(self) -> Self:
        return type(self)(*self.__getnewargs__())

    def _args(self) -> str:
        return str(self._initial_value)

    def __repr__(self) -> str:
        value = len(self._tokens)
        state = f"value={value}" if value else f"value=0, waiting={len(self._waiters)}"
        return object_repr(self, self._args(), state)

    # acquiring ---------------------------------------------------------------------------------------------

    def _take(self) -> bool:
        """Take a free permit unless others wait for one; never waits, never checkpoints."""
        if not self._waiters:
            try:
                self._releasable.append(self._tokens.pop())
            except IndexError:
                return False
            return True
        return False

    def _green_checkpoint(self) -> None:
        """The checkpoint after a permit was taken at once: if it raises, the permit goes back."""
        try:
            green_checkpoint()
        except BaseException:
            self._return()
            raise

    async def _async_checkpoint(self) -> None:
        try:
            await async_checkpoint()
        except BaseException:
            self._return()
            raise

    def _return(self) -> None:
        if self._releasable is not _FORGET:
            self._releasable.pop()
        self._hand_off()

    def _taken(self) -> None:
        """Note a permit handed over to a waiter."""
        self._releasable.append(None)

    def green_acquire(self, *, blocking: bool = True, timeout: float | None = None) -> bool:
        """Take a permit, waiting in FIFO order; ``False`` on timeout or if ``blocking=False`` fails."""
        if self._take():
            if blocking and not plain_threads[0]:
                self._green_checkpoint()
            return True
        if not blocking:
            return False
        event = create_green_event()
        item = (event,)
        self._waiters.append(item)
        self._wake_up()
        if green_park(event, timeout, self._waiters, item, self._hand_off):
            self._taken()
            return True
        return False

    async def async_acquire(self, *, blocking: bool = True, timeout: float | None = None) -> bool:
        """Take a permit, waiting in FIFO order; ``False`` on timeout or if ``blocking=False`` fails."""
        if self._take():
            if blocking and not quiet_async[0]:
                await self._async_checkpoint()
            return True
        if not blocking:
            return False
        event = create_async_event()
        item = (event,)
        self._waiters.append(item)
        self._wake_up()
        if await async_park(event, timeout, self._waiters, item, self._hand_off):
            self._taken()
            return True
        return False

    # releasing ---------------------------------------------------------------------------------------------

    def release(self, count: int = 1) -> None:
        """Return ``count`` permits (a ``count`` of zero or less does nothing); waiters get them first."""
        if count == 1:  # _hand_off inlined
            self._tokens.append(None)
            if self._waiters:
                self._wake_up()
        else:
            for _ in repeat(None, count):
                self._hand_off()

    green_release = release
    async_release = release

    def __enter__(self) -> Self:
        # _take inlined: ``with`` is the hot path.
        if not self._waiters:
            try:
                self._releasable.append(self._tokens.pop())
            except IndexError:
                pass
            else:
                if not plain_threads[0]:
                    self._green_checkpoint()
                return self
        self.green_acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    async def __aenter__(self) -> Self:
        if not self._waiters:
            try:
                self._releasable.append(self._tokens.pop())
            except IndexError:
                pass
            else:
                if not quiet_async[0]:
                    await self._async_checkpoint()
                return self
        await self.async_acquire()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    @property
    def initial_value(self) -> int:
        """The number of permits the semaphore was created with."""
        return self._initial_value

    @property
    def value(self) -> int:
        """The number of free permits now (a permit handed to a waiter is not free)."""
        return len(self._tokens)


class BoundedSemaphore(Semaphore):
    """A semaphore that refuses to be released more times than it was acquired (beyond ``max_value``)."""

    __slots__ = ("_max_value",)
    _max_value: int

    def __new__(
        cls, initial_value: int | DefaultType = DEFAULT, max_value: int | DefaultType | None = DEFAULT
    ) -> Any:
        if max_value is None:
            max_value = DEFAULT
        if (
            cls is BoundedSemaphore
            and (initial_value is DEFAULT or initial_value <= 1)
            and (max_value is DEFAULT or max_value <= 1)
        ):
            return BoundedBinarySemaphore(initial_value, max_value)
        if initial_value is DEFAULT:
            initial_value = 1 if max_value is DEFAULT else max_value
        if max_value is DEFAULT:
            max_value = initial_value
        return cls._create_bounded(initial_value, max_value)

    @classmethod
    def _create_bounded(cls, initial_value: int, max_value: int) -> Self:
        if initial_value < 0:
            raise ValueError("initial_value must be >= 0")
        if max_value < 0:
            raise ValueError("max_value must be >= 0")
        if max_value < initial_value:
            raise ValueError("max_value must be >= initial_value")
        self = cls._create(initial_value)
        self._max_value = max_value
        self._releasable = [None] * (max_value - initial_value)
        return self

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self._initial_value, self._max_value)

    def _args(self) -> str:
        if self._initial_value == self._max_value:
            return str(self._initial_value)
        return f"{self._initial_value}, max_value={self._max_value}"

    def release(self, count: int = 1) -> None:
        """Return one permit; ``RuntimeError`` if that would exceed ``max_value``."""
        if count != 1:
            raise ValueError("count must be 1")
        try:
            self._releasable.pop()
        except IndexError:
            raise RuntimeError("semaphore released too many times") from None
        self._hand_off()

    green_release = release
    async_release = release

    @property
    def max_value(self) -> int:
        """The most permits the semaphore can hold."""
        return self._max_value


class BinarySemaphore(Semaphore):
    """A semaphore created with 0 or 1 permits; ``release()`` takes no count (and is not bounded)."""

    __slots__ = ()

    def __new__(
        cls, initial_value: int | DefaultType = DEFAULT, max_value: int | DefaultType | None = DEFAULT
    ) -> Any:
        if max_value is not DEFAULT and max_value is not None:
            if cls is BinarySemaphore:
                return BoundedBinarySemaphore(initial_value, max_value)
            raise TypeError(
                f"{cls.__qualname__} is not bounded: inherit from BoundedBinarySemaphore to pass max_value"
            )
        if initial_value is DEFAULT:
            initial_value = 1
        elif initial_value not in (0, 1):
            raise ValueError("initial_value must be 0 or 1")
        return cls._create(initial_value)

    def release(self, count: int = 1) -> None:
        """Return one permit (the value may exceed 1: only the bounded class refuses that)."""
        if count != 1:
            raise ValueError("count must be 1")
        self._hand_off()

    green_release = release
    async_release = release


class BoundedBinarySemaphore(BinarySemaphore, BoundedSemaphore):
    """A binary semaphore that refuses to be released beyond ``max_value`` (0 or 1)."""

    __slots__ = ()

    def __new__(
        cls, initial_value: int | DefaultType = DEFAULT, max_value: int | DefaultType | None = DEFAULT
    ) -> Any:
        if max_value is None:
            max_value = DEFAULT
        if initial_value is not DEFAULT and initial_value not in (0, 1):
            raise ValueError("initial_value must be 0 or 1")
        if max_value is not DEFAULT and max_value not in (0, 1):
            raise ValueError("max_value must be 0 or 1")
        if initial_value is DEFAULT:
            initial_value = 1 if max_value is DEFAULT else max_value
        if max_value is DEFAULT:
            max_value = initial_value
        return cls._create_bounded(initial_value, max_value)

    release = BoundedSemaphore.release
    green_release = BoundedSemaphore.release
    async_release = BoundedSemaphore.release
