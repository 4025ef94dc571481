"""One shape for "switch a setting on while something runs": a context manager (``with`` and ``async
with``), a decorator for plain and coroutine functions, or a proxy for an awaitable."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Generator
from typing import Any

from aiologic.meta import MISSING

__all__ = ["universal_switch"]


class _Switch:
    __slots__ = ("_get", "_saved", "_set", "_value")

    def __init__(self, get: Callable[[], Any], set_: Callable[[Any], None], value: Any) -> None:
        self._get = get
        self._set = set_
        self._value = value
        self._saved: list[Any] = []

    def __enter__(self) -> Any:
        self._saved.append(self._get())
        self._set(self._value)
        return self._value

    def __exit__(self, *exc_info: object) -> None:
        self._set(self._saved.pop())

    async def __aenter__(self) -> Any:
        return self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        self.__exit__()


class _AwaitableSwitch:
    __slots__ = ("_awaitable", "_switch")

    def __init__(self, switch: _Switch, awaitable: Awaitable[Any]) -> None:
        self._switch = switch
        self._awaitable = awaitable

    def __await__(self) -> Generator[Any, Any, Any]:
        iterator = self._awaitable.__await__()
        to_send: Any = None
        to_throw: BaseException | None = None
        while True:
            with self._switch:
                try:
                    if to_throw is not None:
                        exc, to_throw = to_throw, None
                        request = iterator.throw(exc)
                    else:
                        request = iterator.send(to_send)
                except StopIteration as stop:
                    return stop.value
            try:
                to_send = yield request
            except BaseException as exc:  # delivered into the awaitable with the setting applied
                to_throw = exc


def universal_switch(get: Callable[[], Any], set_: Callable[[Any], None], value: Any, wrapped: Any) -> Any:
    """Apply ``set_(value)`` around a ``with`` block, a call or an await of ``wrapped``.

    ``get`` reads the current value, which is restored afterwards. ``wrapped`` may be :data:`MISSING`
    (return a context manager), a coroutine function, an awaitable or another callable.
    """
    switch = _Switch(get, set_, value)
    if wrapped is MISSING:
        return switch
    if inspect.iscoroutinefunction(wrapped):

        @functools.wraps(wrapped)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            return await _AwaitableSwitch(_Switch(get, set_, value), wrapped(*args, **kwargs))

        return async_wrapper
    if inspect.isawaitable(wrapped):
        return _AwaitableSwitch(switch, wrapped)
    if callable(wrapped):

        @functools.wraps(wrapped)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _Switch(get, set_, value):
                return wrapped(*args, **kwargs)

        return wrapper
    raise TypeError(f"expected a callable or an awaitable, got {wrapped!r}")
