"""Which concurrency library is running the current code.

Green side: a plain OS thread unless a gevent or eventlet hub already exists in this thread (importing or
monkey-patching them is not enough). Async side: sniffio's thread-local override, then a curio kernel, then
sniffio's context variable, then a running asyncio loop. Neither check imports an optional library.
"""

from __future__ import annotations

import sys
from typing import Any

from sniffio import AsyncLibraryNotFoundError
from sniffio import current_async_library_cvar as _async_cvar
from sniffio import thread_local as current_async_library_tlocal

from aiologic.lowlevel._fast import plain_threads, turn_off
from aiologic.lowlevel._signals import _detection_overridden, _signal_safety
from aiologic.lowlevel._threads import original

__all__ = [
    "AsyncLibraryNotFoundError",
    "GreenLibraryNotFoundError",
    "current_async_library",
    "current_async_library_tlocal",
    "current_green_library",
    "current_green_library_tlocal",
]


class GreenLibraryNotFoundError(RuntimeError):
    """Raised when no green library can be detected (the thread fallback makes it rare)."""


class _GreenLibraryTLocal(original("_thread", "_local")):  # type: ignore[misc]
    name: str | None = None

    def __setattr__(self, name: str, value: object) -> None:
        if name == "name":
            _detection_overridden[0] = True
            turn_off(plain_threads)
        super().__setattr__(name, value)


#: Setting ``current_green_library_tlocal.name`` forces :func:`current_green_library` in this thread.
current_green_library_tlocal = _GreenLibraryTLocal()

_modules = sys.modules


def _gevent_hub_exists() -> bool:
    hub_local = _modules.get("gevent._hub_local")
    return hub_local is not None and hub_local.get_hub_if_exists() is not None


def _eventlet_hub_exists() -> bool:
    hubs = _modules.get("eventlet.hubs")
    return hubs is not None and getattr(hubs._threadlocal, "hub", None) is not None


def current_green_library(*, failsafe: bool = False) -> str:
    """Name of the green library of this thread: ``"threading"``, ``"gevent"`` or ``"eventlet"``."""
    if _signal_safety.enabled:
        return "threading"
    name = current_green_library_tlocal.name
    if name is not None:
        return name
    if _gevent_hub_exists():
        return "gevent"
    if _eventlet_hub_exists():
        return "eventlet"
    return "threading"


def _curio_running() -> bool:
    meta = _modules.get("curio.meta")
    return meta is not None and bool(meta.curio_running())


def current_async_library(*, failsafe: bool = False) -> str | None:
    """Name of the async library running this code (anyio reports its backend).

    Raises :class:`AsyncLibraryNotFoundError` outside async code, or returns ``None`` with
    ``failsafe=True``.
    """
    if not _signal_safety.enabled:
        name = current_async_library_tlocal.name
        if name is not None:
            return name
        if _curio_running():
            return "curio"
        name = _async_cvar.get()
        if name is not None:
            return name
        asyncio = _modules.get("asyncio")
        if asyncio is not None and asyncio._get_running_loop() is not None:
            return "asyncio"
    if failsafe:
        return None
    raise AsyncLibraryNotFoundError("unknown async library, or not in async context")


def _running_asyncio_loop() -> Any:
    """The running asyncio loop when :func:`current_async_library` would name asyncio by that loop (no
    signal safety, sniffio override or curio kernel comes first), else ``None``: what a park needs, found
    without the name or a second look-up of the loop. The loop is looked at first: with none running (a
    trio or curio task), nothing else is."""
    asyncio = _modules.get("asyncio")
    if asyncio is None:
        return None
    loop = asyncio._get_running_loop()
    if (
        loop is not None
        and current_async_library_tlocal.name is None
        and not (_detection_overridden[0] and _signal_safety.enabled)
        and ("curio.meta" not in _modules or not _curio_running())
        and _async_cvar.get() is None
    ):
        return loop
    return None
