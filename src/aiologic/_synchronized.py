"""``synchronized``: a lock as a decorator and context manager, or a per-object lock for any callable."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiologic._lock import RLock

__all__ = ["synchronized"]


class _Synchronizer:
    """Wraps a lock: ``with``/``async with`` and a decorator for the function kinds the lock can serve."""

    __slots__ = ("_async_acquire", "_async_release", "_green_acquire", "_green_release", "_lock")

    def __init__(self, lock: Any) -> None:
        self._lock = lock
        self._green_acquire: Callable[[], Any] | None
        self._green_release: Callable[[], Any] | None
        if hasattr(lock, "async_acquire") and not hasattr(lock, "acquire"):  # an aiologic primitive
            self._green_acquire = lock.green_acquire
            self._green_release = lock.green_release
            self._async_acquire = lock.async_acquire
            self._async_release = lock.async_release
        elif inspect.iscoroutinefunction(lock.acquire):  # asyncio, anyio, trio, curio locks
            self._green_acquire = self._green_release = None
            self._async_acquire = lock.acquire
            self._async_release = lock.release
        else:  # thread locks: blocking on both sides
            self._green_acquire = self._async_acquire = lock.acquire
            self._green_release = self._async_release = lock.release

    def __repr__(self) -> str:
        return f"synchronized({self._lock!r})"

    def __enter__(self) -> Any:
        if self._green_acquire is None:
            raise TypeError(f"{self._lock!r} can only be used with 'async with'")
        self._green_acquire()
        return self._lock

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._green_release is not None
        self._green_release()

    async def __aenter__(self) -> Any:
        result = self._async_acquire()
        if inspect.isawaitable(result):
            await result
        return self._lock

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        result = self._async_release()
        if inspect.isawaitable(result):
            await result

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with self:
                    return await function(*args, **kwargs)

            return async_wrapper
        if self._green_acquire is None:
            raise TypeError(f"a coroutine function was expected, got {function!r}")

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)

        return wrapper


_creation_lock = RLock()


def _lock_of(target: Any) -> RLock:
    """The ``_synchronized_lock`` of ``target``, created once even when two threads race for it."""
    lock = getattr(target, "_synchronized_lock", None)
    if lock is None:
        with _creation_lock:
            lock = getattr(target, "_synchronized_lock", None)
            if lock is None:
                lock = RLock()
                target._synchronized_lock = lock
    return lock


def _per_object(wrapped: Any) -> Any:
    import wrapt

    is_coroutine = inspect.iscoroutinefunction(wrapped)

    @wrapt.decorator
    def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        lock = _lock_of(wrapped if instance is None else instance)
        if is_coroutine:

            async def call() -> Any:
                async with lock:
                    return await wrapped(*args, **kwargs)

            return call()
        with lock:
            return wrapped(*args, **kwargs)

    proxy = wrapper(wrapped)
    return _SynchronizedProxy(proxy, wrapped)


class _SynchronizedProxy:
    """The decorated callable, also usable as ``with``/``async with`` on the object's own lock."""

    __slots__ = ("__wrapped__", "_proxy")

    def __init__(self, proxy: Any, wrapped: Any) -> None:
        self._proxy = proxy
        self.__wrapped__ = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._proxy(*args, **kwargs)

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        return self._proxy.__get__(instance, owner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._proxy, name)

    def __enter__(self) -> Any:
        return _lock_of(self.__wrapped__).__enter__()

    def __exit__(self, *exc_info: Any) -> None:
        _lock_of(self.__wrapped__).__exit__(*exc_info)

    async def __aenter__(self) -> Any:
        return await _lock_of(self.__wrapped__).__aenter__()

    async def __aexit__(self, *exc_info: Any) -> None:
        await _lock_of(self.__wrapped__).__aexit__(*exc_info)


def synchronized(wrapped: Any) -> Any:
    """Serialize access through a lock.

    * a lock (``acquire``/``release``, or an aiologic primitive): returns a context manager and decorator that
      uses it (async-only for asyncio, anyio, trio and curio locks);
    * any other function, method or object: returns a wrapper that, on each call, holds an ``RLock`` stored as
      ``_synchronized_lock`` on the bound instance (methods) or on the wrapped object itself.
    """
    if hasattr(wrapped, "acquire") and hasattr(wrapped, "release"):
        return _Synchronizer(wrapped)
    if all(
        hasattr(wrapped, name)
        for name in ("async_acquire", "async_release", "green_acquire", "green_release")
    ):
        return _Synchronizer(wrapped)
    return _per_object(wrapped)
