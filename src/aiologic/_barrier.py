"""Barriers: ``Latch`` (single use), ``Barrier`` (cyclic) and ``RBarrier`` (cyclic, can be reset).

Design note. Arrivals queue an item ``[event, outcome]``. Whoever sees ``parties`` items queued takes the
one-element "trip" token and releases a group: it pops the oldest ``parties`` items, writes each one's
arrival index into its item and sets its event, then puts the token back and looks again (so arrivals that
queued meanwhile are never stranded). Breaking writes ``BROKEN`` instead. A waiter reads its outcome only
after its event fired, so whichever of "trip" and "break" reached it first decides. A party whose own wait
failed (timeout, cancellation, error) breaks the barrier unless the trip had already counted it, in which
case it keeps the trip's result (or propagates its error without breaking anything).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from aiologic._reprs import object_repr
from aiologic.lowlevel import async_checkpoint, create_async_event, create_green_event, green_checkpoint
from aiologic.lowlevel._threads import sleep as _thread_sleep
from aiologic.meta import DEFAULT, DefaultType

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Barrier", "BrokenBarrierError", "Latch", "RBarrier"]


class BrokenBarrierError(RuntimeError):
    """Raised by a wait on a barrier or latch that is (or becomes) broken."""


BROKEN: Final = object()


class _Gate:
    """What latches and barriers share: parties, the queue of arrivals, tripping and breaking."""

    __slots__ = ("_broken", "_parties", "_trip", "_waiters")
    _parties: int
    _waiters: deque[list[Any]]
    _trip: list[None]
    _broken: bool
    _cyclic = False
    _error: type[BaseException] = BrokenBarrierError  # what a broken wait raises

    def _new(self, parties: int | DefaultType) -> None:
        if parties is DEFAULT:
            parties = 0
        elif parties < 0:
            raise ValueError("parties must be >= 0")
        self._parties = parties
        self._waiters = deque()
        self._trip = [None]
        self._broken = False

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self._parties,) if self._parties else ()

    def __getstate__(self) -> None:
        return None

    def __copy__(self) -> Self:
        return type(self)(*self.__getnewargs__())

    def _release_groups(self) -> bool:
        """Release every full group now queued; ``True`` if this call released one."""
        parties = self._parties
        waiters = self._waiters
        released = False
        while parties and len(waiters) >= parties and not self._broken:
            try:
                self._trip.pop()
            except IndexError:
                return released  # the holder looks again after putting the token back
            try:
                while len(waiters) >= parties and not self._broken:
                    if not self._cyclic:
                        self._passed()
                        parties = len(waiters)
                    group: list[list[Any]] = []
                    try:
                        while len(group) < parties:
                            group.append(waiters.popleft())
                    except IndexError:  # only a break empties the queue behind our back
                        self._settle(group, BROKEN)
                        break
                    self._settle(group, None)
                    released = True
            finally:
                self._trip.append(None)
            parties = self._parties
        return released

    @staticmethod
    def _settle(group: list[list[Any]], outcome: Any) -> None:
        """Write each item's outcome (its index, unless given) and wake it."""
        for index, item in enumerate(group):
            item[1] = index if outcome is None else outcome
            item[0].set()

    def _passed(self) -> None:
        """A latch stays open once it released its group."""

    def _break(self) -> None:
        self._broken = True
        waiters = self._waiters
        while waiters:
            try:
                item = waiters.popleft()
            except IndexError:
                break
            item[1] = BROKEN
            item[0].set()

    def _claim(self, item: list[Any]) -> Any:
        """After a wait that was not woken: ``None`` if nobody counted this party (it leaves the queue),
        else the outcome a trip or a break wrote for it (its wake-up lost the race to the timeout).

        Taking the trip token excludes a release in progress; its holder never blocks, so waiting for it is
        short. A break writes its outcome right after taking the item.
        """
        trip = self._trip
        while True:
            try:
                trip.pop()
            except IndexError:
                _thread_sleep(0)
            else:
                break
        try:
            self._waiters.remove(item)
        except ValueError:
            pass
        else:
            return None
        finally:
            trip.append(None)
        while item[1] is None:
            _thread_sleep(0)
        return item[1]

    def _arrive(self, event: Any) -> tuple[list[Any], bool]:
        item = [event, None]
        self._waiters.append(item)
        if self._broken:
            self._break()
        return item, self._release_groups()

    def _outcome(self, item: list[Any], woken: bool) -> Any:
        if not woken:
            outcome = self._claim(item)
            if outcome is None:  # timed out before the group was complete: that breaks the barrier
                self._break()
                raise self._error
        else:
            outcome = item[1]
        if outcome is BROKEN:
            raise self._error
        return outcome

    def _interrupted(self, item: list[Any]) -> None:
        """An exception ended the wait: break the barrier unless a trip had counted this party."""
        if not item[0].is_set() and self._claim(item) is None:
            self._break()

    def _green_wait(self, timeout: float | None) -> Any:
        event = create_green_event()
        item, tripped = self._arrive(event)
        try:
            woken = event.wait(timeout)
        except BaseException:
            self._interrupted(item)
            raise
        outcome = self._outcome(item, woken)
        if tripped:
            green_checkpoint(force=True)  # the completing party lets the earlier arrivals run first
        return outcome

    async def _async_wait(self, timeout: float | None) -> Any:
        event = create_async_event()
        item, tripped = self._arrive(event)
        try:
            woken = await event.with_(timeout)
        except BaseException:
            self._interrupted(item)
            raise
        outcome = self._outcome(item, woken)
        if tripped:
            await async_checkpoint(force=True)
        return outcome

    def abort(self) -> None:
        """Break the barrier: every waiter, and every later wait, raises ``BrokenBarrierError``."""
        self._break()

    @property
    def parties(self) -> int:
        """The number of arrivals that releases a group."""
        return self._parties

    @property
    def broken(self) -> bool:
        """Whether the barrier is broken."""
        return self._broken

    @property
    def waiting(self) -> int:
        """The number of tasks waiting now."""
        return len(self._waiters)


