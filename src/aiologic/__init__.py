"""aiologic: locks, events, queues and more that threads, event loops and greenlets can share."""

from typing import TYPE_CHECKING

from aiologic import lowlevel as lowlevel
from aiologic import meta as meta
from aiologic._barrier import Barrier, BrokenBarrierError, Latch, RBarrier
from aiologic._condition import Condition
from aiologic._event import CountdownEvent, Event, REvent
from aiologic._flag import Flag
from aiologic._guard import BusyResourceError, ResourceGuard
from aiologic._limiter import CapacityLimiter, RCapacityLimiter
from aiologic._lock import Lock, RLock
from aiologic._queue import (
    LifoQueue,
    PriorityQueue,
    Queue,
    QueueEmpty,
    QueueFull,
    SimpleLifoQueue,
    SimpleQueue,
)
from aiologic._semaphore import BinarySemaphore, BoundedBinarySemaphore, BoundedSemaphore, Semaphore
from aiologic._synchronized import synchronized
from aiologic.meta import export

if TYPE_CHECKING:  # imported on first use at run time (see __getattr__)
    from aiologic._patching import (
        LoopBlockError as LoopBlockError,
    )
    from aiologic._patching import (
        LoopBlockWarning as LoopBlockWarning,
    )
    from aiologic._patching import (
        UnpatchedPlace as UnpatchedPlace,
    )
    from aiologic._patching import (
        is_patched as is_patched,
    )
    from aiologic._patching import (
        patch as patch,
    )
    from aiologic._patching import (
        patch_all as patch_all,
    )
    from aiologic._patching import (
        patch_module as patch_module,
    )
    from aiologic._patching import (
        patch_report as patch_report,
    )
    from aiologic._patching import (
        patched as patched,
    )
    from aiologic._patching import (
        unpatch as unpatch,
    )
    from aiologic._patching import (
        unpatch_all as unpatch_all,
    )

__all__ = [
    "Barrier",
    "BinarySemaphore",
    "BoundedBinarySemaphore",
    "BoundedSemaphore",
    "BrokenBarrierError",
    "BusyResourceError",
    "CapacityLimiter",
    "Condition",
    "CountdownEvent",
    "Event",
    "Flag",
    "Latch",
    "LifoQueue",
    "Lock",
    "PriorityQueue",
    "Queue",
    "QueueEmpty",
    "QueueFull",
    "RBarrier",
    "RCapacityLimiter",
    "REvent",
    "RLock",
    "ResourceGuard",
    "Semaphore",
    "SimpleLifoQueue",
    "SimpleQueue",
    "synchronized",
]

export(globals())


# The patch layer, imported when first used (``aiologic.patch_all`` and the rest).
_PATCHING = frozenset(
    {
        "LoopBlockError",
        "LoopBlockWarning",
        "UnpatchedPlace",
        "is_patched",
        "patch",
        "patch_all",
        "patch_module",
        "patch_report",
        "patched",
        "unpatch",
        "unpatch_all",
    }
)


def __getattr__(name: str) -> object:
    if name in _PATCHING:
        from aiologic import _patching

        value = getattr(_patching, name)
        globals()[name] = value
        return value
    if name in ("__version__", "__version_tuple__"):
        from aiologic._version import __version__, __version_tuple__

        return __version__ if name == "__version__" else __version_tuple__
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
