"""Fast-path flags: what the primitives may assume about every caller until the process says otherwise.

Design note. A blocking call on a free primitive must find out who calls it (a lock records its owner) and
whether to checkpoint. Detecting the library per call costs more than the rest of an uncontended ``with
lock`` put together, yet in most processes the answer never changes: plain threads, no checkpoints. Each
flag below is a one-element list that starts ``True`` and only ever turns ``False``, for the life of the
process, as soon as something could make its assumption wrong:

* ``plain_threads``: every green caller is a plain OS thread (identity ``("threading", get_ident())``) and
  needs no checkpoint. Turned off when ``greenlet`` starts being imported (every gevent and eventlet hub is
  a greenlet, so no hub can exist before that), when threading checkpoints are on by the environment, and
  on the first library override, signal-safety switch or checkpoint override.
* ``quiet_async``: no async caller needs a checkpoint. Turned off when ``trio`` starts being imported (its
  checkpoints are on by default), when asyncio or curio checkpoints are on by the environment, and on the
  first signal-safety switch or checkpoint override.

A flag read as ``True`` is exact, not a hint. The import watch is the first meta path finder (inserted at
``import aiologic``, after checking ``sys.modules``), so it sees the import start before the module can
create a hub or start a trio run, and the GIL orders its write before anything the import does. Turning a
flag off only sends callers down the full detection path, which is always correct.

The hottest methods (``with lock``) do not even read the flag: they are written for it holding, and
:func:`when_off` swaps them for the general ones when :func:`turn_off` turns it off, before it returns.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

__all__ = ["plain_threads", "quiet_async", "turn_off", "when_off"]

plain_threads = [True]
quiet_async = [True]

_hooks: dict[int, list[Callable[[], object]]] = {id(plain_threads): [], id(quiet_async): []}


def turn_off(*flags: list[bool]) -> None:
    """Turn ``flags`` off for good, then run what :func:`when_off` registered for them."""
    for flag in flags:
        if flag[0]:
            flag[0] = False
            for hook in _hooks[id(flag)]:
                hook()


def when_off(flag: list[bool], hook: Callable[[], object]) -> None:
    """Run ``hook`` when ``flag`` turns off: now if it is off already."""
    _hooks[id(flag)].append(hook)
    if not flag[0]:
        hook()


# The imports that turn a flag off: a top-level name and the flag it turns off.
_WATCHED = {"greenlet": plain_threads, "trio": quiet_async}


class _ImportWatch:
    """A meta path finder that finds nothing: it sees the watched imports start, then steps aside."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        flag = _WATCHED.get(name)
        if flag is not None:
            turn_off(flag)
        return None


def _watch() -> None:
    for name, flag in _WATCHED.items():
        if name in sys.modules:
            turn_off(flag)
    sys.meta_path.insert(0, _ImportWatch())


_watch()
