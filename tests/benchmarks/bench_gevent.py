"""Hand-off between an OS thread and a gevent greenlet: the thread streams items to a greenlet, and the two
play ping-pong. aiologic's queue is used from both sides as is; gevent's own way is a ``gevent.queue.Queue``
fed through the hub's ``loop.run_callback_threadsafe`` (replies go back through a ``queue.Queue``).

Each trial runs in a fresh thread whose hub is destroyed at the end, so no hub is left in the worker.
Nothing is monkey-patched.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from benchlib import Case, Target, register, start_thread

ITEMS = 20_000
ROUNDS = 2_000


def pipes(
    implementation: str, hub: Any
) -> tuple[Callable[[Any], Any], Callable[[], Any], Callable[..., Any]]:
    """(put from the OS thread, get in the greenlet, a factory of greenlet→thread pipes as (put, get))."""
    if implementation == "aiologic":
        import aiologic

        def ours() -> tuple[Callable[[Any], Any], Callable[[], Any]]:
            made: aiologic.Queue[Any] = aiologic.Queue()
            return made.green_put, made.green_get

        put, get = ours()
        return put, get, ours
    import gevent.queue

    native: Any = gevent.queue.Queue()
    schedule = hub.loop.run_callback_threadsafe

    def back() -> tuple[Callable[[Any], Any], Callable[[], Any]]:
        plain: queue.Queue[Any] = queue.Queue()
        return plain.put, plain.get

    return (lambda item: schedule(native.put_nowait, item)), native.get, back


def in_hub_thread(scenario: Callable[[Any], float]) -> float:
    """Run ``scenario(hub)`` in the main greenlet of a new thread, with a timer keeping the hub alive."""
    results: list[float] = []
    errors: list[BaseException] = []

    def body() -> None:
        import gevent

        hub = gevent.get_hub()
        keepalive = hub.loop.timer(3600.0)
        keepalive.start(lambda: None)
        try:
            results.append(scenario(hub))
        except BaseException as error:
            errors.append(error)
        finally:
            keepalive.close()
            hub.destroy(destroy_loop=True)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


def stream(implementation: str, items: int) -> float:
    def scenario(hub: Any) -> float:
        put, get, _ = pipes(implementation, hub)
        marks: dict[str, float] = {}

        def produce() -> None:
            marks["start"] = time.perf_counter()
            for item in range(items):
                put(item)

        thread = start_thread(produce)
        for _ in range(items):
            get()
        end = time.perf_counter()
        thread.join()
        return (end - marks["start"]) / items

    return in_hub_thread(scenario)


def ping_pong(implementation: str, rounds: int) -> float:
    def scenario(hub: Any) -> float:
        put, get, back = pipes(implementation, hub)
        back_put, back_get = back()
        marks: dict[str, float] = {}

        def client() -> None:
            start = time.perf_counter()
            for item in range(rounds):
                put(item)
                back_get()
            marks["elapsed"] = time.perf_counter() - start

        thread = start_thread(client)
        for _ in range(rounds):
            back_put(get())
        thread.join()
        return marks["elapsed"] / rounds

    return in_hub_thread(scenario)


NATIVE = Target("≤2x gevent's own", 2.0, ("stdlib",))
for name, scenario, ops, unit, scale in (
    ("gevent: OS thread → greenlet stream", stream, ITEMS, "ns/item", 1e9),
    ("gevent: OS thread ↔ greenlet ping-pong", ping_pong, ROUNDS, "µs/round trip", 1e6),
):
    register(
        Case(
            name=name,
            group="gevent",
            unit=unit,
            scale=scale,
            ops=ops,
            repeat=9,
            trials={
                impl: (lambda ops, scenario=scenario, impl=impl: scenario(impl, ops))
                for impl in ("aiologic", "stdlib")
            },
            baseline="gevent.queue.Queue + hub.loop.run_callback_threadsafe",
            targets=(NATIVE,),
        )
    )
