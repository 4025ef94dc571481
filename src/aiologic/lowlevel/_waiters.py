"""Parking: how each library suspends one thread, greenlet or task until any thread wakes it.

Design note — the hand-shake every library shares.

A parked caller waits on an *event* (see ``_events``) that holds two atomic slots, both plain lists whose
``pop()`` is atomic in CPython:

* ``_unset`` holds one token. Whoever pops it decides the outcome: ``set()`` (success) or the waiter's own
  ``_cancel()`` (timeout, cancellation, any exception). Exactly one side wins, so a wake-up is never both
  delivered and cancelled, and never lost.
* ``_wake_slot`` receives the waiter's wake callable once the waiter is ready to be woken. The setter pops it
  after winning the token. A waiter that finds the token already gone tries to pop its own callable back
  (``_retract``): if that succeeds no wake-up will come; if it fails the setter holds the callable and a
  wake-up is on its way, so the waiter parks anyway to absorb it. Greenlets and trio tasks must never receive
  a stale switch or reschedule, and this is what guarantees it.

With the GIL, the waiter's "append, then look at the token" and the setter's "pop the token, then pop the
slot" are sequentially consistent, so one of them always sees the other.

Each ``park_*`` function below returns ``True`` when woken by ``set()``, ``False`` when its own timeout won,
and propagates any exception (after which the event tells whether ``set()`` won anyway, via ``is_set()``).
Timeouts are already validated: ``None`` waits forever, ``0`` makes one pass through the library's machinery.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Generator
from functools import partial
from typing import TYPE_CHECKING, Any

from aiologic.lowlevel._signals import _signal_safety
from aiologic.lowlevel._threads import TIMEOUT_MAX, allocate_lock, get_ident, monotonic, original

if TYPE_CHECKING:
    from aiologic.lowlevel._events import Event

__all__ = [
    "asyncio_future",
    "park_asyncio",
    "park_curio",
    "park_eventlet",
    "park_gevent",
    "park_threading",
    "park_trio",
]

_modules = sys.modules

# The self-pipe of the eventlet wake-up is read by the hub itself: eventlet's green os.read would trampoline
# there ("do not call blocking functions from the mainloop") and the hub would drop the pipe for good.
_os_read = original("os", "read")
_os_write = original("os", "write")

# The longest single timer the green hubs are given; longer timeouts re-arm (pollers take int milliseconds).
_LONGEST_NATIVE_WAIT = 86400.0


def _foreign(thread_ident: int) -> bool:
    """Whether a wake-up issued now must take the thread-safe path to reach ``thread_ident``."""
    return thread_ident != get_ident() or _signal_safety.enabled


# --- plain threads ----------------------------------------------------------------------------------------


def park_threading(event: Event, timeout: float | None) -> bool:
    lock = allocate_lock()
    lock.acquire()
    if not event._publish(lock.release):
        return True
    try:
        if timeout is None:
            lock.acquire()  # untimed, as threading.Condition waits: no deadline to compute on the way
            return True
        if timeout <= TIMEOUT_MAX:
            acquired = lock.acquire(timeout > 0, timeout if timeout > 0 else -1)
        else:
            acquired = lock.acquire(True, TIMEOUT_MAX)
            while not acquired and (timeout := timeout - TIMEOUT_MAX) > 0:
                acquired = lock.acquire(True, min(timeout, TIMEOUT_MAX))
    except BaseException:
        event._cancel()
        raise
    # A lost race with set() still counts as woken; its later release() of the lock is harmless.
    return acquired or not event._cancel()


# --- gevent -----------------------------------------------------------------------------------------------


def _hub_switch_guard(hub: Any, greenlet: Any) -> None:
    if greenlet is getattr(hub, "greenlet", hub):
        raise RuntimeError("do not call blocking functions from the mainloop")


def _resumer(greenlet: Any, outcome: list[bool]) -> Callable[..., None]:
    """The hub-side resume of a parked greenlet: records the outcome and switches in, once."""

    def resume(result: bool = True) -> None:
        if not outcome:
            outcome.append(result)
            greenlet.switch()

    return resume


class _GeventWakeup:
    """Per hub: resumes run in the order they were requested (FIFO), whichever thread requests them.

    A hub callback drains the queue for wakes from the hub's own thread; one async watcher, thread-safe to
    fire, drains it for wakes from other threads (run_callback_threadsafe corrupts the loop under load, see
    runtime-notes). The watcher keeps the loop alive only while a greenlet is parked here, so an idle
    aiologic never keeps ``gevent.wait()`` from returning.
    """

    def __init__(self, hub: Any) -> None:
        from collections import deque

        self.loop = hub.loop
        self.pending: deque[Callable[[], Any]] = deque()
        self.parked = 0
        self.watcher = hub.loop.async_()
        self.watcher.start(self.drain)
        self.watcher.ref = False

    def drain(self) -> None:
        pending = self.pending
        while pending:
            try:
                resume = pending.popleft()
            except IndexError:
                break
            resume()

    def call_soon(self, resume: Callable[[], Any], thread_ident: int) -> None:
        self.pending.append(resume)
        if _foreign(thread_ident):
            self.watcher.send()
        else:
            self.loop.run_callback(self.drain)

    def park(self) -> None:
        self.parked += 1
        if self.parked == 1:
            self.watcher.ref = True

    def unpark(self) -> None:
        self.parked -= 1
        if not self.parked:
            self.watcher.ref = False


def park_gevent(event: Event, timeout: float | None) -> bool:
    from gevent import get_hub, getcurrent

    hub = get_hub()
    greenlet = getcurrent()
    _hub_switch_guard(hub, greenlet)
    wakeup: _GeventWakeup | None = getattr(hub, "_aiologic_wakeup", None)
    if wakeup is None:
        wakeup = hub._aiologic_wakeup = _GeventWakeup(hub)
    thread_ident = get_ident()
    outcome: list[bool] = []
    resume = _resumer(greenlet, outcome)

    if not event._publish(lambda: wakeup.call_soon(resume, thread_ident)):
        return True
    wakeup.park()
    timer = _GeventTimer(hub.loop, timeout, event, resume) if timeout is not None else None
    try:
        _park_until(hub.switch, outcome, event)
        return outcome[0]
    finally:
        wakeup.unpark()
        if timer is not None:
            timer.close()


class _LongTimer:
    """A hub timeout of any length: pollers take at most about 2**31 ms in one wait, so long ones re-arm."""

    def __init__(self, timeout: float, event: Event, resume: Callable[[bool], None]) -> None:
        self._deadline = monotonic() + timeout
        self._event = event
        self._resume = resume
        self._timer: Any = None
        self._arm(timeout)

    def _arm(self, seconds: float) -> None:
        if self._timer is not None:
            self._stop(self._timer)
        self._timer = self._start(min(max(seconds, 0.0), _LONGEST_NATIVE_WAIT))

    def _fired(self) -> None:
        remaining = self._deadline - monotonic()
        if remaining > 0:
            self._arm(remaining)
        else:
            _timed_out(self._event, self._resume)

    def close(self) -> None:
        self._stop(self._timer)

    def _start(self, seconds: float) -> Any:
        raise NotImplementedError

    def _stop(self, timer: Any) -> None:
        raise NotImplementedError


class _GeventTimer(_LongTimer):
    def __init__(self, loop: Any, timeout: float, event: Event, resume: Callable[[bool], None]) -> None:
        self._loop = loop
        super().__init__(timeout, event, resume)

    def _start(self, seconds: float) -> Any:
        timer = self._loop.timer(seconds)
        timer.start(self._fired)
        return timer

    def _stop(self, timer: Any) -> None:
        timer.stop()
        timer.close()


class _EventletTimer(_LongTimer):
    def __init__(self, hub: Any, timeout: float, event: Event, resume: Callable[[bool], None]) -> None:
        self._hub = hub
        super().__init__(timeout, event, resume)

    def _start(self, seconds: float) -> Any:
        return self._hub.schedule_call_global(seconds, self._fired)

    def _stop(self, timer: Any) -> None:
        timer.cancel()


def _timed_out(event: Event, resume: Callable[[bool], None]) -> None:
    # Runs in the waiter's own loop; if set() won the token its wake-up is already on the way.
    if event._cancel():
        resume(False)


def _park_until(switch: Callable[[], Any], outcome: list[bool], event: Event) -> None:
    """Switch to the hub until ``resume`` ran; after an exception, still absorb a wake-up in flight."""
    try:
        while not outcome:
            switch()
    except BaseException:
        if not event._cancel() and not event._retract():
            while not outcome:
                try:
                    switch()
                except BaseException:
                    continue
        raise


# --- eventlet ---------------------------------------------------------------------------------------------


class _EventletWakeup:
    """A per-hub self-pipe: foreign threads queue callbacks and poke the hub's poller."""

    def __init__(self, hub: Any) -> None:
        import os
        import weakref
        from collections import deque

        self.hub = hub
        self.pending: deque[Callable[[], Any]] = deque()
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        os.set_blocking(self._write_fd, False)
        self._read = _os_read
        self._write = _os_write
        hub.add(hub.READ, self._read_fd, self._on_readable, self._on_closed, None)
        weakref.finalize(hub, _close_fds, self._read_fd, self._write_fd)

    def call_soon_threadsafe(self, callback: Callable[[], Any]) -> None:
        self.pending.append(callback)
        try:
            self._write(self._write_fd, b"\0")
        except BlockingIOError:  # the pipe is full: the hub is already due to wake
            pass

    def _on_readable(self, fileno: int) -> None:
        try:
            while self._read(self._read_fd, 4096):
                pass
        except BlockingIOError:
            pass
        pending = self.pending
        while pending:
            self.hub.schedule_call_global(0, pending.popleft())

    def _on_closed(self, *args: object) -> None:  # pragma: no cover - the pipe is never closed
        pass


