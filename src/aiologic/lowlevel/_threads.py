"""The interpreter's own thread primitives, untouched by gevent, eventlet or aiologic's patch layer.

Everything in aiologic that blocks an OS thread goes through these, so that monkey patching applied before
or after ``import aiologic`` cannot turn a thread-level wait into a greenlet switch (or into a recursive call
into aiologic's own replacements).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

__all__ = [
    "allocate_lock",
    "current_thread",
    "current_thread_ident",
    "get_ident",
    "original",
]


# eventlet records what monkey_patch() did by its own keyword, not by module: ``thread=True`` greens
# ``_thread``, ``threading`` and ``queue`` alike, and ``is_monkey_patched("_thread")`` stays False.
_EVENTLET_KEYWORDS = {
    "_thread": "thread",
    "threading": "thread",
    "queue": "thread",
    "selectors": "select",
    "ssl": "socket",
}


def original(module_name: str, name: str) -> Any:
    """The attribute ``name`` of ``module_name`` as it was before gevent or eventlet patched it."""
    gevent_monkey = sys.modules.get("gevent.monkey")
    if gevent_monkey is not None and gevent_monkey.is_module_patched(module_name):
        return gevent_monkey.get_original(module_name, name)
    current = getattr(__import__(module_name), name)
    eventlet_patcher = sys.modules.get("eventlet.patcher")
    if eventlet_patcher is not None and eventlet_patcher.is_monkey_patched(
        _EVENTLET_KEYWORDS.get(module_name, module_name)
    ):
        if _is_own_definition(current, module_name, name):
            # eventlet left it alone (threading.Event, Condition...): the very object code already holds
            return current
        # eventlet keeps no originals; its pristine copy of the module has them
        return getattr(eventlet_patcher.original(module_name), name)
    return current


def _is_own_definition(value: Any, module_name: str, name: str) -> bool:
    """Whether ``value`` is what ``module_name`` itself defines as ``name`` (not a green stand-in such as
    eventlet's ``queue.Queue``, nor an alias it rebound, such as ``threading.RLock = threading._PyRLock``)."""
    return getattr(value, "__module__", None) == module_name and getattr(value, "__qualname__", None) == name


allocate_lock = original("_thread", "allocate_lock")
get_ident = original("_thread", "get_ident")
start_new_thread = original("_thread", "start_new_thread")
monotonic = original("time", "monotonic")
sleep = original("time", "sleep")
TIMEOUT_MAX: float = original("_thread", "TIMEOUT_MAX")

del time


def current_thread_ident() -> int:
    """The OS-level identifier of the current thread (also under gevent/eventlet monkey patching)."""
    return get_ident()  # type: ignore[no-any-return]


def current_thread() -> threading.Thread:
    """The :class:`threading.Thread` running this code, also under gevent/eventlet monkey patching.

    Raises :class:`RuntimeError` in a thread that :mod:`threading` does not know (except the main thread).
    """
    thread = threading._active.get(get_ident())  # type: ignore[attr-defined]
    if thread is None:
        main = threading.main_thread()
        if main.ident == get_ident():
            return main
        raise RuntimeError("no current thread")
    return thread  # type: ignore[no-any-return]
