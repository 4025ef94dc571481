"""``shield``: run a call to completion even if its caller is cancelled, then re-raise the cancellation."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Awaitable
from typing import Any

from aiologic.lowlevel._libraries import current_async_library, current_green_library

__all__ = ["shield"]


async def _shield_awaitable(awaitable: Awaitable[Any]) -> Any:
    library = current_async_library()
    if library == "trio":
        with sys.modules["trio"].CancelScope(shield=True):
            return await awaitable
    if library == "curio":
        async with sys.modules["curio"].disable_cancellation():
            return await awaitable
    if library != "asyncio":
        raise RuntimeError(f"unsupported async library {library!r}")
    asyncio = sys.modules["asyncio"]
    inner = asyncio.ensure_future(awaitable)
    cancellation: BaseException | None = None
    while True:
        try:
            result = await asyncio.shield(inner)
        except asyncio.CancelledError as exc:
            if inner.done():
                raise
            cancellation = exc
            continue
        if cancellation is not None:
            raise cancellation
        return result


def _shield_green(function: Any, args: Any, kwargs: Any) -> Any:
    library = current_green_library()
    if library == "threading":
        return function(*args, **kwargs)
    if library == "gevent":
        gevent = sys.modules["gevent"]
        greenlet = gevent.spawn(function, *args, **kwargs)
        held = (gevent.GreenletExit, gevent.Timeout)
        join = greenlet.get
    elif library == "eventlet":
        eventlet = sys.modules["eventlet"]
        greenlet = eventlet.spawn(function, *args, **kwargs)
        held = (sys.modules["greenlet"].GreenletExit, eventlet.Timeout)
        join = greenlet.wait
    else:
        raise RuntimeError(f"unsupported green library {library!r}")
    interruption: BaseException | None = None
    while True:
        try:
            result = join()
        except held as exc:
            if greenlet.dead:
                raise
            interruption = exc
            continue
        if interruption is not None:
            raise interruption
        return result


def shield(wrapped: Any, /) -> Any:
    """Shield an awaitable, a coroutine function or a plain callable from cancellation by the caller."""
    if inspect.iscoroutinefunction(wrapped):

        @functools.wraps(wrapped)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            return await _shield_awaitable(wrapped(*args, **kwargs))

        return async_wrapper
    if inspect.isawaitable(wrapped):
        return _shield_awaitable(wrapped)
    if callable(wrapped):

        @functools.wraps(wrapped)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return _shield_green(wrapped, args, kwargs)

        return wrapper
    raise TypeError(f"expected a callable or an awaitable, got {wrapped!r}")
