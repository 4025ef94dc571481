"""The reasons for the patch layer, end to end: legacy programs keep working under ``patch_all()``, and code
written for one world (threads, asyncio, gevent, trio) cooperates with another through the patched stdlib."""

from __future__ import annotations

import asyncio
import queue
import textwrap
import threading
from collections.abc import Iterator

import pytest

import aiologic
from harness import HELLO_SERVER, run_program


@pytest.fixture(autouse=True)
def patched_all() -> Iterator[None]:
    aiologic.patch_all()
    try:
        yield
    finally:
        aiologic.unpatch_all()


LEGACY_PROGRAMS = (
    """
    import aiologic
    aiologic.patch_all()  # first, so every import below creates its primitives from the replacements

    import concurrent.futures, http.server, logging, logging.handlers, queue, threading, urllib.request
    from aiologic.patches import queue as patched_queue, threading as patched_threading

    # concurrent.futures executors
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda x: x * 2, range(500))) == [x * 2 for x in range(500)]
        futures = [pool.submit(pow, 2, n) for n in range(50)]
        assert sorted(f.result(timeout=10) for f in concurrent.futures.as_completed(futures)) == [
            2 ** n for n in range(50)
        ]

    # logging's QueueHandler and QueueListener
    records = []
    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())
    channel = queue.Queue()
    assert isinstance(channel, patched_queue.Queue)
    listener = logging.handlers.QueueListener(channel, Collect())
    listener.start()
    logger = logging.getLogger("legacy")
    logger.propagate = False
    logger.addHandler(logging.handlers.QueueHandler(channel))
    for n in range(200):
        logger.warning("message %d", n)
    listener.stop()
    assert records == [f"message {n}" for n in range(200)]

    # a threading HTTP server and urllib clients on 127.0.0.1
"""
    + HELLO_SERVER
    + """
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda n: urllib.request.urlopen(f"{url}{n}", timeout=10).read(), range(40)))
    assert bodies == [f"/{n}".encode() for n in range(40)]
    stop_serving()

    # threading.Timer: fires, and can be cancelled
    fired = threading.Event()
    assert isinstance(fired, patched_threading.Event)
    threading.Timer(0.01, fired.set).start()
    assert fired.wait(10)
    late = threading.Timer(60, fired.clear)
    late.start()
    late.cancel()
    late.join(10)
    assert not late.is_alive() and fired.is_set()
    print("ok")
"""
)


def test_legacy_programs_keep_working_when_imported_after_the_patch() -> None:
    assert run_program(LEGACY_PROGRAMS).strip() == "ok"


def test_a_pool_class_attribute_bound_before_the_patch_is_reported_and_fixed() -> None:
    program = """
        import queue

        class ConnectionPool:  # as a popular HTTP library does
            QueueCls = queue.LifoQueue

        import sys, types
        module = types.ModuleType("http_pool")
        module.ConnectionPool = ConnectionPool
        ConnectionPool.__module__ = "http_pool"
        sys.modules["http_pool"] = module

        import aiologic
        aiologic.patch_all()
        [place] = [p for p in aiologic.patch_report() if p.place.startswith("http_pool")]
        print(place)
        exec(place.fix)
        print(ConnectionPool.QueueCls is queue.LifoQueue)
    """
    lines = run_program(program).splitlines()
    assert lines == [
        "http_pool.ConnectionPool.QueueCls holds the original queue.LifoQueue; "
        "fix: aiologic.patch_module('http_pool', 'queue')",
        "True",
    ]


def test_asyncio_task_awaits_a_legacy_thread_queue_without_a_thread_per_wait() -> None:
    q: queue.Queue[int] = queue.Queue()

    async def main() -> list[int]:
        before = threading.active_count()
        for _ in range(2000):
            with pytest.raises(queue.Empty):
                await q.async_get(timeout=0.0001)  # type: ignore[attr-defined]
        assert threading.active_count() == before
        producer = threading.Thread(target=lambda: [q.put(n) for n in range(100)])
        producer.start()
        got = [await q.async_get() for _ in range(100)]  # type: ignore[attr-defined]
        producer.join()
        return got

    assert asyncio.run(main()) == list(range(100))


def test_asyncio_queue_and_event_fed_from_a_foreign_thread_wake_their_waiters() -> None:
    async def main() -> tuple[int, bool]:
        q: asyncio.Queue[int] = asyncio.Queue()
        event = asyncio.Event()
        feeder = threading.Thread(target=lambda: (q.put_nowait(7), event.set()))
        feeder.start()
        item = await asyncio.wait_for(q.get(), 10)
        woken = await asyncio.wait_for(event.wait(), 10)
        feeder.join()
        return item, woken

    assert asyncio.run(main()) == (7, True)


SHARED_LOCK = None


