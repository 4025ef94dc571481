"""What the replacement modules share: timeout rules of the standard library, and the ownerless lock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiologic._patching import loop_blocked
from aiologic._semaphore import BoundedBinarySemaphore
from aiologic.lowlevel._threads import TIMEOUT_MAX

if TYPE_CHECKING:
    from typing_extensions import Self


def lock_timeout(blocking: bool, timeout: float) -> float | None:
    """Validate the ``(blocking, timeout)`` pair of ``_thread.lock.acquire`` (``-1``: wait forever)."""
    if not blocking:
        if timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        return None
    if timeout == -1:
        return None
    if timeout < 0:
        raise ValueError("timeout value must be a non-negative number")
    if timeout > TIMEOUT_MAX:
        raise OverflowError("timeout value is too large")
    return float(timeout)


def wait_timeout(timeout: float | None) -> float | None:
    """The Python-level classes (``Condition``, ``Semaphore``, ``Event``...) treat a negative timeout as 0."""
    if timeout is None:
        return None
    return timeout if timeout > 0 else 0.0


class OwnerlessLock(BoundedBinarySemaphore):
    """A lock that anyone may release, as ``threading.Lock`` and ``asyncio.Lock`` are, on the binary-semaphore
    machinery (FIFO hand-off, every library). The fast path takes the token without a checkpoint, as the
    standard library's locks do; a sync wait that would block applies the loop-block policy first."""

    __slots__ = ()
    _not_held = "release unlocked lock"

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        return cls._create_bounded(1, 1)

    def __init__(self) -> None:
        pass

    def __getnewargs__(self) -> tuple[Any, ...]:
        return ()

    def locked(self) -> bool:
        """Whether the lock is held (by anyone)."""
        return not self._tokens

    def release(self, count: object = 1, *_: object) -> None:
        """Release the lock; any thread or task may; ``RuntimeError`` if it is not held."""
        try:
            self._releasable.pop()
        except IndexError:
            raise RuntimeError(self._not_held) from None
        self._tokens.append(None)  # _hand_off inlined
        if self._waiters:
            self._wake_up()

    # Arguments are ignored (a count, as the semaphores take, or the exception of a ``with`` block), so
    # leaving ``with lock`` is one call.
    __exit__ = green_release = async_release = release

    def green_acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Acquire from a thread or greenlet; ``False`` on timeout or failed ``blocking=False``."""
        if self._take():
            return True
        if not blocking:
            return False
        loop_blocked("lock", timeout)
        return super().green_acquire(timeout=wait_timeout(timeout))

    async def async_acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Acquire from a task of any async library; ``False`` on timeout or failed ``blocking=False``."""
        if self._take():
            return True
        if not blocking:
            return False
        return await super().async_acquire(timeout=wait_timeout(timeout))

    def _at_fork_reinit(self) -> None:
        self._tokens[:] = [None]
        self._releasable.clear()
        self._waiters.clear()
