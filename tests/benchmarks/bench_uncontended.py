"""Uncontended operations in one thread: ``with``/``async with`` on locks and semaphores, event fast paths,
and a queue put followed by a get, each against its standard-library counterpart and the published release.
"""

from __future__ import annotations

import importlib
from typing import Any

from benchlib import Case, Setup, Target, micro, register

OPS = 50_000
REPEAT = 15
FASTER_THAN_PUBLISHED = Target("≥2x faster than 0.17.1", 0.5, ("published",))


def build(module: str, factory: str, *args: Any, then: str | None = None, name: str = "obj") -> Setup:
    """A setup making ``module.factory(*args)`` (then calling its method ``then``) available as ``name``."""

    def setup() -> dict[str, Any]:
        made = getattr(importlib.import_module(module), factory)(*args)
        if then is not None:
            getattr(made, then)()
        return {name: made}

    return setup


def row(
    name: str,
    ours: tuple[str, Setup],
    stdlib: tuple[str, Setup] | None = None,
    *,
    is_async: bool = False,
    baseline: str = "",
    targets: tuple[Target, ...] = (),
) -> None:
    trials = {"aiologic": micro(*ours, is_async=is_async)}
    if stdlib is not None:
        trials["stdlib"] = micro(*stdlib, is_async=is_async)
    register(
        Case(
            name=name,
            group="uncontended",
            unit="ns/op",
            scale=1e9,
            ops=OPS,
            repeat=REPEAT,
            trials=trials,
            baseline=baseline,
            targets=(*targets, FASTER_THAN_PUBLISHED),
        )
    )


WITH = "with obj: pass"
ASYNC_WITH = "async with obj: pass"
LOCK_ROW = "Lock: with"
NEAR_THREADING_LOCK = Target("≤1.5x threading.Lock", 1.5, ("stdlib",), case=LOCK_ROW)

row(
    LOCK_ROW,
    (WITH, build("aiologic", "Lock")),
    (WITH, build("threading", "Lock")),
    baseline="threading.Lock",
    targets=(NEAR_THREADING_LOCK,),
)
row(
    "RLock: with",
    (WITH, build("aiologic", "RLock")),
    (WITH, build("threading", "RLock")),
    baseline="threading.RLock",
    targets=(NEAR_THREADING_LOCK,),
)
row(
    "Semaphore: with",
    (WITH, build("aiologic", "Semaphore")),
    (WITH, build("threading", "Semaphore")),
    baseline="threading.Semaphore",
    targets=(NEAR_THREADING_LOCK,),
)
row(
    "Lock: async with (asyncio)",
    (ASYNC_WITH, build("aiologic", "Lock")),
    (ASYNC_WITH, build("asyncio", "Lock")),
    is_async=True,
    baseline="asyncio.Lock",
    targets=(Target("≤1.0x asyncio.Lock", 1.0, ("stdlib",)),),
)
row("RLock: async with (asyncio)", (ASYNC_WITH, build("aiologic", "RLock")), is_async=True)
# asyncio.Lock has no owner; the ownerless aiologic mutex is the like-for-like comparison.
row(
    "BinarySemaphore: async with (asyncio)",
    (ASYNC_WITH, build("aiologic", "BinarySemaphore")),
    (ASYNC_WITH, build("asyncio", "Lock")),
    is_async=True,
    baseline="asyncio.Lock",
)
row(
    "Semaphore: async with (asyncio)",
    (ASYNC_WITH, build("aiologic", "Semaphore")),
    (ASYNC_WITH, build("asyncio", "Semaphore")),
    is_async=True,
    baseline="asyncio.Semaphore",
)

SET_AND_CHECK = "obj.set()\nobj.is_set()"
row(
    "Event: set() + is_set(), already set",
    (SET_AND_CHECK, build("aiologic", "Event", then="set")),
    (SET_AND_CHECK, build("threading", "Event", then="set")),
    baseline="threading.Event",
)
row(
    "Event: create + set(), nobody waiting",
    ("Event().set()", lambda: {"Event": importlib.import_module("aiologic").Event}),
    ("Event().set()", lambda: {"Event": importlib.import_module("threading").Event}),
    baseline="threading.Event",
)
row(
    "Event: wait() on a set event",
    ("obj.wait()", build("aiologic", "Event", then="set")),
    ("obj.wait()", build("threading", "Event", then="set")),
    baseline="threading.Event",
)
row(
    "Event: await a set event (asyncio)",
    ("await obj", build("aiologic", "Event", then="set")),
    ("await obj.wait()", build("asyncio", "Event", then="set")),
    is_async=True,
    baseline="asyncio.Event",
)
row(
    "Queue: green_put + green_get, one thread",
    ("obj.green_put(1)\nobj.green_get()", build("aiologic", "Queue")),
    ("obj.put(1)\nobj.get()", build("queue", "Queue")),
    baseline="queue.Queue put + get",
    targets=(Target("≤0.5x queue.Queue", 0.5, ("stdlib",)),),
)
row(
    "Queue: async_put + async_get (asyncio)",
    ("await obj.async_put(1)\nawait obj.async_get()", build("aiologic", "Queue")),
    ("await obj.put(1)\nawait obj.get()", build("asyncio", "Queue")),
    is_async=True,
    baseline="asyncio.Queue put + get",
    targets=(Target("≤1.0x asyncio.Queue", 1.0, ("stdlib",)),),
)
