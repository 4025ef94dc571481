"""``Flag``: holds at most one marker, set once until cleared; never blocks."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from aiologic.meta import MISSING, MissingType

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Flag"]

_T = TypeVar("_T")
_D = TypeVar("_D")


class Flag(Generic[_T]):
    """A one-value flag: the first ``set()`` wins, concurrent setters see who did.

    The markers live in a list: concurrent setters append theirs, the first one in the list is the value,
    and the others take theirs back. ``append`` and indexing are atomic, so exactly one setter wins.
    """

    __slots__ = ("__weakref__", "_markers")
    _markers: list[Any]

    def __new__(cls, marker: _T | MissingType = MISSING) -> Self:
        self = object.__new__(cls)
        self._markers = [] if marker is MISSING else [marker]
        return self

    def __getnewargs__(self) -> tuple[Any, ...]:
        try:
            marker = self._markers[0]
        except IndexError:
            return ()
        _warn_state()
        return (marker,)

    def __getstate__(self) -> None:
        return None

    def __copy__(self) -> Self:
        _warn_state()
        try:
            return type(self)(self._markers[0])
        except IndexError:
            return type(self)()

    def copy(self) -> Self:
        """Deprecated: use ``copy.copy(flag)``."""
        warnings.warn("Use copy.copy(flag) instead", DeprecationWarning, stacklevel=2)
        return self.__copy__()

    def __repr__(self) -> str:
        name = f"{type(self).__module__}.{type(self).__qualname__}"
        try:
            return f"{name}({self._markers[0]!r})"
        except IndexError:
            return f"{name}()"

    def __bool__(self) -> bool:
        return bool(self._markers)

    def set(self, marker: _T | MissingType = MISSING) -> bool:
        """Store ``marker`` (a new unique object if omitted) unless set; ``True`` iff it now holds it."""
        markers = self._markers
        if markers:
            try:
                return markers[0] is marker
            except IndexError:  # cleared meanwhile
                pass
        if marker is MISSING:
            marker = object()  # type: ignore[assignment]
        markers.append(marker)
        try:
            winner = markers[0]
        except IndexError:  # cleared meanwhile: ours was dropped with the rest
            return False
        if winner is marker:
            return True
        for index, other in enumerate(markers):
            if other is marker:
                try:
                    del markers[index]
                except IndexError:
                    pass
                break
        return False

    @overload
    def get(self) -> _T: ...
    @overload
    def get(self, default: _D) -> _T | _D: ...
    @overload
    def get(self, *, default_factory: Callable[[], _D]) -> _T | _D: ...
    def get(self, default: Any = MISSING, *, default_factory: Any = MISSING) -> Any:
        """The marker; else ``default``; else ``default_factory()``; else ``LookupError``."""
        try:
            return self._markers[0]
        except IndexError:
            pass
        if default is not MISSING:
            return default
        if default_factory is not MISSING:
            return default_factory()
        raise LookupError(self)

    def clear(self) -> None:
        """Unset the flag."""
        self._markers.clear()


def _warn_state() -> None:
    warnings.warn(
        "Flag copies and pickles will no longer preserve the state in a future version",
        DeprecationWarning,
        stacklevel=3,
    )