def _close_fds(*fds: int) -> None:
    import os

    for fd in fds:
        os.close(fd)


def _eventlet_wakeup(hub: Any) -> _EventletWakeup:
    wakeup: _EventletWakeup | None = getattr(hub, "_aiologic_wakeup", None)
    if wakeup is None:
        wakeup = hub._aiologic_wakeup = _EventletWakeup(hub)
    return wakeup


def park_eventlet(event: Event, timeout: float | None) -> bool:
    from eventlet.hubs import get_hub
    from greenlet import getcurrent

    hub = get_hub()
    greenlet = getcurrent()
    _hub_switch_guard(hub, greenlet)
    thread_ident = get_ident()
    outcome: list[bool] = []
    resume = _resumer(greenlet, outcome)

    def wake() -> None:
        if _foreign(thread_ident):
            _eventlet_wakeup(hub).call_soon_threadsafe(resume)
        else:
            hub.schedule_call_global(0, resume)

    _eventlet_wakeup(hub)  # created here, in the hub's thread, before anyone can need it
    if not event._publish(wake):
        return True
    timer = _EventletTimer(hub, timeout, event, resume) if timeout is not None else None
    try:
        _park_until(hub.switch, outcome, event)
    finally:
        if timer is not None:
            timer.close()
    return outcome[0]


