"""The one repr shape of aiologic's objects: ``<aiologic.Name(args) at 0x... [state]>``."""

from __future__ import annotations


def object_repr(obj: object, args: str, state: str) -> str:
    cls = type(obj)
    return f"<{cls.__module__}.{cls.__qualname__}({args}) at {id(obj):#x} [{state}]>"
