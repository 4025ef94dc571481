"""The patch engine: swap the standard library's primitives for the replacements in ``aiologic.patches``.

Design note. Each catalogue module (``aiologic.patches.threading``, ``.queue``, ``.asyncio``) declares a swap
table, ``SWAPS``: for every standard-library module that binds the primitives (``asyncio`` and
``asyncio.locks`` both bind ``Lock``), the replacement of each name. Patching reads every original first,
then rebinds all names; an error midway puts back what was already rebound, so a patch is all or nothing.
Unpatching restores the recorded originals by identity, and only where our replacement is still bound (a
later patcher, such as gevent's, keeps what it put there). One engine lock (an original ``_thread.RLock``)
serialises every change, so concurrent calls are safe.

``patch_module`` is the surgical form: it rebinds one module's own references (its globals, the attributes
of the classes it defines, and the stdlib modules it imported, which it sees through a read-through view
whose primitives are the replacements) and leaves the standard library untouched for everyone else.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from _thread import RLock as _RLock
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any, Literal, NamedTuple

from aiologic.lowlevel import current_async_library

__all__ = [
    "LoopBlockError",
    "LoopBlockWarning",
    "UnpatchedPlace",
    "is_patched",
    "patch",
    "patch_all",
    "patch_module",
    "patch_report",
    "patched",
    "unpatch",
    "unpatch_all",
]

SUPPORTED = ("threading", "queue", "asyncio")
LoopBlockPolicy = Literal["warn", "error", "ignore"]
_POLICIES = ("warn", "error", "ignore")

_lock = _RLock()
# patched module name -> [(stdlib module, attribute, original, replacement)]
_applied: dict[str, list[tuple[ModuleType, str, Any, Any]]] = {}
_policy: str = "warn"
# dotted names whose patch_module() waits for their import -> stdlib module names to patch there
_pending: dict[str, set[str]] = {}
# modules whose KEEP_ORIGINALS import hooks are registered (they stay registered: they only restore originals)
_kept: set[str] = set()
# callbacks told of every diagnosed loop block (the pytest plugin fails the test that caused one)
_watchers: list[Callable[[str], None]] = []


class LoopBlockWarning(RuntimeWarning):
    """A patched primitive blocked a thread that runs an event loop (``on_loop_block="warn"``)."""


class LoopBlockError(RuntimeError):
    """A patched primitive was about to block a thread that runs an event loop (``on_loop_block="error"``)."""


class UnpatchedPlace(NamedTuple):
    """A place in a loaded module that still holds an original primitive, and the call that fixes it."""

    place: str  #: ``module.name`` or ``module.Class.name``
    original: str  #: what it holds, as ``threading.Lock``
    fix: str  #: the ``aiologic.patch_module(...)`` call that rebinds it

    def __str__(self) -> str:
        return f"{self.place} holds the original {self.original}; fix: {self.fix}"


def _names(modules: tuple[str, ...]) -> tuple[str, ...]:
    for name in modules:
        if name not in SUPPORTED:
            raise ValueError(f"cannot patch {name!r}: supported modules are {', '.join(SUPPORTED)}")
    return modules or SUPPORTED


def _catalogue(name: str) -> dict[str, dict[str, Any]]:
    """The swap table of one patchable module: stdlib module name -> {attribute: replacement}."""
    swaps: dict[str, dict[str, Any]] = importlib.import_module(f"aiologic.patches.{name}").SWAPS
    return swaps


def _keep_originals(name: str) -> None:
    """Register, once, the import hooks by which modules that need an original primitive keep it."""
    import wrapt

    hooks: dict[str, Callable[[ModuleType], None]]
    hooks = getattr(importlib.import_module(f"aiologic.patches.{name}"), "KEEP_ORIGINALS", {})
    for module_name, hook in hooks.items():
        if module_name not in _kept:
            _kept.add(module_name)
            wrapt.register_post_import_hook(hook, module_name)


def _originals(name: str) -> dict[int, tuple[str, Any, Any]]:
    """id(original) -> (``module.attribute``, original, replacement) for one patchable module."""
    found: dict[int, tuple[str, Any, Any]] = {}
    if name in _applied:
        for module, attribute, original, replacement in _applied[name]:
            found.setdefault(id(original), (f"{module.__name__}.{attribute}", original, replacement))
        return found
    for module_name, table in _catalogue(name).items():
        module = importlib.import_module(module_name)
        for attribute, replacement in table.items():
            original = getattr(module, attribute)
            found.setdefault(id(original), (f"{module_name}.{attribute}", original, replacement))
    return found


# --- global patching --------------------------------------------------------------------------------------


def patch(*modules: str, on_loop_block: LoopBlockPolicy | None = None) -> None:
    """Patch the named standard-library modules (all supported ones if none are named); idempotent.

    ``on_loop_block`` sets what a patched sync wait does when it would block a thread running an event loop:
    ``"warn"`` (the default: a :class:`LoopBlockWarning`), ``"error"`` (:class:`LoopBlockError`) or
    ``"ignore"``.
    """
    names = _names(modules)
    if on_loop_block is not None and on_loop_block not in _POLICIES:
        raise ValueError(f"on_loop_block must be one of {', '.join(_POLICIES)}, not {on_loop_block!r}")
    import wrapt  # noqa: F401  (imported before the swap, so its own locks stay originals)

    global _policy
    with _lock:
        if on_loop_block is not None:
            _policy = on_loop_block
        plans: dict[str, list[tuple[ModuleType, str, Any, Any]]] = {}
        for name in names:
            if name in _applied or name in plans:
                continue
            plan = []
            for module_name, table in _catalogue(name).items():
                module = importlib.import_module(module_name)
                for attribute, replacement in table.items():
                    plan.append((module, attribute, getattr(module, attribute), replacement))
            plans[name] = plan
        done: list[tuple[ModuleType, str, Any, Any]] = []
        try:
            for name, plan in plans.items():
                for entry in plan:
                    setattr(entry[0], entry[1], entry[3])
                    done.append(entry)
                _applied[name] = plan
                _keep_originals(name)
        except BaseException:
            for module, attribute, original, _ in reversed(done):
                setattr(module, attribute, original)
            for name in plans:
                _applied.pop(name, None)
            raise


def patch_all(*, on_loop_block: LoopBlockPolicy | None = None) -> None:
    """Patch ``threading``, ``queue`` and ``asyncio``; idempotent. See :func:`patch` for ``on_loop_block``."""
    patch(on_loop_block=on_loop_block)


def unpatch(*modules: str) -> None:
    """Restore the originals of the named modules (all if none are named), by identity.

    A name that another patcher rebound after us keeps its new value.
    """
    names = _names(modules)
    with _lock:
        for name in names:
            for module, attribute, original, replacement in reversed(_applied.pop(name, [])):
                if getattr(module, attribute, None) is replacement:
                    setattr(module, attribute, original)


def unpatch_all() -> None:
    """Restore every original."""
    unpatch()


@contextmanager
def patched(*modules: str) -> Iterator[None]:
    """Patch the named modules (all if none) for the ``with`` block; restore on exit what it patched."""
    names = _names(modules)
    with _lock:
        added = [name for name in names if name not in _applied]
        if added:
            patch(*added)
    try:
        yield
    finally:
        if added:
            unpatch(*added)


def is_patched(module: str | None = None) -> bool:
    """Whether ``module`` (or, without an argument, any supported module) is patched now."""
    if module is None:
        return bool(_applied)
    _names((module,))
    return module in _applied


# --- per-module patching ----------------------------------------------------------------------------------


def patch_module(target: ModuleType | str, *modules: str) -> None:
    """Rebind, inside one module only, what refers to the primitives of the named stdlib modules (all by
    default): names bound by ``from threading import Lock``, class attributes such as
    ``QueueCls = queue.LifoQueue``, and the stdlib modules themselves (``import queue`` then sees a view of
    ``queue`` whose primitives are the replacements). A module not imported yet is patched on import.
    """
    names = _names(modules)
    if isinstance(target, str):
        module = sys.modules.get(target)
        if module is None:
            import wrapt

            with _lock:
                first = target not in _pending
                _pending.setdefault(target, set()).update(names)
            if first:
                wrapt.register_post_import_hook(_imported, target)
            return
    elif isinstance(target, ModuleType):
        module = target
    else:
        raise TypeError(f"target must be a module or a dotted module name, not {type(target).__qualname__}")
    with _lock:
        _rebind(module, names)


def _imported(module: ModuleType) -> None:
    with _lock:
        names = _pending.pop(module.__name__, set())
        if names:
            _rebind(module, tuple(name for name in SUPPORTED if name in names))


def _rebind(module: ModuleType, names: tuple[str, ...]) -> None:
    swaps: dict[int, Any] = {}
    views: dict[str, dict[str, Any]] = {}
    for name in names:
        for original_id, (_, _, replacement) in _originals(name).items():
            swaps[original_id] = replacement
        for module_name, table in _catalogue(name).items():
            views.setdefault(module_name, {}).update(table)
    namespace = vars(module)
    for key, value in list(namespace.items()):
        if id(value) in swaps:
            namespace[key] = swaps[id(value)]
        elif isinstance(value, _ModuleView):  # a view made by an earlier call: widen it
            if value.__name__ in views:
                namespace[key] = _view(value.__wrapped__, {**value._self_swaps, **views[value.__name__]})
        elif isinstance(value, ModuleType) and value.__name__ in views:
            namespace[key] = _view(value, views[value.__name__])
        elif isinstance(value, type) and value.__module__ == module.__name__:
            for attribute, member in list(vars(value).items()):
                if id(member) in swaps:
                    setattr(value, attribute, swaps[id(member)])


class _ModuleView:
    """Marker base of the module views made by :func:`_view` (the real class derives from wrapt's proxy)."""

    __name__: str
    __wrapped__: ModuleType
    _self_swaps: dict[str, Any]


def _view(module: ModuleType, swaps: dict[str, Any]) -> Any:
    """A read-through view of ``module`` whose swapped names are the replacements."""
    import wrapt

    cls = type(f"{module.__name__}View", (wrapt.ObjectProxy, _ModuleView), dict(swaps))
    view = cls(module)
    view._self_swaps = swaps
    return view


# --- diagnostics ------------------------------------------------------------------------------------------


def patch_report(*modules: str) -> list[UnpatchedPlace]:
    """The places in loaded modules (module globals, class attributes) that still hold an original primitive
    of the named stdlib modules (default: the patched ones), each with the call that fixes it."""
    names = _names(modules) if modules else tuple(name for name in SUPPORTED if name in _applied)
    with _lock:
        originals: dict[int, tuple[str, str]] = {}
        for name in names:
            for original_id, (where, _, _) in _originals(name).items():
                originals[original_id] = (where, name)
    places: list[UnpatchedPlace] = []
    for module_name, module in list(sys.modules.items()):
        if module is None or _exempt(module_name):
            continue
        try:
            namespace = dict(vars(module))
        except TypeError:
            continue
        for key, value in namespace.items():
            found = originals.get(id(value))
            if found is not None:
                places.append(_place(f"{module_name}.{key}", found, module_name))
            elif isinstance(value, type) and getattr(value, "__module__", None) == module_name:
                for attribute, member in list(vars(value).items()):
                    found = originals.get(id(member))
                    if found is not None:
                        where = f"{module_name}.{value.__qualname__}.{attribute}"
                        places.append(_place(where, found, module_name))
    return sorted(places)


def _place(where: str, found: tuple[str, str], module_name: str) -> UnpatchedPlace:
    original, patchable = found
    return UnpatchedPlace(where, original, f"aiologic.patch_module({module_name!r}, {patchable!r})")


_EXEMPT = (
    "threading",
    "queue",
    "asyncio",
    "_thread",
    "_queue",
    "aiologic",
    "wrapt",
    "gevent",
    "eventlet",
    "importlib",
)


def _exempt(module_name: str) -> bool:
    """Modules whose own bindings are the originals by design (the patched ones, the runtime's)."""
    return module_name.partition(".")[0] in _EXEMPT or module_name == "__mp_main__"


# --- the loop-block policy --------------------------------------------------------------------------------

# Callers whose short waits are part of the standard library's own machinery: Thread.start() waits on an
# Event until the new thread runs.
_QUIET_CALLERS = frozenset({"threading"})


def loop_blocked(what: str, timeout: float | None = None) -> None:
    """Apply the policy before a patched sync wait blocks (called on the slow path only; a zero timeout
    never blocks)."""
    if _policy == "ignore" or (timeout is not None and timeout <= 0):
        return
    if current_async_library(failsafe=True) is None:
        return
    frame = sys._getframe(1)
    depth = 1
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("aiologic."):
        frame = frame.f_back
        depth += 1
    if frame.f_globals.get("__name__") in _QUIET_CALLERS:
        return
    message = (
        f"a patched {what} blocks the thread running an event loop at "
        f"{frame.f_code.co_filename}:{frame.f_lineno}; use its async side in async code"
    )
    for watcher in list(_watchers):
        watcher(message)
    if _policy == "error":
        raise LoopBlockError(message)
    warnings.warn(message, LoopBlockWarning, stacklevel=depth + 1)


def loop_block_policy() -> str:
    """The policy in force: ``"warn"``, ``"error"`` or ``"ignore"``."""
    return _policy


def set_loop_block_policy(policy: str) -> Callable[[], None]:
    """Set the policy; returns a function that restores the previous one (used by the pytest plugin)."""
    global _policy
    if policy not in _POLICIES:
        raise ValueError(f"on_loop_block must be one of {', '.join(_POLICIES)}, not {policy!r}")
    previous, _policy = _policy, policy

    def restore() -> None:
        global _policy
        _policy = previous

    return restore


def watch_loop_blocks(watcher: Callable[[str], None]) -> Callable[[], None]:
    """Call ``watcher(message)`` for each loop block diagnosed from now on, in the blocking thread, before the
    policy acts; returns a function that stops watching (used by the pytest plugin)."""
    _watchers.append(watcher)
    return lambda: _watchers.remove(watcher)
