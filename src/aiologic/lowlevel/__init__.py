"""aiologic's runtime layer: the one place that knows how each concurrency library detects, parks and wakes.

Primitives are written once against this layer: they create a low-level event per waiter, park on it with
``wait()``/``await``, and wake it with ``set()`` from any thread, greenlet, task or loop.
"""

from aiologic.lowlevel._checkpoints import (
    async_checkpoint,
    async_checkpoint_enabled,
    async_checkpoint_if_cancelled,
    disable_checkpoints,
    enable_checkpoints,
    green_checkpoint,
    green_checkpoint_enabled,
    green_checkpoint_if_cancelled,
)
from aiologic.lowlevel._events import (
    CANCELLED_EVENT,
    DUMMY_EVENT,
    SET_EVENT,
    AsyncEvent,
    CancelledEvent,
    DummyEvent,
    Event,
    GreenEvent,
    SetEvent,
    create_async_event,
    create_green_event,
)
from aiologic.lowlevel._libraries import (
    AsyncLibraryNotFoundError,
    GreenLibraryNotFoundError,
    current_async_library,
    current_async_library_tlocal,
    current_green_library,
    current_green_library_tlocal,
)
from aiologic.lowlevel._shield import shield
from aiologic.lowlevel._signals import (
    disable_signal_safety,
    enable_signal_safety,
    signal_safety_enabled,
)
from aiologic.lowlevel._tasks import (
    current_async_task,
    current_async_task_ident,
    current_async_token,
    current_async_token_ident,
    current_green_task,
    current_green_task_ident,
    current_green_token,
    current_green_token_ident,
)
from aiologic.lowlevel._threads import current_thread, current_thread_ident
from aiologic.lowlevel._time import (
    async_clock,
    async_seconds_per_sleep,
    async_seconds_per_timeout,
    async_sleep,
    async_sleep_forever,
    async_sleep_until,
    green_clock,
    green_seconds_per_sleep,
    green_seconds_per_timeout,
    green_sleep,
    green_sleep_forever,
    green_sleep_until,
)
from aiologic.meta import export

__all__ = [
    "CANCELLED_EVENT",
    "DUMMY_EVENT",
    "SET_EVENT",
    "AsyncEvent",
    "AsyncLibraryNotFoundError",
    "CancelledEvent",
    "DummyEvent",
    "Event",
    "GreenEvent",
    "GreenLibraryNotFoundError",
    "SetEvent",
    "async_checkpoint",
    "async_checkpoint_enabled",
    "async_checkpoint_if_cancelled",
    "async_clock",
    "async_seconds_per_sleep",
    "async_seconds_per_timeout",
    "async_sleep",
    "async_sleep_forever",
    "async_sleep_until",
    "create_async_event",
    "create_green_event",
    "current_async_library",
    "current_async_library_tlocal",
    "current_async_task",
    "current_async_task_ident",
    "current_async_token",
    "current_async_token_ident",
    "current_green_library",
    "current_green_library_tlocal",
    "current_green_task",
    "current_green_task_ident",
    "current_green_token",
    "current_green_token_ident",
    "current_thread",
    "current_thread_ident",
    "disable_checkpoints",
    "disable_signal_safety",
    "enable_checkpoints",
    "enable_signal_safety",
    "green_checkpoint",
    "green_checkpoint_enabled",
    "green_checkpoint_if_cancelled",
    "green_clock",
    "green_seconds_per_sleep",
    "green_seconds_per_timeout",
    "green_sleep",
    "green_sleep_forever",
    "green_sleep_until",
    "shield",
    "signal_safety_enabled",
]


export(globals())
