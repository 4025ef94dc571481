"""The public surface of aiologic (spec §0) and the object model every primitive shares (§1.1, §1.2)."""

from __future__ import annotations

import copy
import importlib.metadata
import inspect
import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import pytest

import aiologic
import aiologic.lowlevel
import aiologic.meta

# §0, alphabetical, exactly as the spec lists it.
SPEC_ALL = [
    "Barrier",
    "BinarySemaphore",
    "BoundedBinarySemaphore",
    "BoundedSemaphore",
    "BrokenBarrierError",
    "BusyResourceError",
    "CapacityLimiter",
    "Condition",
    "CountdownEvent",
    "Event",
    "Flag",
    "Latch",
    "LifoQueue",
    "Lock",
    "PriorityQueue",
    "Queue",
    "QueueEmpty",
    "QueueFull",
    "RBarrier",
    "RCapacityLimiter",
    "REvent",
    "RLock",
    "ResourceGuard",
    "Semaphore",
    "SimpleLifoQueue",
    "SimpleQueue",
    "synchronized",
]
IMPLEMENTED = [name for name in SPEC_ALL if hasattr(aiologic, name)]
EXCEPTIONS = {
    "BrokenBarrierError": RuntimeError,
    "BusyResourceError": RuntimeError,
    "QueueEmpty": Exception,
    "QueueFull": Exception,
}
OPTIONAL_LIBRARIES = ("asyncio", "gevent", "eventlet", "trio", "anyio", "curio")

# One instance of every public class, built with its default arguments where that is meaningful.
FACTORIES: dict[str, Callable[[], Any]] = {
    "Barrier": lambda: aiologic.Barrier(3),
    "BinarySemaphore": lambda: aiologic.BinarySemaphore(),
    "BoundedBinarySemaphore": lambda: aiologic.BoundedBinarySemaphore(),
    "BoundedSemaphore": lambda: aiologic.BoundedSemaphore(3),
    "CapacityLimiter": lambda: aiologic.CapacityLimiter(2),
    "Condition": lambda: aiologic.Condition(),
    "CountdownEvent": lambda: aiologic.CountdownEvent(2),
    "Event": lambda: aiologic.Event(),
    "Flag": lambda: aiologic.Flag(),
    "Latch": lambda: aiologic.Latch(2),
    "LifoQueue": lambda: aiologic.LifoQueue(),
    "Lock": lambda: aiologic.Lock(),
    "PriorityQueue": lambda: aiologic.PriorityQueue(),
    "Queue": lambda: aiologic.Queue(),
    "RBarrier": lambda: aiologic.RBarrier(3),
    "RCapacityLimiter": lambda: aiologic.RCapacityLimiter(2),
    "REvent": lambda: aiologic.REvent(),
    "RLock": lambda: aiologic.RLock(),
    "ResourceGuard": lambda: aiologic.ResourceGuard(),
    "Semaphore": lambda: aiologic.Semaphore(3),
    "SimpleLifoQueue": lambda: aiologic.SimpleLifoQueue(),
    "SimpleQueue": lambda: aiologic.SimpleQueue(),
}
CLASSES = [name for name in IMPLEMENTED if name in FACTORIES]
GENERIC = {"Flag", "Condition", "SimpleQueue", "SimpleLifoQueue", "Queue", "LifoQueue", "PriorityQueue"}
STATEFUL_COPIES = {"Flag", "SimpleQueue", "SimpleLifoQueue", "Queue", "LifoQueue", "PriorityQueue"}


def test_all_is_the_implemented_part_of_the_spec() -> None:
    assert len(aiologic.__all__) == len(set(aiologic.__all__))
    assert set(aiologic.__all__) <= set(SPEC_ALL)
    assert set(aiologic.__all__) == set(IMPLEMENTED)  # nothing implemented is left out
    assert list(aiologic.__all__) == sorted(aiologic.__all__)


def test_the_primitives_under_test_are_public() -> None:
    for name in ("Condition", "Flag", "ResourceGuard", "BusyResourceError", "Lock", "RLock"):
        assert name in aiologic.__all__