# --- asyncio ----------------------------------------------------------------------------------------------


def _resolve(future: Any, result: bool) -> None:
    if not future.done():
        future.set_result(result)


class _AsyncioWakeup:
    """Per loop: resolves the futures that other threads wake, through a socket pair of its own.

    ``call_soon_threadsafe`` costs a new handle and a context copy per wake-up, and the loop reads its
    self-pipe until ``recv`` raises. Here a waker queues the future and writes one byte; the loop's reader,
    registered once, reads once (a larger backlog leaves the socket readable for the next pass) and resolves
    every queued future. Nothing is lost: a byte follows every queued future, and the reader drains the queue
    after reading.
    """

    def __init__(self, loop: Any) -> None:
        from collections import deque

        self.pending: deque[Any] = deque()
        reader, writer = original("socket", "socketpair")()  # never a green socket
        try:
            # Closed once the loop is collected, never before: until then a waker may still be writing.
            close = weakref.finalize(loop, _close_sockets, reader, writer)
        except BaseException:
            _close_sockets(reader, writer)
            raise
        try:
            reader.setblocking(False)
            writer.setblocking(False)
            loop.add_reader(reader.fileno(), self._drain)
        except BaseException:
            close()
            raise
        self._buffer = bytearray(4096)
        self._recv_into = reader.recv_into
        self._send = writer.send

    def wake(self, future: Any) -> None:
        self.pending.append(future)
        try:
            self._send(b"\0")
        except OSError:  # full: the loop is already due to read; closed: the loop is gone
            pass

    def _drain(self) -> None:
        try:
            self._recv_into(self._buffer)
        except OSError:
            pass
        pending = self.pending
        while pending:
            try:
                future = pending.popleft()
            except IndexError:
                break
            _resolve(future, True)


def _close_sockets(*sockets: Any) -> None:
    for sock in sockets:
        sock.close()


def _call_soon_threadsafe(loop: Any, future: Any) -> None:
    try:
        loop.call_soon_threadsafe(_resolve, future, True)
    except RuntimeError:  # the loop is closed: nobody is left to wake
        pass