def test_a_module_level_asyncio_lock_is_shared_by_two_loops_in_two_threads() -> None:
    global SHARED_LOCK
    SHARED_LOCK = asyncio.Lock()
    counter = [0]

    async def work() -> None:
        assert SHARED_LOCK is not None
        for _ in range(200):
            async with SHARED_LOCK:
                value = counter[0]
                await asyncio.sleep(0)
                counter[0] = value + 1

    threads = [threading.Thread(target=asyncio.run, args=(work(),)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert counter == [400]


def test_gevent_greenlets_keep_running_while_one_waits_on_a_queue_fed_by_a_thread() -> None:
    gevent = pytest.importorskip("gevent")
    result: list[object] = []

    def in_hub_thread() -> None:
        q: queue.Queue[int] = queue.Queue()
        ticks: list[int] = []

        def ticker() -> None:
            for tick in range(20):
                ticks.append(tick)
                if tick == 10:  # only a hub that keeps running gets here and starts the feeder
                    threading.Thread(target=q.put, args=(42,)).start()
                gevent.sleep(0.001)

        waiter = gevent.spawn(q.get, timeout=10)
        other = gevent.spawn(ticker)
        gevent.joinall([waiter, other], timeout=20)
        result.extend([waiter.value, len(ticks)])

    thread = threading.Thread(target=in_hub_thread)
    thread.start()
    thread.join(30)
    assert result == [42, 20]


def test_trio_task_awaits_a_threading_event_set_by_a_thread() -> None:
    trio = pytest.importorskip("trio")
    event = threading.Event()

    async def main() -> bool:
        setter = threading.Thread(target=event.set)
        setter.start()
        with trio.fail_after(10):
            woken = await event.async_wait()  # type: ignore[attr-defined]
        setter.join()
        return bool(woken)

    assert trio.run(main)


# --- living with gevent's and eventlet's monkey patching --------------------------------------------------

WORKLOAD = """
    import queue, threading

    WORKERS, JOBS = 6, 200
    jobs = queue.Queue(maxsize=4)  # bounded: the producer waits for room, the workers for items
    results = queue.Queue()
    lock = threading.Lock()
    registered = threading.Condition()
    go = threading.Event()
    names, tally, failures = [], [0], []

    def worker(name):
        try:
            with registered:
                names.append(name)
                registered.notify_all()
            assert go.wait(10)
            while (item := jobs.get(timeout=10)) is not None:
                with lock:
                    tally[0] += 1
                results.put((name, item * item))
                jobs.task_done()
            jobs.task_done()
        except BaseException as exc:  # a thread's exception would only be printed
            failures.append((name, repr(exc)))

    # threading.Thread: green threads under the green patcher
    threads = [threading.Thread(target=worker, args=(f"thread-{n}",)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    parties = WORKERS
    if WITH_OS_THREAD:  # and a real OS thread, sharing the same queue, lock, condition and event
        os_thread_done = threading.Event()
        def os_worker():
            worker("os-thread")
            os_thread_done.set()
        START_OS_THREAD(os_worker, ())
        parties += 1
    with registered:
        assert registered.wait_for(lambda: len(names) == parties, timeout=10), names
    go.set()
    for n in range(JOBS):
        jobs.put(n, timeout=10)
    for _ in range(parties):
        jobs.put(None, timeout=10)  # one stop per worker
    jobs.join()
    assert not failures, failures
    assert sorted(results.get(timeout=10)[1] for _ in range(JOBS)) == [n * n for n in range(JOBS)]
    assert tally == [JOBS] and results.empty()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    if WITH_OS_THREAD:
        assert os_thread_done.wait(10)
    event = threading.Event()
    threading.Timer(0.01, event.set).start()
    assert event.wait(10)
    print(len(names))
"""

GREEN_PATCHERS = {
    "gevent": (
        "from gevent import monkey; monkey.patch_all()",
        'from gevent import monkey; START_OS_THREAD = monkey.get_original("_thread", "start_new_thread")',
    ),
    "eventlet": (
        "import eventlet; eventlet.monkey_patch()",
        'import eventlet.patcher; START_OS_THREAD = eventlet.patcher.original("_thread").start_new_thread',
    ),
}


@pytest.mark.parametrize(
    ("patcher", "aiologic_last"),
    [("gevent", True), ("gevent", False), ("eventlet", True), ("eventlet", False)],
    ids=["gevent-then-aiologic", "aiologic-then-gevent", "eventlet-then-aiologic", "aiologic-then-eventlet"],
)
def test_coexists_with_green_monkey_patching_in_either_order(patcher: str, aiologic_last: bool) -> None:
    """Green threads exchange through the patched queue, lock, condition and event, and all finish.

    Patched last, aiologic's classes are bound, and a real OS thread joins in. Patched first, gevent's or
    eventlet's classes win where they swap (``Lock``, ``queue.Queue``...): those serve one hub's green
    threads only, so no OS thread takes part.
    """
    pytest.importorskip(patcher)
    theirs, os_thread = GREEN_PATCHERS[patcher]
    ours = "import aiologic; aiologic.patch_all()"
    first, then = (theirs, ours) if aiologic_last else (ours, theirs)
    ours_bound = (
        "from aiologic.patches import queue as patched_queue, threading as patched_threading\n"
        "assert isinstance(jobs, patched_queue.Queue) and isinstance(lock, patched_threading.Lock)"
    )
    program = "\n".join(
        [
            first,
            then,
            os_thread,
            f"WITH_OS_THREAD = {aiologic_last}",
            textwrap.dedent(WORKLOAD),
            ours_bound if aiologic_last else "",
            "aiologic.unpatch_all()",
        ]
    )
    assert run_program(program).split() == ["7" if aiologic_last else "6"]
