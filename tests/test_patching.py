"""The patch engine: what is swapped, restoring by identity, all-or-nothing, per-module patching, the report,
the loop-block policy and the command line. Programs that must see the patch before their imports run in a
subprocess; the rest patch this process and restore it in teardown."""

from __future__ import annotations

import asyncio
import queue
import subprocess
import sys
import textwrap
import threading
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiologic.patches import asyncio as patched_asyncio
from aiologic.patches import queue as patched_queue
from aiologic.patches import threading as patched_threading

import aiologic
from aiologic import _patching

TABLES = {"threading": patched_threading, "queue": patched_queue, "asyncio": patched_asyncio}


def bindings() -> dict[tuple[str, str], Any]:
    found = {}
    for module in TABLES.values():
        for module_name, table in module.SWAPS.items():
            for name in table:
                found[module_name, name] = getattr(sys.modules[module_name], name)
    return found


@pytest.fixture(autouse=True)
def restored() -> Iterator[dict[tuple[str, str], Any]]:
    """Every test starts and ends unpatched, with the originals in place."""
    aiologic.unpatch_all()
    before = bindings()
    yield before
    aiologic.unpatch_all()
    _patching.set_loop_block_policy("warn")
    assert bindings() == before


def run_python(code: str, *args: str, cwd: Path | None = None, timeout: float = 60) -> str:
    done = subprocess.run(
        [sys.executable, *args] if not code else [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# --- the API ----------------------------------------------------------------------------------------------


def test_unknown_module_is_a_value_error_listing_the_supported_ones() -> None:
    with pytest.raises(ValueError, match="supported modules are threading, queue, asyncio"):
        aiologic.patch("socket")
    assert not aiologic.is_patched()


def test_patch_all_swaps_every_binding_together(restored: dict[tuple[str, str], Any]) -> None:
    aiologic.patch_all()
    for (module_name, name), original in restored.items():
        replacement = getattr(sys.modules[module_name], name)
        assert replacement is TABLES[module_name.partition(".")[0]].SWAPS[module_name][name]
        assert replacement is not original
    assert asyncio.Lock is asyncio.locks.Lock
    assert asyncio.Queue is asyncio.queues.Queue


def test_exceptions_stay_the_same_classes() -> None:
    before = (threading.BrokenBarrierError, queue.Empty, queue.Full, asyncio.QueueEmpty, asyncio.QueueFull)
    aiologic.patch_all()
    assert (
        threading.BrokenBarrierError,
        queue.Empty,
        queue.Full,
        asyncio.QueueEmpty,
        asyncio.QueueFull,
    ) == before
    barrier = threading.Barrier(2, timeout=0.01)
    with pytest.raises(before[0]):
        barrier.wait()


def test_unpatch_all_restores_by_identity(restored: dict[tuple[str, str], Any]) -> None:
    aiologic.patch_all()
    aiologic.unpatch_all()
    for (module_name, name), original in restored.items():
        assert getattr(sys.modules[module_name], name) is original


def test_patch_all_twice_is_a_no_op() -> None:
    aiologic.patch_all()
    first = bindings()
    aiologic.patch_all()
    assert bindings() == first
    aiologic.unpatch_all()
    assert not aiologic.is_patched()


def test_per_module_patching_and_is_patched(restored: dict[tuple[str, str], Any]) -> None:
    aiologic.patch("queue")
    assert aiologic.is_patched("queue") and aiologic.is_patched()
    assert not aiologic.is_patched("threading")
    assert threading.Lock is restored["threading", "Lock"]
    assert queue.Queue is patched_queue.Queue
    aiologic.unpatch("queue")
    assert not aiologic.is_patched()
    with pytest.raises(ValueError):
        aiologic.is_patched("socket")


def test_patched_context_manager_is_nesting_safe() -> None:
    with aiologic.patched("queue"):
        with aiologic.patched("queue", "asyncio"):
            assert aiologic.is_patched("asyncio")
        assert aiologic.is_patched("queue") and not aiologic.is_patched("asyncio")
    assert not aiologic.is_patched()


def test_a_failure_while_patching_leaves_nothing_half_patched(
    monkeypatch: pytest.MonkeyPatch, restored: dict[tuple[str, str], Any]
) -> None:
    class Refusing(types.ModuleType):
        def __setattr__(self, name: str, value: object) -> None:
            raise RuntimeError("read-only module")

    refusing = Refusing("refusing")
    monkeypatch.setitem(sys.modules, "refusing", refusing)
    monkeypatch.setitem(patched_asyncio.SWAPS, "refusing", {"__doc__": object()})
    with pytest.raises(RuntimeError, match="read-only"):
        aiologic.patch("queue", "asyncio")
    assert {key: value for key, value in bindings().items() if key in restored} == restored
    assert not aiologic.is_patched()


def test_unpatch_keeps_what_a_later_patcher_bound() -> None:
    aiologic.patch("threading")
    theirs = object()
    threading.Event = theirs  # type: ignore[misc, assignment]
    aiologic.unpatch("threading")
    try:
        assert threading.Event is theirs
    finally:
        threading.Event = _original("threading", "Event")  # type: ignore[misc]


def _original(module_name: str, name: str) -> Any:
    return _ORIGINALS[module_name, name]


_ORIGINALS = bindings()


def test_patching_from_two_threads_at_once() -> None:
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def patcher() -> None:
        try:
            barrier.wait()
            for _ in range(50):
                aiologic.patch_all()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=patcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert asyncio.Lock is patched_asyncio.Lock


def test_replacements_derive_from_the_original_classes(restored: dict[tuple[str, str], Any]) -> None:
    for (module_name, name), original in restored.items():
        replacement = TABLES[module_name.partition(".")[0]].SWAPS[module_name][name]
        if isinstance(original, type) and name != "Lock":  # threading.Lock is a final class on 3.13
            assert issubclass(replacement, original), (module_name, name)


def test_objects_made_while_patched_keep_working_after_unpatching() -> None:
    aiologic.patch_all()
    q = queue.Queue()
    event = threading.Event()
    aiologic.unpatch_all()
    q.put(1)
    event.set()
    assert q.get() == 1 and event.wait(0)


def test_the_patch_api_is_public_and_lazy() -> None:
    assert set(_patching.__all__) == aiologic._PATCHING  # the lazy table names exactly the engine's API
    code = """
        import sys, aiologic
        assert "aiologic._patching" not in sys.modules and "wrapt" not in sys.modules
        assert aiologic.patch_all.__module__ == "aiologic._patching"
        import aiologic.patch
        aiologic.patch("queue")
        assert aiologic.is_patched("queue")
    """
    run_python(code)


# --- per-module patching and the report -------------------------------------------------------------------

LEGACY = """
import queue
from threading import Event

class ConnectionPool:
    QueueCls = queue.LifoQueue

    def __init__(self):
        self.pool = self.QueueCls()

def new_queue():
    return queue.Queue()
"""


@pytest.fixture
def legacy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("legacy_pool", "legacy_later"):
        (tmp_path / f"{name}.py").write_text(LEGACY)
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_report_names_what_the_patch_could_not_reach_and_patch_module_fixes_it(legacy: Path) -> None:
    import legacy_pool  # type: ignore[import-not-found]

    aiologic.patch_all()
    report = {place.place: place for place in aiologic.patch_report()}
    assert report["legacy_pool.ConnectionPool.QueueCls"].original == "queue.LifoQueue"
    assert report["legacy_pool.Event"].fix == "aiologic.patch_module('legacy_pool', 'threading')"
    assert "legacy_pool.ConnectionPool.QueueCls holds the original queue.LifoQueue" in str(
        report["legacy_pool.ConnectionPool.QueueCls"]
    )
    aiologic.patch_module("legacy_pool")
    assert isinstance(legacy_pool.ConnectionPool().pool, patched_queue.LifoQueue)
    assert legacy_pool.Event is patched_threading.Event
    assert not [place for place in aiologic.patch_report() if place.place.startswith("legacy_pool")]


def test_patch_module_only_changes_that_module(legacy: Path) -> None:
    import legacy_pool

    aiologic.patch_module(legacy_pool, "queue")
    assert type(legacy_pool.new_queue()) is patched_queue.Queue
    assert type(queue.Queue()) is _original("queue", "Queue")
    assert legacy_pool.queue.Empty is queue.Empty  # the view passes everything else through
    assert legacy_pool.Event is _original("threading", "Event")  # not asked for


def test_patch_module_applies_to_a_module_imported_later(legacy: Path) -> None:
    aiologic.patch_module("legacy_later", "queue")
    assert "legacy_later" not in sys.modules
    import legacy_later  # type: ignore[import-not-found]

    assert isinstance(legacy_later.ConnectionPool().pool, patched_queue.LifoQueue)
    assert type(queue.LifoQueue()) is _original("queue", "LifoQueue")


def test_patch_module_rejects_other_targets() -> None:
    with pytest.raises(TypeError, match="module or a dotted module name"):
        aiologic.patch_module(42)  # type: ignore[arg-type]


# --- the loop-block policy --------------------------------------------------------------------------------


def _block_in_loop(lock: Any) -> bool:
    async def main() -> bool:
        return bool(lock.acquire(timeout=0.01))

    return asyncio.run(main())


def held_lock() -> Any:
    lock = threading.Lock()
    lock.acquire()
    return lock


def test_loop_block_warns_with_the_callers_location() -> None:
    aiologic.patch("threading")
    with pytest.warns(aiologic.LoopBlockWarning, match="test_patching.py") as record:
        assert not _block_in_loop(held_lock())
    assert record[0].filename == __file__


def test_loop_block_error_raises_before_blocking() -> None:
    aiologic.patch("threading", on_loop_block="error")
    with pytest.raises(aiologic.LoopBlockError, match="blocks the thread running an event loop"):
        _block_in_loop(held_lock())


def test_loop_block_ignore_and_fast_paths_stay_silent() -> None:
    aiologic.patch("threading", on_loop_block="ignore")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not _block_in_loop(held_lock())
    _patching.set_loop_block_policy("error")
    assert _block_in_loop(threading.Lock())  # uncontended: the fast path never blocks


def test_thread_start_in_a_loop_is_not_a_loop_block() -> None:
    aiologic.patch_all(on_loop_block="error")

    async def main() -> int:
        return await asyncio.to_thread(lambda: 42)

    assert asyncio.run(main()) == 42


def test_bad_policy_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="on_loop_block must be one of warn, error, ignore"):
        aiologic.patch_all(on_loop_block="loud")  # type: ignore[arg-type]


# --- the command line -------------------------------------------------------------------------------------

SCRIPT = """
import sys, queue, aiologic
print(aiologic.is_patched("queue"), aiologic.is_patched("asyncio"), sys.argv, __name__)
sys.exit(int(sys.argv[-1]))
"""


def test_command_runs_a_script_with_argv_main_and_exit_code(tmp_path: Path) -> None:
    script = tmp_path / "prog.py"
    script.write_text(SCRIPT)
    done = subprocess.run(
        [sys.executable, "-m", "aiologic.patch", "--only", "queue", str(script), "a", "3"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout.strip() == f"True False [{str(script)!r}, 'a', '3'] __main__"


def test_command_runs_a_module_and_reports(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(SCRIPT + "\n")
    (tmp_path / "holder.py").write_text("import threading\nLOCK_TYPE = threading.Lock\n")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import holder, runpy, sys; sys.argv[1:] = ['--report', '-m', 'prog', '0'];"
            "runpy.run_module('aiologic.patch', run_name='__main__')",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("True True [")
    assert "holder.LOCK_TYPE holds the original threading.Lock" in done.stderr


def test_command_usage_errors() -> None:
    for args, message in (([], "nothing to run"), (["--only", "socket", "x.py"], "cannot patch 'socket'")):
        done = subprocess.run(
            [sys.executable, "-m", "aiologic.patch", *args], capture_output=True, text=True, timeout=60
        )
        assert done.returncode != 0 and message in done.stderr
