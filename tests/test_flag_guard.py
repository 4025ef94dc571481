"""aiologic.Flag, aiologic.ResourceGuard and aiologic.BusyResourceError (spec §9, §10, §1.2)."""

from __future__ import annotations

import copy
import pickle
import re
import threading
import warnings
from typing import Any

import pytest

import aiologic
from aiologic import BusyResourceError, Flag, ResourceGuard
from aiologic.meta import DEFAULT, MISSING
from harness import Task, run

STATE_WARNING = "will no longer preserve the state"


# --- Flag ---------------------------------------------------------------------------------------------------


def test_new_flag_is_unset() -> None:
    flag: Flag[Any] = Flag()
    assert not flag
    with pytest.raises(LookupError) as info:
        flag.get()
    assert info.value.args == (flag,)
    assert Flag(MISSING).get("unset") == "unset"  # the marker passed explicitly equals omitting it


def test_get_defaults() -> None:
    flag: Flag[Any] = Flag()
    sentinel = object()
    assert flag.get(sentinel) is sentinel
    assert flag.get(None) is None  # None is a real default
    assert flag.get(default_factory=list) == []
    assert flag.get(sentinel, default_factory=list) is sentinel  # default wins over the factory
    calls = []
    assert flag.get(default_factory=lambda: calls.append(1) or "made") == "made"
    assert calls == [1]
    flag.set("v")
    assert flag.get(sentinel) == "v"
    assert flag.get(default_factory=lambda: calls.append(2)) == "v"
    assert calls == [1]  # not called when set


@pytest.mark.parametrize("marker", ["v", None, 0, False, (), object()])
def test_flag_created_set(marker: object) -> None:
    flag = Flag(marker)
    assert flag  # set even when the marker itself is falsy
    assert flag.get() is marker
    assert flag.get("other") is marker


def test_set_without_marker_stores_a_unique_object() -> None:
    flag: Flag[Any] = Flag()
    assert flag.set() is True
    stored = flag.get()
    assert stored is not MISSING and stored is not None
    assert flag.set() is False  # an omitted marker on a set flag
    assert flag.get() is stored
    assert flag.set(stored) is True  # the identical marker
    other: Flag[Any] = Flag()
    other.set()
    assert other.get() is not stored


def test_set_with_marker() -> None:
    flag: Flag[Any] = Flag()
    first, second = ["a"], ["a"]
    assert flag.set(first) is True
    assert flag.get() is first
    assert flag.set(second) is False  # equal but not identical
    assert flag.set(first) is True
    assert flag.get() is first
    assert Flag("x").set("y") is False


def test_clear() -> None:
    flag = Flag("v")
    flag.clear()
    assert not flag
    assert flag.get(None) is None
    flag.clear()  # clearing an unset flag is fine
    assert not flag
    assert flag.set("w") is True
    assert flag.get() == "w"


def test_flag_repr() -> None:
    assert repr(Flag()) == "aiologic.Flag()"
    assert repr(Flag("v")) == "aiologic.Flag('v')"
    assert repr(Flag(None)) == "aiologic.Flag(None)"
    assert repr(Flag([1, 2])) == "aiologic.Flag([1, 2])"
    flag: Flag[Any] = Flag()
    flag.set("late")
    assert repr(flag) == "aiologic.Flag('late')"


def test_flag_identity_semantics() -> None:
    first, second = Flag(1), Flag(1)
    assert first != second
    assert first == first
    assert hash(first) == object.__hash__(first)
    assert len({first, second}) == 2


def test_flag_is_generic() -> None:
    alias = Flag[int]
    assert alias.__origin__ is Flag
    assert isinstance(alias(3), Flag)


@pytest.mark.parametrize("explicit", [False, True])
@pytest.mark.usefixtures("frequent_switches")
def test_concurrent_set_has_exactly_one_winner(explicit: bool) -> None:
    threads_count = 8
    for _ in range(50):
        flag: Flag[Any] = Flag()
        markers = [object() for _ in range(threads_count)]
        results = _race_setters(flag, markers if explicit else None)
        assert results.count(True) == 1
        assert results.count(False) == threads_count - 1
        if explicit:
            assert flag.get() is markers[results.index(True)]
        assert flag.set(flag.get()) is True


