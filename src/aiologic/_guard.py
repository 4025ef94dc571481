"""``ResourceGuard``: detects, without ever waiting, that two tasks use one resource at once."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

from aiologic._reprs import object_repr
from aiologic.meta import DEFAULT, DefaultType

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["BusyResourceError", "ResourceGuard"]


class BusyResourceError(RuntimeError):
    """Raised on entering a ``ResourceGuard`` that another task has entered."""


class ResourceGuard:
    """``with guard:`` enters, or raises :class:`BusyResourceError` if someone is inside; no waiting."""

    __slots__ = ("__weakref__", "_action", "_unlocked")
    _action: str
    _unlocked: list[None]

    def __new__(cls, _: Any = DEFAULT, /, action: str | DefaultType = DEFAULT) -> Self:
        if _ is not DEFAULT:
            raise ValueError("the first argument should not have been passed")
        self = object.__new__(cls)
        self._action = action if isinstance(action, str) else "using"
        self._unlocked = [None]
        return self

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (DEFAULT, self._action)

    def __getstate__(self) -> None:
        return None

    def __copy__(self) -> Self:
        return type(self)(action=self._action)

    def __repr__(self) -> str:
        return object_repr(self, repr(self._action), "unlocked" if self._unlocked else "locked")

    def __bool__(self) -> bool:
        return not self._unlocked

    def __enter__(self) -> Self:
        try:
            self._unlocked.pop()
        except IndexError:
            raise BusyResourceError(f"another task is already {self._action} this resource") from None
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._unlocked.append(None)

    @property
    def action(self) -> str:
        """What the error message says the other task is doing (``"using"`` by default)."""
        return self._action
