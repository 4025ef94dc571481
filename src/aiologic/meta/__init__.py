"""Helpers shared by aiologic's modules: the ``DEFAULT`` and ``MISSING`` markers."""

from __future__ import annotations

from enum import Enum
from typing import Final, Literal

__all__ = ["DEFAULT", "MISSING", "DefaultType", "MissingType", "SingletonEnum"]


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

for _cls in (SingletonEnum, DefaultType, MissingType):
    _cls.__module__ = __name__
del _cls
