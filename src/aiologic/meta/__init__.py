"""Helpers shared by aiologic's modules: the ``DEFAULT`` and ``MISSING`` markers."""

from __future__ import annotations

from enum import Enum
from types import FunctionType
from typing import Any, Final, Literal

__all__ = ["DEFAULT", "MISSING", "DefaultType", "MissingType", "SingletonEnum", "export"]


class SingletonEnum(Enum):
    """Base of one-member enums used as falsy markers; copies and pickles keep the identity."""

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return f"{type(self).__module__}.{self.name}"


class DefaultType(SingletonEnum):
    """Type of :data:`DEFAULT`: "use the documented default for this argument"."""

    DEFAULT = "DEFAULT"


class MissingType(SingletonEnum):
    """Type of :data:`MISSING`: "no value was given" where ``None`` is a valid value."""

    MISSING = "MISSING"


DEFAULT: Final = DefaultType.DEFAULT
MISSING: Final = MissingType.MISSING


def export(namespace: dict[str, Any]) -> None:
    """Make the public names of a package report the package as their ``__module__``.

    ``namespace`` is the package's ``globals()``; names listed in its ``__all__`` that were defined in one of
    its private submodules (``package._private``) are re-labelled, so reprs and docs show the public path.
    """
    package = namespace["__name__"]
    for name in namespace["__all__"]:
        value = namespace[name]
        if not isinstance(value, (type, FunctionType)):  # data objects keep their type's module
            continue
        if getattr(value, "__module__", "").startswith(package + "._"):
            try:
                value.__module__ = package
            except (AttributeError, TypeError):  # objects whose module cannot be set
                pass


export(globals())