class Latch(_Gate):
    """A single-use barrier: once ``parties`` tasks wait, all pass, and so does everyone after them."""

    __slots__ = ("__weakref__", "_filling")
    _filling: bool

    def __new__(cls, parties: int | DefaultType = DEFAULT) -> Self:
        self = object.__new__(cls)
        self._new(parties)
        self._filling = True
        return self

    def __repr__(self) -> str:
        args = str(self._parties) if self._parties else ""
        if self._broken:
            return object_repr(self, args, "broken")
        if self._filling:
            return object_repr(self, args, f"filling, waiting={len(self._waiters)}")
        return object_repr(self, args, "draining")

    def __bool__(self) -> bool:
        return self._broken or not self._filling

    def _passed(self) -> None:
        self._filling = False

    def _release_groups(self) -> bool:
        if not self._filling and not self._broken:
            # Passed already: whoever queued late is released at once.
            while self._waiters:
                try:
                    item = self._waiters.popleft()
                except IndexError:
                    break
                item[1] = 0
                item[0].set()
            return False
        return super()._release_groups()

    def wait(self, timeout: float | None = None) -> None:
        """Block until ``parties`` tasks wait (or the latch passed); ``BrokenBarrierError`` if broken."""
        if not self._filling or self._broken:
            green_checkpoint()
            if self._broken:
                raise self._error
            return
        self._green_wait(timeout)

    async def with_(self, timeout: float | None = None) -> None:
        """Wait until ``parties`` tasks wait (or the latch passed); ``BrokenBarrierError`` if broken."""
        if not self._filling or self._broken:
            await async_checkpoint()
            if self._broken:
                raise self._error
            return
        await self._async_wait(timeout)

    def __await__(self) -> Generator[Any, Any, None]:
        return self.with_().__await__()


class Barrier(_Gate):
    """A cyclic barrier: every ``parties`` consecutive arrivals pass together, each with its index."""

    __slots__ = ("__weakref__",)
    _cyclic = True

    def __new__(cls, parties: int | DefaultType = DEFAULT) -> Self:
        self = object.__new__(cls)
        self._new(parties)
        return self

    def _args(self) -> str:
        return str(self._parties) if self._parties else ""

    def __repr__(self) -> str:
        if self._broken:
            return object_repr(self, self._args(), "broken")
        if not self._trip:
            return object_repr(self, self._args(), "draining")
        return object_repr(self, self._args(), f"filling, waiting={len(self._waiters)}")

    def wait(self, timeout: float | None = None) -> int:
        """Block until this arrival's group is complete; returns the arrival index (0 first)."""
        if self._broken:
            green_checkpoint()
            raise self._error
        return int(self._green_wait(timeout))

    async def with_(self, timeout: float | None = None) -> int:
        """Wait until this arrival's group is complete; returns the arrival index (0 first)."""
        if self._broken:
            await async_checkpoint()
            raise self._error
        return int(await self._async_wait(timeout))

    def __await__(self) -> Generator[Any, Any, int]:
        return self.with_().__await__()

    def __enter__(self) -> int:
        return self.wait()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.abort()

    async def __aenter__(self) -> int:
        return await self.with_()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.abort()


class RBarrier(Barrier):
    """A cyclic barrier that ``reset()`` brings back from broken."""

    __slots__ = ("_resetting",)
    _resetting: bool

    def __new__(cls, parties: int | DefaultType = DEFAULT) -> Self:
        self = super().__new__(cls, parties)
        self._resetting = False
        return self

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self._parties,)

    def _args(self) -> str:
        return str(self._parties)

    def __repr__(self) -> str:
        if self._resetting:
            return object_repr(self, self._args(), "resetting")
        return super().__repr__()

    def reset(self) -> None:
        """Release every current waiter with ``BrokenBarrierError``, then make the barrier usable again."""
        self._resetting = True
        try:
            self._break()
        finally:
            self._broken = False
            self._resetting = False
