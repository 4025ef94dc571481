"""The patched classes end to end on the libraries test_patching_programs does not drive: eventlet green
threads, curio tasks, and anyio tasks on both its backends, each waiting on patched stdlib primitives that a
real OS thread feeds; and a real library (urllib3) whose pool class the patch cannot reach by itself.

Every program runs in a fresh interpreter that calls ``aiologic.patch_all()`` before anything else, so this
process stays unpatched. The feeding thread acts only once the waiter is parked on the object (its
``waiting`` count says so), so each step goes through the wake-up path, not the fast path of an object that
is already set or full.
"""

from __future__ import annotations

import sys

import pytest

from harness import HELLO_SERVER, run_program

PATCHED_FIRST = """
    import aiologic
    aiologic.patch_all()  # first: everything below is created from the replacements

    import asyncio, queue, threading, time
    from aiologic.patches import asyncio as patched_asyncio
    from aiologic.patches import queue as patched_queue
    from aiologic.patches import threading as patched_threading


    def parked(waiting):
        # The waiter's side has no event for "I am parked": look at the object's own count, for a while.
        deadline = time.monotonic() + 10
        while not waiting():
            assert time.monotonic() < deadline, "the waiter never parked"
            time.sleep(0.0005)
"""

# What a task of an async library awaits, each fed by one OS thread once the task waits for it.
ASYNC_SCENARIO = """
    q = queue.Queue()
    event = threading.Event()
    lock = threading.Lock()
    cond = threading.Condition()
    aq = asyncio.Queue()
    aevent = asyncio.Event()
    for obj, cls in [
        (q, patched_queue.Queue), (event, patched_threading.Event), (lock, patched_threading.Lock),
        (cond, patched_threading.Condition), (aq, patched_asyncio.Queue), (aevent, patched_asyncio.Event),
    ]:
        assert type(obj) is cls, (obj, cls)
    box = []


    def feeder():
        parked(lambda: q.not_empty.waiting)
        q.put("item")
        parked(lambda: event.waiting)
        event.set()
        parked(lambda: lock.waiting)
        lock.release()  # taken by the main thread: a threading.Lock may be released by any thread
        parked(lambda: cond.waiting)
        with cond:
            box.append("ready")
            cond.notify()
        parked(lambda: len(aq._getters))
        aq.put_nowait("async item")
        parked(lambda: aevent.waiting)
        aevent.set()


    async def main(bounded):
        got = [await bounded(q.async_get())]
        try:
            await q.async_get(timeout=0)
        except queue.Empty:  # a timed-out get raises the module's own exception
            got.append("empty")
        got.append(await bounded(event.async_wait()))
        got.append(await bounded(lock.async_acquire()))
        lock.release()
        async with cond:
            got.append(await bounded(cond.async_wait_for(lambda: box)))
        got.append(await bounded(aq.get()))
        got.append(await bounded(aevent.wait()))
        return got


    lock.acquire()
    feeding = threading.Thread(target=feeder)
    feeding.start()
    got = RUN(main)
    feeding.join(10)
    assert not feeding.is_alive() and not lock.locked()
    print(got)
"""

EXPECTED = repr(["item", "empty", True, True, ["ready"], "async item", True])

RUNNERS = {
    "anyio-asyncio": "anyio.run(main, bounded, backend='asyncio')",
    "anyio-trio": "anyio.run(main, bounded, backend='trio')",
    "curio": "curio.run(main, bounded)",
}

BOUNDED = {
    "anyio": """
    import anyio

    async def bounded(awaitable):
        with anyio.fail_after(10):
            return await awaitable
    """,
    "curio": """
    import curio

    async def bounded(awaitable):
        return await curio.timeout_after(10, awaitable)
    """,
}


def async_program(world: str) -> str:
    library = world.split("-")[0]
    return PATCHED_FIRST + BOUNDED[library] + ASYNC_SCENARIO.replace("RUN(main)", RUNNERS[world])


@pytest.mark.parametrize("world", ["anyio-asyncio", "anyio-trio"])
def test_anyio_tasks_await_patched_primitives_fed_by_a_thread(world: str) -> None:
    """anyio, on asyncio and on trio: ``async_get``, ``async_wait``, ``async_acquire`` and ``async_wait_for``
    of the patched ``queue``/``threading`` classes, and ``get``/``wait`` of the patched ``asyncio.Queue`` and
    ``asyncio.Event`` (on trio too), each woken by a plain thread."""
    pytest.importorskip("anyio")
    if world == "anyio-trio":
        pytest.importorskip("trio")
    assert run_program(async_program(world)).strip() == EXPECTED


def test_trio_imported_after_the_patch_runs() -> None:
    """Spec §3.8: a concurrency library imported after ``patch_all()`` must run exactly as before."""
    pytest.importorskip("trio")
    program = """
        import aiologic
        aiologic.patch_all()
        import queue, threading
        import trio

        async def main():
            q = queue.Queue()
            threading.Thread(target=q.put, args=("from a thread",)).start()
            item = await q.async_get()
            done = await trio.to_thread.run_sync(lambda: "from trio's worker")  # its entry queue at work
            return f"{item}, {done}"

        print(trio.run(main))
    """
    assert run_program(program).strip() == "from a thread, from trio's worker"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="curio 1.6, its latest release, needs Python < 3.12")
