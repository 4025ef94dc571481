"""The uncontended fast paths of locks, semaphores and conditions (see ``aiologic.lowlevel._fast``).

The rest of the suite imports gevent, which turns the plain-thread fast paths off for the whole process, so
these scenarios run in a fresh interpreter that imports neither greenlet nor trio.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PRELUDE = """
import asyncio, sys, threading
import aiologic
from aiologic.lowlevel._fast import plain_threads, quiet_async

def in_thread(function):
    result = []

    def run():
        try:
            result.append((True, function()))
        except BaseException as exc:
            result.append((False, exc))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    ok, value = result[0]
    if not ok:
        raise value
    return value

def raises(function, message):
    try:
        function()
    except RuntimeError as exc:
        assert message in str(exc), exc
    else:
        raise AssertionError(f"no RuntimeError({message!r})")

assert plain_threads == [True] and quiet_async == [True], (plain_threads, quiet_async)
"""

SCENARIOS = {
    "lock ownership": """
        lock = aiologic.Lock()
        me = ("threading", threading.get_ident())
        with lock:
            assert lock.owner == me and lock.locked() and lock.green_owned()
            raises(lambda: lock.__enter__(), "already holding")
            raises(lambda: lock.green_acquire(blocking=False), "already holding")
            assert not in_thread(lambda: lock.green_acquire(blocking=False))
            raises(lambda: in_thread(lambda: lock.__exit__(None, None, None)), "not holding")
        assert lock.owner is None and not lock.locked()
        raises(lambda: lock.__exit__(None, None, None), "release unlocked lock")
        lock.green_acquire()  # the general path, then the fast release
        lock.__exit__(None, None, None)
        lock.__enter__()  # and the other way round
        lock.green_release()
        assert not lock.locked()
        """,
    "rlock levels": """
        lock = aiologic.RLock()
        with lock:
            with lock:
                assert lock.count == 2 and lock.green_count() == 2
            assert lock.count == 1
            lock.green_acquire(3)
            assert lock.count == 4
            lock.green_release(3)
            assert in_thread(lambda: lock.green_count()) == 0
            raises(lambda: in_thread(lambda: lock.green_release()), "not holding")
        assert lock.count == 0 and lock.owner is None
        """,
    "hand-off in arrival order": """
        import time
        for lock in (aiologic.Lock(), aiologic.RLock(), aiologic.Semaphore(1), aiologic.BoundedSemaphore(1)):
            order, threads = [], []
            lock.__enter__()
            for index in range(4):
                def take(index=index):
                    with lock:
                        order.append(index)
                threads.append(threading.Thread(target=take))
                threads[-1].start()
                while lock.waiting < index + 1:
                    time.sleep(0.001)
            owner = getattr(lock, "owner", None)
            lock.__exit__(None, None, None)
            if owner is not None:
                assert lock.owner not in (None, owner)
            for thread in threads:
                thread.join()
            assert order == [0, 1, 2, 3], (lock, order)
        """,
    "semaphores": """
        sem = aiologic.Semaphore(2)
        with sem:
            with sem:
                assert sem.value == 0
                assert not sem.green_acquire(blocking=False)
            assert sem.value == 1
        assert sem.value == 2
        bounded = aiologic.BoundedSemaphore(1)
        with bounded:
            pass
        raises(bounded.release, "too many")
        binary = aiologic.BinarySemaphore(1)
        with binary:
            pass
        binary.release()
        assert binary.value == 2
        """,
    "conditions": """
        for lock in (aiologic.Lock(), aiologic.RLock()):
            cond = aiologic.Condition(lock)
            ready, woken = [], []
            def wait():
                with cond:
                    ready.append(True)
                    woken.append(cond.wait(5))
            thread = threading.Thread(target=wait)
            thread.start()
            while not (ready and cond.waiting):
                pass
            with cond:
                assert cond.notify() == 1
            thread.join()
            assert woken == [True] and not lock.locked()
        """,
    "async": """
        async def main():
            lock, sem = aiologic.Lock(), aiologic.Semaphore()
            async with lock:
                task = asyncio.current_task()
                assert lock.owner == ("asyncio", id(task))
                raises(lambda: lock.__enter__(), "already holding")
            async with sem:
                assert sem.value == 0
            assert sem.value == 1 and not lock.locked()
        asyncio.run(main())
        """,
    "queue between a thread and asyncio": """
        up, down = aiologic.Queue(), aiologic.Queue()

        def client():
            for item in range(50):
                up.green_put(item)
                assert down.green_get() == item  # parked straight on a thread lock
            try:
                down.green_get(timeout=0.001)  # a timeout takes the general wait
            except aiologic.QueueEmpty:
                return True

        async def main():
            thread = threading.Thread(target=lambda: result.append(client()))
            thread.start()
            for _ in range(50):
                await down.async_put(await up.async_get())  # parked on the bare future
            await asyncio.get_running_loop().run_in_executor(None, thread.join)

        result = []
        asyncio.run(main())
        assert result == [True] and plain_threads == [True] and quiet_async == [True]
        """,
    "patched threading": """
        aiologic.patch_all()
        import concurrent.futures
        rlock = threading.RLock()
        assert rlock.acquire() is True and rlock.acquire(False) is True
        assert rlock._is_owned() and rlock._recursion_count() == 2
        rlock.release(); rlock.release()
        raises(rlock.release, "un-acquired")
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            assert sum(pool.map(abs, range(-500, 0))) == sum(range(1, 501))
        """,
    "checkpoint override turns the fast paths off": """
        from aiologic.lowlevel import enable_checkpoints
        with enable_checkpoints():
            assert plain_threads == [False] and quiet_async == [False]
            lock = aiologic.Lock()
            with lock:
                assert lock.owner == ("threading", threading.get_ident())
        """,
    "importing greenlet or trio turns them off": """
        lock = aiologic.RLock()
        with lock:
            import greenlet
            assert plain_threads == [False] and quiet_async == [True]
            import trio
            assert quiet_async == [False]
        assert not lock.locked()
        """,
    "with gives way to the general path once greenlets may exist": """
        lock, rlock = aiologic.Lock(), aiologic.RLock()
        with lock, rlock:  # entered on the plain-thread paths, left on the general ones
            import gevent
            assert plain_threads == [False]
        assert not lock.locked() and not rlock.locked()
        owners = []
        def green():
            with lock, rlock:
                with rlock:
                    me = ("gevent", id(gevent.getcurrent()))
                    owners.append(lock.owner == rlock.owner == me and rlock.count == 2)
        gevent.spawn(green).join()
        assert owners == [True] and not lock.locked() and not rlock.locked()
        """,
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_fast_path(name: str) -> None:
    script = PRELUDE + textwrap.dedent(SCENARIOS[name])
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
