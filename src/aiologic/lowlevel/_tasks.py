"""Who is running: the current thread, greenlet or task, and the loop or hub it runs on ("token").

Identities are ``(library, id)`` tuples, so a thread, a greenlet and a task are distinct owners even when they
run on the same OS thread.
"""

from __future__ import annotations

import os
import sys
from contextvars import ContextVar
from types import FrameType
from typing import Any

from sniffio import current_async_library_cvar as _async_cvar

from aiologic.lowlevel._libraries import (
    _curio_running,
    _eventlet_hub_exists,
    _gevent_hub_exists,
    current_async_library,
    current_async_library_tlocal,
    current_green_library,
    current_green_library_tlocal,
)
from aiologic.lowlevel._signals import _detection_overridden, _signal_safety
from aiologic.lowlevel._threads import current_thread, get_ident, original

__all__ = [
    "current_async_task",
    "current_async_task_ident",
    "current_async_token",
    "current_async_token_ident",
    "current_green_task",
    "current_green_task_ident",
    "current_green_token",
    "current_green_token_ident",
]


def _unsupported(kind: str, library: str | None) -> RuntimeError:
    return RuntimeError(f"unsupported {kind} library {library!r}")


def current_green_token() -> Any:
    """The current thread (plain threads) or the hub (gevent, eventlet)."""
    library = current_green_library()
    if library == "threading":
        return current_thread()
    if library == "gevent":
        return sys.modules["gevent"].get_hub()
    if library == "eventlet":
        return sys.modules["eventlet.hubs"].get_hub()
    raise _unsupported("green", library)


def current_green_token_ident() -> tuple[str, int]:
    library = current_green_library()
    if library == "threading":
        return ("threading", get_ident())
    return (library, id(current_green_token()))


def current_green_task() -> Any:
    """The current thread (plain threads) or greenlet (gevent, eventlet)."""
    library = current_green_library()
    if library == "threading":
        return current_thread()
    if library in ("gevent", "eventlet"):
        return sys.modules["greenlet"].getcurrent()
    raise _unsupported("green", library)


class _ThreadIdent(original("_thread", "_local")):  # type: ignore[misc]
    """The identity of a plain thread, built once per thread: locks ask for it on every acquire."""

    def __init__(self) -> None:
        self.ident = ("threading", get_ident())


_thread_ident = _ThreadIdent()
_modules = sys.modules


def current_green_task_ident() -> tuple[str, int]:
    """``("threading", thread id)``, or ``(library, id(greenlet))`` where a gevent/eventlet hub exists."""
    if not _detection_overridden[0] and "gevent" not in _modules and "eventlet" not in _modules:
        return _thread_ident.ident
    if _signal_safety.enabled or (
        current_green_library_tlocal.name is None and not _gevent_hub_exists() and not _eventlet_hub_exists()
    ):
        return _thread_ident.ident
    library = current_green_library()
    if library == "threading":
        return _thread_ident.ident
    if library in ("gevent", "eventlet"):
        return (library, id(_modules["greenlet"].getcurrent()))
    raise _unsupported("green", library)


def current_async_token() -> Any:
    """The running asyncio loop, the ``TrioToken`` or the curio ``Kernel``."""
    library = current_async_library()
    if library == "asyncio":
        return sys.modules["asyncio"].get_running_loop()
    if library == "trio":
        return sys.modules["trio"].lowlevel.current_trio_token()
    if library == "curio":
        return sys.modules["curio.meta"]._locals.kernel
    raise _unsupported("async", library)


def current_async_token_ident() -> tuple[str, int]:
    return (current_async_library(), id(current_async_token()))  # type: ignore[return-value]


def current_async_task() -> Any:
    """The current asyncio, trio or curio task."""
    library = current_async_library()
    if library == "asyncio":
        return sys.modules["asyncio"].current_task()
    if library == "trio":
        return sys.modules["trio"].lowlevel.current_task()
    if library == "curio":
        return _curio_current_task()
    raise _unsupported("async", library)


def _curio_current_task() -> Any:
    # curio only hands the current task out through an async trap; its kernel loop keeps it in the local
    # ``active`` of the frame that drives the coroutine, which is an ancestor of ours.
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__") == "curio.kernel" and "active" in frame.f_locals:
            return frame.f_locals["active"]
        frame = frame.f_back
    raise RuntimeError("no current curio task")


# asyncio's running-loop getter, its table of current tasks and its current_task(), found once asyncio is
# imported. From 3.12 current_task() is written in C and reads the running loop without a system call, so it
# is the whole lookup; 3.10/3.11's is written in Python and their running-loop getter makes a getpid()
# system call, which the hint below replaces.
_asyncio_lookups: tuple[Any, ...] = ()
_C_CURRENT_TASK = sys.version_info >= (3, 12)


def _asyncio_lookups_now() -> tuple[Any, ...]:
    global _asyncio_lookups
    tasks = _modules.get("asyncio.tasks")
    if tasks is not None:
        loop = _modules["asyncio.events"]._get_running_loop
        _asyncio_lookups = (loop, tasks._current_tasks, tasks.current_task)
    return _asyncio_lookups


# 3.10/3.11: the asyncio identity found last in this context, with its loop:
# ``(loop, ("asyncio", id(task)))``. It is only a hint, checked on every use: the loop must run in this
# thread (``_thread_id``, which asyncio's own loops keep; others are not cached) and its current task must
# have that id, which makes the key exactly what the lookup below would build. A forked child starts with a
# fresh variable, as the running loop does not survive the fork either.
_asyncio_hint: ContextVar[tuple[Any, tuple[str, int]]] = ContextVar("aiologic asyncio identity")


def _forget_asyncio_hints() -> None:
    global _asyncio_hint
    _asyncio_hint = ContextVar("aiologic asyncio identity")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_asyncio_hints)


def current_async_task_ident() -> tuple[str, int]:
    """``(library, id(task))`` of the current asyncio, trio or curio task."""
    if (
        current_async_library_tlocal.name is None
        and not (_detection_overridden[0] and _signal_safety.enabled)
        and ("curio.meta" not in _modules or not _curio_running())
        and _async_cvar.get() is None
    ):
        asyncio = _asyncio_lookups or _asyncio_lookups_now()
        if asyncio:
            if _C_CURRENT_TASK:
                try:
                    task = asyncio[2]()
                except RuntimeError:  # no running loop: the full detection below says so
                    task = None
                if task is not None:
                    return ("asyncio", id(task))
            else:
                hint = _asyncio_hint.get(None)
                if hint is not None:
                    loop, key = hint
                    if loop._thread_id == get_ident() and id(asyncio[1].get(loop)) == key[1]:
                        return key
                loop = asyncio[0]()
                if loop is not None:
                    task = asyncio[1].get(loop)
                    if task is not None:
                        key = ("asyncio", id(task))
                        if getattr(loop, "_thread_id", None) == get_ident():
                            _asyncio_hint.set((loop, key))
                        return key
    return (current_async_library(), id(current_async_task()))  # type: ignore[return-value]