@pytest.mark.parametrize("name", IMPLEMENTED)
def test_public_names_report_the_package_as_module(name: str) -> None:
    assert getattr(aiologic, name).__module__ == "aiologic"


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, Any] = {}
    exec("from aiologic import *", namespace)
    namespace.pop("__builtins__")
    assert set(namespace) == set(aiologic.__all__)


def test_subpackages_are_attributes_but_not_exported() -> None:
    assert aiologic.lowlevel is sys.modules["aiologic.lowlevel"]
    assert aiologic.meta is sys.modules["aiologic.meta"]
    for name in ("lowlevel", "meta", "__version__", "__version_tuple__"):
        assert name not in aiologic.__all__


@pytest.mark.parametrize("module", [aiologic.lowlevel, aiologic.meta], ids=["lowlevel", "meta"])
def test_subpackage_names_report_their_subpackage(module: Any) -> None:
    for name in module.__all__:
        value = getattr(module, name)
        if name == "AsyncLibraryNotFoundError":
            continue  # literally sniffio's class (§16.23)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__ == module.__name__, name


def test_version() -> None:
    version = aiologic.__version__
    assert isinstance(version, str) and version
    assert version == importlib.metadata.version("aiologic")
    version_tuple = aiologic.__version_tuple__
    assert isinstance(version_tuple, tuple)
    assert ".".join(str(part) for part in version_tuple) == version
    with pytest.raises(AttributeError):
        aiologic.no_such_name  # type: ignore[attr-defined] # noqa: B018


