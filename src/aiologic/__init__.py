"""aiologic: locks, events, queues and more that threads, event loops and greenlets can share."""

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


def __getattr__(name: str) -> object:
    if name in ("__version__", "__version_tuple__"):
        from aiologic._version import __version__, __version_tuple__

        return __version__ if name == "__version__" else __version_tuple__
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
