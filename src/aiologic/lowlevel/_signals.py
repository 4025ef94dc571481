"""Signal safety: code that may run inside a signal handler or a destructor opts out of library detection.

While enabled in a thread, detection reports a plain thread and no async library, so wake-ups take the
thread-safe path even when the waiter lives on this thread's own event loop.
"""

from __future__ import annotations

from typing import Any

from aiologic.lowlevel._fast import plain_threads, quiet_async, turn_off
from aiologic.lowlevel._threads import original
from aiologic.lowlevel._universal import universal_switch
from aiologic.meta import MISSING

__all__ = ["disable_signal_safety", "enable_signal_safety", "signal_safety_enabled"]


class _SignalSafety(original("_thread", "_local")):  # type: ignore[misc]
    enabled: bool = False


_signal_safety = _SignalSafety()

#: Becomes ``[True]`` once signal safety or a library override was ever used in this process: until then,
#: identity look-ups on hot paths skip both checks.
_detection_overridden = [False]


def signal_safety_enabled() -> bool:
    """Whether signal safety is enabled in the current thread."""
    return _signal_safety.enabled


def _get() -> bool:
    return _signal_safety.enabled


def _set(value: bool) -> None:
    _detection_overridden[0] = True
    turn_off(plain_threads, quiet_async)
    _signal_safety.enabled = value


def enable_signal_safety(wrapped: Any = MISSING, /) -> Any:
    """Enable signal safety while a ``with`` block, a call or an await of ``wrapped`` runs."""
    return universal_switch(_get, _set, True, wrapped)


def disable_signal_safety(wrapped: Any = MISSING, /) -> Any:
    """Disable signal safety while a ``with`` block, a call or an await of ``wrapped`` runs."""
    return universal_switch(_get, _set, False, wrapped)