def _imported_libraries(script: str) -> list[str]:
    code = textwrap.dedent(script) + textwrap.dedent(
        f"""
        import json, sys
        print(json.dumps(sorted(
            name for name in sys.modules if name.split(".")[0] in {OPTIONAL_LIBRARIES!r}
        )))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_import_loads_no_concurrency_library() -> None:
    assert _imported_libraries("import aiologic, aiologic.lowlevel, aiologic.meta") == []


def test_threads_only_use_loads_no_concurrency_library() -> None:
    """Waiting and waking between plain threads must not pull in asyncio or a green library either."""
    script = """
        import threading
        import aiologic

        cv = aiologic.Condition()
        event = aiologic.Event()
        lock = aiologic.Lock()

        def waiter():
            with cv:
                assert cv.wait(10)
            with lock:
                event.set()

        thread = threading.Thread(target=waiter)
        thread.start()
        while not cv.waiting:
            pass
        with cv:
            assert cv.notify() == 1
        assert event.wait(10)
        thread.join()
        assert not lock.locked()
    """
    assert _imported_libraries(script) == []


# --- the object model (§1.1) --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CLASSES)
def test_slots_and_weak_references(name: str) -> None:
    obj = FACTORIES[name]()
    cls = type(obj)
    assert weakref.ref(obj)() is obj
    assert not hasattr(obj, "__dict__")
    with pytest.raises(AttributeError):
        obj.arbitrary_attribute = 1
    assert any("__weakref__" in vars(klass).get("__slots__", ()) for klass in cls.__mro__)
    for klass in cls.__mro__:
        if klass.__module__ not in ("builtins", "typing"):
            assert "__slots__" in vars(klass), klass


@pytest.mark.parametrize("name", CLASSES)
def test_hashing_and_equality_are_by_identity(name: str) -> None:
    first, second = FACTORIES[name](), FACTORIES[name]()
    assert first == first
    assert (first != first) is False
    assert first != second
    assert hash(first) == object.__hash__(first)
    assert type(first).__eq__ is object.__eq__
    assert len({first, second}) == 2


@pytest.mark.parametrize("name", CLASSES)
def test_constructed_in_new(name: str) -> None:
    assert type(FACTORIES[name]()).__init__ is object.__init__


@pytest.mark.parametrize("name", CLASSES)
def test_repr_names_the_public_class(name: str) -> None:
    obj = FACTORIES[name]()
    text = repr(obj)
    qualified = f"aiologic.{type(obj).__qualname__}("
    if name == "Flag":
        assert text.startswith(qualified)
    else:
        assert text.startswith("<" + qualified)
        assert f" at {id(obj):#x} [" in text and text.endswith("]>")


def test_repr_of_a_subclass_uses_the_subclass_name() -> None:
    assert repr(_MyLock()).startswith(f"<{__name__}._MyLock() at 0x")
    assert repr(_MyEvent()).startswith(f"<{__name__}._MyEvent() at 0x")


class _MyLock(aiologic.Lock):
    __slots__ = ()


class _MyEvent(aiologic.Event):
    __slots__ = ()


@pytest.mark.parametrize("name", [name for name in CLASSES if name in GENERIC])
def test_generic_classes_are_subscriptable(name: str) -> None:
    cls = getattr(aiologic, name)
    parameters = cls.__parameters__
    assert parameters
    alias = cls[tuple(Any for _ in parameters)] if len(parameters) > 1 else cls[int]
    assert alias.__origin__ is cls


@pytest.mark.parametrize("name", [name for name in CLASSES if name not in GENERIC])
def test_other_classes_are_not_generic(name: str) -> None:
    with pytest.raises(TypeError):
        getattr(aiologic, name)[int]


SUBCLASSES = [
    ("REvent", "Event"),
    ("RBarrier", "Barrier"),
    ("BoundedSemaphore", "Semaphore"),
    ("BinarySemaphore", "Semaphore"),
    ("BoundedBinarySemaphore", "BinarySemaphore"),
    ("BoundedBinarySemaphore", "BoundedSemaphore"),
    ("RCapacityLimiter", "CapacityLimiter"),
    ("RLock", "Lock"),
    ("SimpleLifoQueue", "SimpleQueue"),
    ("LifoQueue", "Queue"),
    ("PriorityQueue", "Queue"),
]
UNRELATED = [
    ("CountdownEvent", "Event"),
    ("Latch", "Barrier"),
    ("SimpleQueue", "Queue"),
    ("Queue", "SimpleQueue"),
]


@pytest.mark.parametrize(
    ("sub", "base"), [p for p in SUBCLASSES if p[0] in IMPLEMENTED and p[1] in IMPLEMENTED]
)
def test_class_hierarchy(sub: str, base: str) -> None:
    assert issubclass(getattr(aiologic, sub), getattr(aiologic, base))


@pytest.mark.parametrize(
    ("sub", "base"), [p for p in UNRELATED if p[0] in IMPLEMENTED and p[1] in IMPLEMENTED]
)
def test_unrelated_classes(sub: str, base: str) -> None:
    assert not issubclass(getattr(aiologic, sub), getattr(aiologic, base))


@pytest.mark.parametrize("name", [name for name in EXCEPTIONS if name in IMPLEMENTED])
def test_exception_bases(name: str) -> None:
    cls = getattr(aiologic, name)
    assert cls.__bases__ == (EXCEPTIONS[name],)


# --- pickling and copying give fresh objects (§1.2) ---------------------------------------------------------


ACQUIRABLE = (
    "Semaphore",
    "BoundedSemaphore",
    "BinarySemaphore",
    "BoundedBinarySemaphore",
    "CapacityLimiter",
    "RCapacityLimiter",
    "Lock",
    "RLock",
)


def _use(name: str, obj: Any) -> None:
    """Put ``obj`` into a state that a copy must not carry over (or, for flags and queues, must)."""
    if name in ("Event", "REvent"):
        obj.set()
    elif name == "CountdownEvent":
        obj.down()
    elif name in ("Latch", "Barrier", "RBarrier"):
        obj.abort()
    elif name in ACQUIRABLE:
        assert obj.green_acquire(blocking=False)
    elif name == "Condition":
        assert obj.lock.green_acquire(blocking=False)
    elif name == "Flag":
        obj.set(("marker",))
    elif name == "ResourceGuard":
        obj.__enter__()
    elif name in ("SimpleQueue", "SimpleLifoQueue"):
        obj.put(1)
        obj.put(2)
    elif name in ("Queue", "LifoQueue", "PriorityQueue"):
        obj.green_put(1, blocking=False)
        obj.green_put(2, blocking=False)
    else:  # pragma: no cover - a new class needs an entry here
        raise AssertionError(f"no state defined for {name}")


def _check_fresh(name: str, clone: Any, original: Any, how: str) -> None:
    if name in ("Event", "REvent"):
        assert not clone.is_set() and original.is_set()
    elif name == "CountdownEvent":
        assert (clone.value, clone.initial_value) == (2, 2) and original.value == 1
    elif name in ("Latch", "Barrier", "RBarrier"):
        assert not clone.broken and clone.parties == original.parties
    elif name in ("Semaphore", "BoundedSemaphore"):
        assert (clone.value, clone.initial_value) == (3, 3) and original.value == 2
        if name == "BoundedSemaphore":
            assert clone.max_value == 3
    elif name in ("BinarySemaphore", "BoundedBinarySemaphore"):
        assert clone.value == 1 and original.value == 0
    elif name in ("CapacityLimiter", "RCapacityLimiter"):
        assert (clone.available_tokens, clone.total_tokens) == (2, 2) and original.available_tokens == 1
    elif name in ("Lock", "RLock"):
        assert not clone.locked() and original.locked()
    elif name == "Condition":
        assert clone.waiting == 0
        if how == "copy":
            assert clone.lock is original.lock
        else:
            assert clone.lock is not original.lock and not clone.lock.locked()
    elif name == "Flag":
        assert clone.get() == ("marker",)
    elif name == "ResourceGuard":
        assert not clone and original and clone.action == original.action
    elif name in STATEFUL_COPIES:
        assert len(clone) == 2 and len(original) == 2
    else:  # pragma: no cover
        raise AssertionError(f"no check defined for {name}")


def _duplicate(obj: Any, how: str) -> Any:
    if how == "copy":
        return copy.copy(obj)
    if how == "deepcopy":
        return copy.deepcopy(obj)
    return pickle.loads(pickle.dumps(obj))


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
@pytest.mark.parametrize("name", CLASSES)
def test_copies_are_fresh_instances(name: str, how: str) -> None:
    original = FACTORIES[name]()
    _use(name, original)
    if name in STATEFUL_COPIES:
        with pytest.warns(DeprecationWarning, match="will no longer preserve the state"):
            clone = _duplicate(original, how)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            clone = _duplicate(original, how)
    assert clone is not original
    assert type(clone) is type(original)
    _check_fresh(name, clone, original, how)


@pytest.mark.parametrize("name", CLASSES)
def test_copy_protocol_methods(name: str) -> None:
    obj = FACTORIES[name]()
    assert obj.__getstate__() is None
    assert isinstance(obj.__getnewargs__(), tuple)
    assert callable(obj.__copy__)


@pytest.mark.parametrize("name", [name for name in CLASSES if name in STATEFUL_COPIES])
def test_empty_stateful_objects_pickle_silently(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clone = pickle.loads(pickle.dumps(FACTORIES[name]()))
    assert not clone


def test_flag_pickle_carries_the_marker_with_a_warning() -> None:
    flag = aiologic.Flag("value")
    with pytest.warns(DeprecationWarning, match="will no longer preserve the state"):
        data = pickle.dumps(flag)
    restored = pickle.loads(data)
    assert restored.get() == "value" and restored is not flag
    with pytest.warns(DeprecationWarning, match="will no longer preserve the state"):
        assert copy.copy(flag).get() == "value"
    with pytest.warns(DeprecationWarning, match="will no longer preserve the state"):
        assert not copy.copy(aiologic.Flag())  # warns even when unset


def test_markers_copy_and_pickle_to_themselves() -> None:
    for marker in (aiologic.meta.DEFAULT, aiologic.meta.MISSING):
        assert copy.copy(marker) is marker
        assert copy.deepcopy(marker) is marker
        assert pickle.loads(pickle.dumps(marker)) is marker
        assert not marker
    assert repr(aiologic.meta.DEFAULT) == "aiologic.meta.DEFAULT"
    assert repr(aiologic.meta.MISSING) == "aiologic.meta.MISSING"
