"""Waking everybody: N = 50, 200, 800 threads blocked on an Event, a Latch or a Barrier, against
``threading.Event`` / ``threading.Barrier`` and the published release.

Each trial starts N threads that block on the primitive, waits until the primitive counts N waiters (and a
few milliseconds more, so the last ones are really asleep), then sets the event or makes the last arrival
from the main thread. The time is from that call to the moment the last of the N threads has woken (each
woken thread notes the time, then parks until the trial ends); how it grows with N is the point.
"""

from __future__ import annotations

import _thread
import importlib
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchlib import Case, Target, register

SIZES = (50, 200, 800)
SETTLE = 0.005  # seconds given to the last counted waiter to fall asleep
COUNT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Primitive:
    make: Callable[[int], Any]  # parties -> object; N waiters wait, the main thread triggers
    wait: Callable[[Any], Any]
    trigger: Callable[[Any], Any]
    waiting: Callable[[Any], int]


def event(module: str) -> Primitive:
    # threading.Event keeps its sleepers in its condition's private list; aiologic counts them in .waiting.
    def waiting(obj: Any) -> int:
        return len(obj._cond._waiters) if module == "threading" else int(obj.waiting)

    return Primitive(
        lambda _: importlib.import_module(module).Event(), lambda o: o.wait(), lambda o: o.set(), waiting
    )


def arrival(module: str, factory: str) -> Primitive:
    def waiting(obj: Any) -> int:
        return int(obj.n_waiting if module == "threading" else obj.waiting)

    def make(parties: int) -> Any:
        return getattr(importlib.import_module(module), factory)(parties + 1)

    return Primitive(make, lambda o: o.wait(), lambda o: o.wait(), waiting)


def wake_all(primitive: Primitive, count: int) -> float:
    obj = primitive.make(count)
    woken = [0.0] * count
    order = itertools.count(1)
    all_woken = _thread.allocate_lock()
    all_woken.acquire()
    # Woken threads park on this lock until the measurement is over, so that neither their exit nor the
    # main thread joining them competes for the GIL with the wake-ups still under way.
    parked = _thread.allocate_lock()
    parked.acquire()

    def sleeper(index: int) -> None:
        primitive.wait(obj)
        woken[index] = time.perf_counter()
        if next(order) == count:
            all_woken.release()
        with parked:
            pass

    threads = [threading.Thread(target=sleeper, args=(index,), daemon=True) for index in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + COUNT_TIMEOUT
    while primitive.waiting(obj) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {primitive.waiting(obj)} of {count} threads came to wait")
        time.sleep(0.001)
    time.sleep(SETTLE)
    start = time.perf_counter()
    primitive.trigger(obj)
    all_woken.acquire()
    parked.release()
    for thread in threads:
        thread.join()
    return max(woken) - start


def trial(primitive: Primitive, count: int) -> Callable[[int], float]:
    return lambda _: wake_all(primitive, count)


KINDS = {
    "Event": ({"aiologic": event("aiologic"), "stdlib": event("threading")}, "threading.Event"),
    "Latch": (
        {"aiologic": arrival("aiologic", "Latch"), "stdlib": arrival("threading", "Barrier")},
        "threading.Barrier (no latch in the stdlib)",
    ),
    "Barrier": (
        {"aiologic": arrival("aiologic", "Barrier"), "stdlib": arrival("threading", "Barrier")},
        "threading.Barrier",
    ),
}

for kind, (primitives, baseline) in KINDS.items():
    for size in SIZES:
        register(
            Case(
                name=f"wake-all {kind}, N={size}",
                group="wake-all",
                unit="µs",
                scale=1e6,
                ops=1,
                repeat=11,
                trials={name: trial(primitive, size) for name, primitive in primitives.items()},
                baseline=baseline,
                targets=(Target("≤1.0x 0.17.1", 1.0, ("published",)),) if size == max(SIZES) else (),
                params={"kind": kind, "n": size},
            )
        )