def _asyncio_wakeup(loop: Any) -> Callable[[Any], None]:
    """How other threads wake a future of ``loop`` (called in its thread): its ``_AsyncioWakeup``, kept on
    the loop, or ``call_soon_threadsafe`` where the loop cannot read a socket (the proactor) or keep one."""
    try:
        loop._aiologic_wakeup = None  # can it keep one?
    except AttributeError:
        return partial(_call_soon_threadsafe, loop)
    try:
        wake: Callable[[Any], None] = _AsyncioWakeup(loop).wake
    except (NotImplementedError, OSError, TypeError):  # no add_reader, no descriptor left, no weak reference
        wake = partial(_call_soon_threadsafe, loop)
    loop._aiologic_wakeup = wake
    return wake


def asyncio_future(event: Event, loop: Any) -> Any:
    """A future of ``loop``, the running one, that ``set()`` resolves with ``True`` from any thread (already
    resolved if the event was set before the wake-up could be offered). Awaiting it parks the task with no
    frame of ours in between; whoever awaits it cancels the event after an exception."""
    future = loop.create_future()
    thread_ident = get_ident()
    wakeup = getattr(loop, "_aiologic_wakeup", None) or _asyncio_wakeup(loop)

    def wake() -> None:
        if _foreign(thread_ident):
            wakeup(future)
        else:
            _resolve(future, True)

    if not event._publish(wake):
        future.set_result(True)
    return future


def park_asyncio(event: Event, timeout: float | None) -> Generator[Any, Any, bool]:
    loop = _modules["asyncio"].get_running_loop()  # detected: imported and running
    future = asyncio_future(event, loop)
    handle = None
    if timeout is not None and not future.done():
        handle = loop.call_later(timeout, _asyncio_timed_out, event, future)
    try:
        return (yield from future.__await__())  # type: ignore[no-any-return]
    except BaseException:
        event._cancel()
        raise
    finally:
        if handle is not None:
            handle.cancel()


def _asyncio_timed_out(event: Event, future: Any) -> None:
    if event._cancel():
        _resolve(future, False)


# --- trio -------------------------------------------------------------------------------------------------


async def park_trio(event: Event, timeout: float | None) -> bool:
    import outcome
    from trio import move_on_after
    from trio.lowlevel import (
        Abort,
        current_task,
        current_trio_token,
        reschedule,
        wait_task_rescheduled,
    )

    task = current_task()
    token = current_trio_token()
    thread_ident = get_ident()
    woken = outcome.Value(True)

    def wake() -> None:
        if _foreign(thread_ident):
            try:
                token.run_sync_soon(reschedule, task, woken)
            except RuntimeError:  # the run has finished
                pass
        else:
            reschedule(task, woken)

    def abort(raise_cancel: object) -> Abort:
        # Once set() has won, trio's rule applies: the wake-up is delivered and cancellation waits.
        return Abort.SUCCEEDED if event._cancel() else Abort.FAILED

    if not event._publish(wake):
        return True
    if timeout is None:
        return await wait_task_rescheduled(abort)  # type: ignore[no-any-return]
    with move_on_after(timeout):
        return await wait_task_rescheduled(abort)  # type: ignore[no-any-return]
    return False


# --- curio ------------------------------------------------------------------------------------------------


class _CurioFuture:
    """What curio's future trap needs of a future: its kernel parks the task in ``add_done_callback`` and
    drops it in ``cancel``. ``fire`` may run in any thread, before or after the task parked."""

    __slots__ = ("_callbacks", "_unfired")

    def __init__(self) -> None:
        self._unfired: list[None] = [None]
        self._callbacks: list[Callable[[Any], object]] = []

    def add_done_callback(self, callback: Callable[[Any], object]) -> None:
        self._callbacks.append(callback)
        if not self._unfired:
            self._run_callback()

    def cancel(self) -> bool:
        self._callbacks.clear()
        return False

    def fire(self) -> None:
        self._unfired.pop()
        self._run_callback()

    def _run_callback(self) -> None:
        try:
            callback = self._callbacks.pop()
        except IndexError:
            return
        try:
            callback(self)
        except OSError:  # the kernel's notify socket is full: our wake-up is queued all the same
            pass


async def park_curio(event: Event, timeout: float | None) -> bool:
    from curio import ignore_after
    from curio.traps import _future_wait

    future = _CurioFuture()
    if not event._publish(future.fire):
        return True
    try:
        if timeout is None:
            await _future_wait(future)
            return True
        deadline = monotonic() + timeout
        while True:  # curio's poller takes at most about 2**31 ms in one wait
            async with ignore_after(min(timeout, _LONGEST_NATIVE_WAIT)) as scope:
                await _future_wait(future)
            if not scope.expired:
                return True
            timeout = deadline - monotonic()
            if timeout <= 0:
                return not event._cancel()
    except BaseException:
        event._cancel()
        raise
