"""The standard library's own tests for the patched classes, run under the patch on this interpreter.

Each suite runs in a subprocess (``tests/conformance/stdlib_suites.py``). A test may fail only if it is listed
below with the implementation detail it checks; ``docs/patching.rst`` carries the same list and the pass
counts per Python version. Tests that would hang on such a detail are not run at all.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

RUNNER = Path(__file__).parent / "conformance" / "stdlib_suites.py"

# Class.test_method -> the implementation detail it checks
DETAILS = {
    "EventTests.test_at_fork_reinit": "reads threading.Event's private _cond",
    "BarrierTests.test_abort_barrier_when_tasks_half_draining_half_blocking": "asyncio.Barrier's draining",
    "BarrierTests.test_draining_state": "asyncio.Barrier's draining phase",
    "BarrierTests.test_filling_tasks_cancel_one": "asyncio.Barrier's private _count",
    "BarrierTests.test_repr": "asyncio.Barrier's draining phase in the repr",
    "BarrierTests.test_filling_one_task_twice": "asyncio.Barrier's draining phase",
    "BarrierTests.test_reset_barrier_when_tasks_half_draining": "asyncio.Barrier's private _count",
    "BarrierTests.test_reset_barrier_when_tasks_half_draining_half_blocking": "asyncio.Barrier's draining",
    "BarrierTests.test_reset_barrier_while_tasks_draining": "asyncio.Barrier's draining phase (hangs)",
    "ConditionTests.test_ambiguous_loops": "refuses a second loop; ours is shared by loops (hangs)",
    "ConditionTests.test_notify": "loop iterations between notify() and resumption",
    "ConditionTests.test_notify_all": "loop iterations between notify_all() and resumption",
    "EventTests.test_clear_with_waiters": "the private _waiters deque of asyncio.Event",
    "EventTests.test_repr": "appends mock waiters to the private _waiters deque",
    "LockTests.test_lock_doesnt_accept_loop_parameter": "the error message names __init__",
    "LockTests.test_cancel_race": "the private _waiters deque holds futures",
    "SemaphoreTests.test_acquire_fifo_order_2": "the number of loop iterations a released permit takes",
    "SemaphoreTests.test_acquire_fifo_order_4": "the number of loop iterations a released permit takes",
    "QueueGetTests.test_get_with_putters": "appends futures to the private _putters deque",
}
HANGS = [name for name, reason in DETAILS.items() if reason.endswith("(hangs)")]

SUITES = {
    "threading": "test.lock_tests",
    "queue": "test.test_queue",
    "asyncio": "test.test_asyncio.test_locks",
}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("suite", list(SUITES))
def test_stdlib_suite_passes_under_the_patch(suite: str) -> None:
    if importlib.util.find_spec(SUITES[suite]) is None:
        pytest.skip(f"this interpreter ships without {SUITES[suite]}")
    done = subprocess.run(
        [sys.executable, str(RUNNER), suite, "--exclude", ",".join(HANGS)],
        capture_output=True,
        text=True,
        timeout=580,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    failed = {".".join(test.split(".")[-2:]) for test in report["failed"]}
    unexplained = {
        name: report["details"][test]
        for test in report["failed"]
        for name in [".".join(test.split(".")[-2:])]
        if name not in DETAILS
    }
    print(
        f"{suite} on {report['python']}: {len(report['passed'])} passed, {len(failed)} failed, "
        f"{len(report['skipped'])} skipped, {len(report['excluded'])} not run"
    )
    assert not unexplained, unexplained
    assert report["passed"], "no test ran"