def test_curio_tasks_await_patched_primitives_fed_by_a_thread() -> None:
    """curio: the same awaits as on anyio, including the patched asyncio classes in a curio kernel."""
    pytest.importorskip("curio")
    assert run_program(async_program("curio")).strip() == EXPECTED


EVENTLET = """
    import warnings
    warnings.simplefilter("ignore", DeprecationWarning)
    import eventlet  # not monkey patched: the patched classes cooperate with its hub by themselves

    q = queue.Queue()
    event = threading.Event()
    cond = threading.Condition()
    assert type(q) is patched_queue.Queue and type(event) is patched_threading.Event
    assert type(cond) is patched_threading.Condition
    box, ticks = [], []


    def feeder():
        parked(lambda: q.not_empty.waiting)
        q.put(42)
        parked(lambda: event.waiting)
        event.set()
        parked(lambda: cond.waiting)
        with cond:
            box.append("ready")
            cond.notify_all()


    def waiter():
        got = [q.get(timeout=10), event.wait(10)]
        with cond:
            got.append(cond.wait_for(lambda: box, timeout=10))
        return got


    def ticker():
        for tick in range(20):
            ticks.append(tick)
            if tick == 10:  # only a hub that keeps running while the waiter waits gets here
                feeding = threading.Thread(target=feeder)
                feeding.start()
            eventlet.sleep(0)
        return feeding


    waiting = eventlet.spawn(waiter)
    ticking = eventlet.spawn(ticker)
    got = waiting.wait()
    feeding = ticking.wait()
    feeding.join(10)
    assert not feeding.is_alive()
    print(got, len(ticks))
"""


def test_eventlet_green_threads_wait_on_patched_primitives_fed_by_a_thread() -> None:
    """eventlet, not monkey patched: a green thread blocks in ``queue.Queue.get``, ``threading.Event.wait``
    and ``threading.Condition.wait_for`` while another green thread of the same hub keeps running and starts
    the OS thread that feeds them; a wait that blocked the hub's thread would never see that thread start."""
    pytest.importorskip("eventlet")
    assert run_program(PATCHED_FIRST + EVENTLET).strip() == "[42, True, ['ready']] 20"


# --- a real library that binds a pool class before the patch ----------------------------------------------

HTTP_SERVER = (
    HELLO_SERVER
    + """
    def pool_queue_after_request():
        # A request through a PoolManager, then the type of the queue its pool keeps connections in.
        with urllib3.PoolManager() as manager:
            response = manager.request("GET", url + "hello", timeout=10, retries=False)
            assert response.status == 200 and response.data == b"/hello", response.data
            return type(manager.connection_from_url(url).pool)
"""
)

URLLIB3_BEFORE = (
    """
    import queue, threading
    import urllib3  # before the patch: its pool binds queue.LifoQueue as a class attribute

    import aiologic
    aiologic.patch_all()
    from aiologic.patches import queue as patched_queue
"""
    + HTTP_SERVER
    + """
    places = [place for place in aiologic.patch_report() if place.place.startswith("urllib3.connectionpool.")]
    for place in places:
        print(place)
    for fix in sorted({place.fix for place in places}):
        exec(fix)
    print(urllib3.HTTPConnectionPool.QueueCls is patched_queue.LifoQueue)
    print(pool_queue_after_request() is patched_queue.LifoQueue)
    print([place for place in aiologic.patch_report() if place.place.startswith("urllib3.connectionpool.")])
    stop_serving()
"""
)

URLLIB3_AFTER = (
    """
    import aiologic
    aiologic.patch_all()
    from aiologic.patches import queue as patched_queue

    import queue, threading
    import urllib3  # after the patch: nothing to fix
"""
    + HTTP_SERVER
    + """
    print([place for place in aiologic.patch_report() if place.place.startswith("urllib3.")])
    print(pool_queue_after_request() is patched_queue.LifoQueue)
    stop_serving()
"""
)


def test_urllib3_imported_before_the_patch_is_reported_and_fixed() -> None:
    """urllib3 binds ``QueueCls = queue.LifoQueue`` in ``ConnectionPool``'s body. Imported before
    ``patch_all()``, that class attribute keeps the original: ``patch_report()`` names the place with the
    ``patch_module`` call that fixes it; after the fix the attribute is the patched ``LifoQueue`` and a
    PoolManager's pool, after a real request to a server on 127.0.0.1, keeps its connections in one.

    (urllib3 2.x builds the default pool queue as ``queue.LifoQueue(maxsize)`` at call time, so its own pools
    get the patched class even before the fix; code that reads ``QueueCls`` does not.)"""
    pytest.importorskip("urllib3")
    lines = run_program(URLLIB3_BEFORE).splitlines()
    fix = "fix: aiologic.patch_module('urllib3.connectionpool', 'queue')"
    assert (
        f"urllib3.connectionpool.ConnectionPool.QueueCls holds the original queue.LifoQueue; {fix}" in lines
    ), lines
    assert all(line.endswith(fix) for line in lines[:-3]), lines
    assert lines[-3:] == ["True", "True", "[]"], lines


def test_urllib3_imported_after_the_patch_needs_no_fix() -> None:
    pytest.importorskip("urllib3")
    lines = run_program(URLLIB3_AFTER).splitlines()
    assert lines == ["[]", "True"], lines
