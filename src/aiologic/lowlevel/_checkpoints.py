"""Checkpoints: one yield to the scheduler, which also lets it deliver a pending cancellation.

Defaults: on for trio, off for every other library. ``AIOLOGIC_ASYNC_CHECKPOINTS`` and
``AIOLOGIC_GREEN_CHECKPOINTS`` switch a whole side; ``AIOLOGIC_<LIBRARY>_CHECKPOINTS`` one library and win
over the side's variable when present (even empty). A non-empty value means on, ``"0"`` included. The
environment is read once, at import. ``enable_checkpoints()``/``disable_checkpoints()`` override it for the
current context in the current thread only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator
from contextvars import ContextVar
from types import coroutine
from typing import Any

from aiologic.lowlevel._fast import plain_threads, quiet_async, turn_off
from aiologic.lowlevel._libraries import current_async_library, current_green_library
from aiologic.lowlevel._threads import get_ident
from aiologic.lowlevel._threads import sleep as _thread_sleep
from aiologic.lowlevel._universal import universal_switch
from aiologic.meta import MISSING

__all__ = [
    "async_checkpoint",
    "async_checkpoint_enabled",
    "async_checkpoint_if_cancelled",
    "disable_checkpoints",
    "enable_checkpoints",
    "green_checkpoint",
    "green_checkpoint_enabled",
    "green_checkpoint_if_cancelled",
]

_GREEN_LIBRARIES = ("threading", "gevent", "eventlet")
_ASYNC_LIBRARIES = ("asyncio", "curio", "trio")


def _from_environ(side: str, libraries: tuple[str, ...], defaults: set[str]) -> dict[str, bool]:
    generic = os.environ.get(f"AIOLOGIC_{side}_CHECKPOINTS")
    enabled = {}
    for library in libraries:
        value = os.environ.get(f"AIOLOGIC_{library.upper()}_CHECKPOINTS", generic)
        enabled[library] = library in defaults if value is None else bool(value)
    return enabled


_enabled = {
    **_from_environ("GREEN", _GREEN_LIBRARIES, set()),
    **_from_environ("ASYNC", _ASYNC_LIBRARIES, {"trio"}),
}

#: (thread ident, enabled) of the innermost enable/disable_checkpoints() in this context, or None.
_override: ContextVar[tuple[int, bool] | None] = ContextVar("aiologic_checkpoints", default=None)

# The fast path of every blocking call: libraries whose checkpoints are off by the environment, while nobody
# ever used an override. Primitives look their caller's library up here (it is the first element of its task
# identity) and skip the checkpoint call altogether; a library missing from it goes through the full check.
_quiet = {library: True for library, enabled in _enabled.items() if not enabled}
_green_quiet = [not any(_enabled[library] for library in _GREEN_LIBRARIES)]
if _enabled["threading"]:
    turn_off(plain_threads)
if _enabled["asyncio"] or _enabled["curio"]:
    turn_off(quiet_async)


def _get_override() -> bool | None:
    override = _override.get()
    if override is not None and override[0] == get_ident():
        return override[1]
    return None


def _set_override(value: bool | None) -> None:
    _green_quiet[0] = False
    turn_off(plain_threads, quiet_async)
    _quiet.clear()
    _override.set(None if value is None else (get_ident(), value))


def _enabled_for(library: str) -> bool:
    override = _get_override()
    return _enabled.get(library, False) if override is None else override


def green_checkpoint_enabled() -> bool:
    """Whether green checkpoints are on for the current library and context."""
    return _enabled_for(current_green_library())


def async_checkpoint_enabled() -> bool:
    """Whether async checkpoints are on for the current library and context."""
    return _enabled_for(current_async_library())  # type: ignore[arg-type]


def green_checkpoint(*, force: bool = False) -> None:
    """Yield to other threads or greenlets if checkpoints are on (or ``force``)."""
    if _green_quiet[0] and not force:
        return
    library = current_green_library()
    if not (force or _enabled_for(library)):
        return
    if library == "threading":
        _thread_sleep(0)
    elif library == "gevent":
        sys.modules["gevent"].sleep(0)
    elif library == "eventlet":
        sys.modules["eventlet"].sleep(0)
    else:
        raise RuntimeError(f"unsupported green library {library!r}")


def green_checkpoint_if_cancelled(*, force: bool = False) -> None:
    """Green libraries have no pending cancellation to deliver: does nothing."""


def _async_checkpoint(force: bool) -> Generator[Any, Any, None]:
    library = current_async_library()
    if not (force or _enabled_for(library)):  # type: ignore[arg-type]
        return
    if library == "asyncio":
        yield
    elif library == "trio":
        yield from sys.modules["trio"].lowlevel.checkpoint().__await__()
    elif library == "curio":
        yield from sys.modules["curio"].sleep(0).__await__()
    else:
        raise RuntimeError(f"unsupported async library {library!r}")


@coroutine
def async_checkpoint(*, force: bool = False) -> Generator[Any, Any, None]:
    """Yield to the event loop if checkpoints are on (or ``force``); a cancellation may be raised."""
    yield from _async_checkpoint(force)


@coroutine
def async_checkpoint_if_cancelled(*, force: bool = False) -> Generator[Any, Any, None]:
    """Raise a cancellation that is already pending, without yielding otherwise (trio, curio, anyio)."""
    library = current_async_library()
    if not (force or _enabled_for(library)):  # type: ignore[arg-type]
        return
    if library == "trio":
        yield from sys.modules["trio"].lowlevel.checkpoint_if_cancelled().__await__()
    elif library == "curio":
        yield from sys.modules["curio"].check_cancellation().__await__()
    elif library == "asyncio" and "anyio" in sys.modules:
        anyio = sys.modules["anyio"]
        try:
            yield from anyio.lowlevel.checkpoint_if_cancelled().__await__()
        except RuntimeError:  # anyio is imported but this loop is not run by anyio
            pass


def enable_checkpoints(wrapped: Any = MISSING, /) -> Any:
    """Turn checkpoints on in this context and thread: ``with``/``async with``, decorator or awaitable."""
    return universal_switch(_get_override, _set_override, True, wrapped)


def disable_checkpoints(wrapped: Any = MISSING, /) -> Any:
    """Turn checkpoints off in this context and thread: ``with``/``async with``, decorator or awaitable."""
    return universal_switch(_get_override, _set_override, False, wrapped)