def _race_setters(flag: Flag[Any], markers: list[object] | None) -> list[bool | None]:
    """Eight threads released at once each call ``flag.set()`` (with their own marker, if given)."""
    count = 8
    barrier = threading.Barrier(count)
    results: list[bool | None] = [None] * count

    def setter(index: int) -> None:
        barrier.wait()
        results[index] = flag.set(markers[index]) if markers is not None else flag.set()

    threads = [threading.Thread(target=setter, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_set_from_every_library(library: str) -> None:
    flag: Flag[Any] = Flag()

    async def body(t: Task) -> tuple[bool, bool]:
        return flag.set(t.library), flag.set("late")

    assert run(library, body) == (True, False)
    assert flag.get() == library


def test_flag_copy_keeps_the_marker_and_warns() -> None:
    marker = ["payload"]
    flag = Flag(marker)
    with pytest.warns(DeprecationWarning, match=STATE_WARNING):
        clone = copy.copy(flag)
    assert clone is not flag and type(clone) is Flag
    assert clone.get() is marker  # shallow: the same marker
    clone.clear()
    assert flag.get() is marker  # separate state


def test_flag_copy_warns_even_when_unset() -> None:
    with pytest.warns(DeprecationWarning, match=STATE_WARNING):
        clone = copy.copy(Flag())
    assert not clone


def test_flag_deepcopy_and_pickle_keep_the_marker_and_warn() -> None:
    flag = Flag(["payload"])
    with pytest.warns(DeprecationWarning, match=STATE_WARNING):
        deep = copy.deepcopy(flag)
    assert deep.get() == ["payload"] and deep.get() is not flag.get()
    with pytest.warns(DeprecationWarning, match=STATE_WARNING):
        data = pickle.dumps(flag)
    restored = pickle.loads(data)
    assert type(restored) is Flag and restored is not flag
    assert restored.get() == ["payload"]


def test_unset_flag_pickles_silently() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        restored = pickle.loads(pickle.dumps(Flag()))
    assert type(restored) is Flag and not restored


def test_flag_copy_method_is_deprecated() -> None:
    flag = Flag("v")
    with pytest.warns(DeprecationWarning) as record:
        clone = flag.copy()
    assert any("copy.copy" in str(warning.message) for warning in record)
    assert clone is not flag and clone.get() == "v"


def test_flag_has_slots() -> None:
    flag: Flag[Any] = Flag()
    with pytest.raises(AttributeError):
        flag.anything = 1  # type: ignore[attr-defined]
    assert not hasattr(flag, "__dict__")


# --- ResourceGuard ------------------------------------------------------------------------------------------


def test_guard_enters_and_leaves() -> None:
    guard = ResourceGuard()
    assert not guard
    assert guard.action == "using"
    with guard as entered:
        assert entered is guard
        assert guard
    assert not guard
    with guard:  # usable again
        assert guard
    assert not guard


def test_guard_is_not_reentrant_and_reports_busy() -> None:
    guard = ResourceGuard()
    busy = r"^another task is already using this resource$"
    with guard:
        with pytest.raises(BusyResourceError, match=busy), guard:
            pytest.fail("entered twice")  # pragma: no cover
        assert guard  # the failed entry did not unlock the guard
    assert not guard


@pytest.mark.parametrize("action", ["notifying", "reading from", ""])
def test_guard_action(action: str) -> None:
    guard = ResourceGuard(action=action)
    assert guard.action == action
    with guard, pytest.raises(BusyResourceError) as info, guard:
        pass  # pragma: no cover
    assert str(info.value) == f"another task is already {action} this resource"


def test_guard_default_action_marker() -> None:
    assert ResourceGuard(action=DEFAULT).action == "using"


@pytest.mark.parametrize("args", [("using",), (None,), ("using", "extra")])
def test_guard_refuses_a_first_positional_argument(args: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError, match=r"^the first argument should not have been passed$"):
        ResourceGuard(*args)


def test_guard_signature_markers() -> None:
    """The signature is ``(_=DEFAULT, /, action=DEFAULT)``: the marker itself counts as "not passed"."""
    assert ResourceGuard(DEFAULT).action == "using"
    assert ResourceGuard(DEFAULT, "sending").action == "sending"


def test_guard_exit_always_unlocks() -> None:
    guard = ResourceGuard()
    with pytest.raises(KeyError), guard:
        raise KeyError("inside")
    assert not guard
    with guard:
        pass


def test_guard_repr() -> None:
    guard = ResourceGuard()
    assert repr(guard) == f"<aiologic.ResourceGuard('using') at {id(guard):#x} [unlocked]>"
    with guard:
        assert repr(guard) == f"<aiologic.ResourceGuard('using') at {id(guard):#x} [locked]>"
    other = ResourceGuard(action="notifying")
    assert re.fullmatch(r"<aiologic\.ResourceGuard\('notifying'\) at 0x[0-9a-f]+ \[unlocked\]>", repr(other))


def test_guard_has_no_async_context_manager() -> None:
    guard = ResourceGuard()
    assert not hasattr(guard, "__aenter__")
    assert not hasattr(guard, "__aexit__")


def test_guard_never_waits_for_another_thread() -> None:
    guard = ResourceGuard()
    entered = threading.Event()
    leave = threading.Event()
    outcome: list[BaseException | None] = []

    def holder() -> None:
        with guard:
            entered.set()
            leave.wait(10)

    def intruder() -> None:
        try:
            with guard:
                outcome.append(None)
        except BusyResourceError as exc:
            outcome.append(exc)

    holding = threading.Thread(target=holder)
    holding.start()
    try:
        assert entered.wait(10)
        intruding = threading.Thread(target=intruder)
        intruding.start()
        intruding.join(5)
        assert not intruding.is_alive()  # refused at once, did not wait for the holder
    finally:
        leave.set()
        holding.join()
    assert len(outcome) == 1 and isinstance(outcome[0], BusyResourceError)
    assert not guard


def test_guard_in_every_library(library: str) -> None:
    guard = ResourceGuard()

    async def body(t: Task) -> tuple[bool, bool]:
        with guard:
            inside = bool(guard)
            busy = False
            try:
                with guard:
                    pass  # pragma: no cover
            except BusyResourceError:
                busy = True
        return inside, busy

    assert run(library, body) == (True, True)
    assert not guard


@pytest.mark.usefixtures("frequent_switches")
def test_guard_mutual_exclusion_under_contention() -> None:
    """Many threads hammer the guard: never two inside at once, and every entry is balanced."""
    guard = ResourceGuard()
    inside = [0]
    overlaps = [0]
    entries = [0] * 6  # per thread: no shared counter outside the guard
    busy = [0] * 6
    start = threading.Barrier(6)

    def worker(index: int) -> None:
        start.wait()
        for _ in range(2000):
            try:
                with guard:
                    inside[0] += 1
                    if inside[0] != 1:
                        overlaps[0] += 1
                    entries[index] += 1
                    inside[0] -= 1
            except BusyResourceError:
                busy[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps[0] == 0
    assert [e + b for e, b in zip(entries, busy, strict=True)] == [2000] * 6
    assert sum(entries) > 0
    assert not guard


def test_guard_copy_works_in_this_implementation() -> None:
    """Documented difference: upstream's copy.copy(guard) raises ValueError; ours returns a fresh guard."""
    guard = ResourceGuard(action="notifying")
    with guard:
        clone = copy.copy(guard)
    assert type(clone) is ResourceGuard and clone is not guard
    assert clone.action == "notifying"
    assert not clone
    with guard, clone:  # independent of the original
        assert clone and guard


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_guard_deepcopy_and_pickle(how: str) -> None:
    guard = ResourceGuard(action="reading")
    with guard:
        clone = copy.deepcopy(guard) if how == "deepcopy" else pickle.loads(pickle.dumps(guard))
    assert type(clone) is ResourceGuard and clone is not guard
    assert clone.action == "reading"
    assert not clone
    with clone:
        assert clone


def test_guard_has_slots() -> None:
    guard = ResourceGuard()
    with pytest.raises(AttributeError):
        guard.anything = 1  # type: ignore[attr-defined]
    assert not hasattr(guard, "__dict__")
    assert guard != ResourceGuard()


# --- BusyResourceError --------------------------------------------------------------------------------------


def test_busy_resource_error() -> None:
    assert issubclass(BusyResourceError, RuntimeError)
    assert BusyResourceError.__module__ == "aiologic"
    assert aiologic.BusyResourceError is BusyResourceError
    error = BusyResourceError("message")
    assert str(error) == "message"
    with pytest.raises(RuntimeError):
        raise error
