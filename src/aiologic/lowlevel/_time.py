"""Clocks and sleeps of the current library."""

from __future__ import annotations

import sys
from math import isinf, isnan

from aiologic.lowlevel._checkpoints import green_checkpoint
from aiologic.lowlevel._libraries import current_async_library, current_green_library
from aiologic.lowlevel._threads import TIMEOUT_MAX, monotonic
from aiologic.lowlevel._threads import sleep as _thread_sleep

__all__ = [
    "async_clock",
    "async_seconds_per_sleep",
    "async_seconds_per_timeout",
    "async_sleep",
    "async_sleep_forever",
    "async_sleep_until",
    "green_clock",
    "green_seconds_per_sleep",
    "green_seconds_per_timeout",
    "green_sleep",
    "green_sleep_forever",
    "green_sleep_until",
]

_THREAD_SLEEP_MAX = float(2**30 - 1)


def green_clock() -> float:
    """The monotonic clock of the current green library."""
    # gevent's loop time (libev's ev_now) follows the wall clock; its timers are relative, so the
    # monotonic clock serves gevent as well as threads.
    library = current_green_library()
    if library == "eventlet":
        return float(sys.modules["eventlet.hubs"].get_hub().clock())
    return float(monotonic())


def async_clock() -> float:
    """The clock of the running event loop."""
    library = current_async_library()
    if library == "asyncio":
        return float(sys.modules["asyncio"].get_running_loop().time())
    if library == "trio":
        return float(sys.modules["trio"].current_time())
    if library == "curio":  # curio's kernel runs its timers on time.monotonic
        return float(monotonic())
    raise RuntimeError(f"unsupported async library {library!r}")


def green_seconds_per_sleep() -> float:
    return _THREAD_SLEEP_MAX if current_green_library() == "threading" else sys.float_info.max


def green_seconds_per_timeout() -> float:
    return float(TIMEOUT_MAX) if current_green_library() == "threading" else sys.float_info.max


def async_seconds_per_sleep() -> float:
    current_async_library()
    return sys.float_info.max


def async_seconds_per_timeout() -> float:
    current_async_library()
    return sys.float_info.max


def _check_seconds(seconds: float, name: str = "seconds") -> None:
    if isnan(seconds):
        raise ValueError(f"{name} must be non-NaN")
    if seconds < 0:
        raise ValueError(f"{name} must be non-negative")


def green_sleep(seconds: float, /) -> None:
    """Sleep with the current green library's primitive (only this greenlet under gevent/eventlet)."""
    _check_seconds(seconds)
    if isinf(seconds):
        green_sleep_forever()
    library = current_green_library()
    if library == "gevent":
        sys.modules["gevent"].sleep(seconds)
    elif library == "eventlet":
        sys.modules["eventlet"].sleep(seconds)
    elif seconds == 0:
        green_checkpoint(force=True)
    else:
        deadline = monotonic() + seconds
        while (remaining := deadline - monotonic()) > 0:
            _thread_sleep(min(remaining, _THREAD_SLEEP_MAX))


def green_sleep_until(deadline: float, /) -> None:
    """Sleep until ``deadline`` on :func:`green_clock`."""
    if isnan(deadline):
        raise ValueError("deadline must be non-NaN")
    green_sleep(max(deadline - green_clock(), 0.0))


def green_sleep_forever() -> None:
    """Block until an exception (a timeout, ``GreenletExit``, ``KeyboardInterrupt``) is raised into us."""
    from aiologic.lowlevel._events import create_green_event

    create_green_event().wait()
    raise AssertionError("unreachable")  # pragma: no cover


async def async_sleep(seconds: float, /) -> None:
    """Sleep with the running event loop's primitive."""
    _check_seconds(seconds)
    if isinf(seconds):
        await async_sleep_forever()
    library = current_async_library()
    if library == "asyncio":
        await sys.modules["asyncio"].sleep(seconds)
    elif library == "trio":
        await sys.modules["trio"].sleep(seconds)
    elif library == "curio":
        await sys.modules["curio"].sleep(seconds)
    else:
        raise RuntimeError(f"unsupported async library {library!r}")


async def async_sleep_until(deadline: float, /) -> None:
    """Sleep until ``deadline`` on :func:`async_clock`."""
    if isnan(deadline):
        raise ValueError("deadline must be non-NaN")
    await async_sleep(max(deadline - async_clock(), 0.0))


async def async_sleep_forever() -> None:
    """Wait until the task is cancelled."""
    from aiologic.lowlevel._events import create_async_event

    await create_async_event()
    raise AssertionError("unreachable")  # pragma: no cover
