"""The pytest plugin (``aiologic_pytest``), driven through pytester in subprocesses so this process stays
unpatched: every option, the ini settings, the marker, the fixture, xdist, the report and the loop-block
policy, with the output a user sees when something is wrong."""

from __future__ import annotations

import importlib.util
import sys
import textwrap

import pytest

import aiologic

pytest_plugins = ["pytester"]

HEADER = f"aiologic {aiologic.__version__}: patched"
INI = """
[pytest]
asyncio_default_fixture_loop_scope = function
{extra}
"""
# the test file's assertions of what is patched, shared by the tests below
PROBE = """
import queue, threading, asyncio, sys
import pytest

def replaced(cls):
    return cls.__module__.startswith("aiologic.patches")
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose runs are not mistaken for workers of the xdist run that may be running this test."""
    for name in (
        "PYTEST_XDIST_WORKER",
        "PYTEST_XDIST_WORKER_COUNT",
        "PYTEST_XDIST_TESTRUNUID",
        "PYTEST_ADDOPTS",
    ):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini(INI.format(extra=""))
    return pytester


def run(suite: pytest.Pytester, *args: str) -> pytest.RunResult:
    return suite.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)


def test_inert_without_options(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        PROBE
        + """
def test_nothing_patched_and_aiologic_not_imported():
    assert not replaced(queue.Queue) and not replaced(threading.Lock().__class__)
    assert "aiologic" not in sys.modules
"""
    )
    result = run(suite)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["plugins:*aiologic*"])
    result.stdout.no_fnmatch_line("aiologic *: *patched*")


def test_patch_all_is_in_place_before_conftest_and_test_modules_import(suite: pytest.Pytester) -> None:
    suite.makeconftest("from queue import Queue as CONFTEST_QUEUE\n")
    suite.makepyfile(
        PROBE
        + """
from threading import Event
from conftest import CONFTEST_QUEUE

def test_names_bound_at_import_are_the_replacements():
    assert replaced(CONFTEST_QUEUE) and replaced(Event) and replaced(asyncio.Lock)
"""
    )
    result = run(suite, "--aiologic-patch")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"{HEADER} threading, queue, asyncio"])


def test_a_subset_patches_only_those_modules(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        PROBE
        + """
def test_only_queue():
    assert replaced(queue.Queue) and not replaced(threading.Event) and not replaced(asyncio.Lock)
"""
    )
    result = run(suite, "--aiologic-patch=queue")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"{HEADER} queue"])


def test_ini_setting_patches_and_the_command_line_overrides_it(suite: pytest.Pytester) -> None:
    suite.makeini(INI.format(extra="aiologic_patch = threading, asyncio"))
    suite.makepyfile(
        PROBE
        + """
def test_patched_as_configured(request):
    expected = request.config.getoption("aiologic_patch") != "none"
    assert replaced(threading.Event) is expected and replaced(asyncio.Event) is expected
    assert not replaced(queue.Queue)
"""
    )
    result = run(suite)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"{HEADER} threading, asyncio"])
    result = run(suite, "--aiologic-patch=none")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"aiologic {aiologic.__version__}: nothing patched"])


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (
            ["--aiologic-patch=queue,sockets"],
            "",
            "--aiologic-patch: cannot patch 'sockets'; aiologic patches *",
        ),
        (["--aiologic-patch", "test_paths.py"], "", "*write --aiologic-patch=all*"),
        ([], "aiologic_patch = Queue", "ini setting aiologic_patch: cannot patch 'Queue'*"),
        ([], "aiologic_loop_block = loud", "ini setting aiologic_loop_block: 'loud' is not one of *"),
        (["--aiologic-loop-block=loud"], "", "*invalid choice: 'loud'*"),
    ],
)
def test_bad_settings_are_usage_errors(
    suite: pytest.Pytester, args: list[str], ini: str, message: str
) -> None:
    suite.makeini(INI.format(extra=ini))
    suite.makepyfile(test_paths="def test_never_run(): pass\n")
    result = run(suite, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}"])


@pytest.mark.parametrize("workers", ["2", "auto"])
def test_xdist_workers_patch_and_the_controller_does_not(suite: pytest.Pytester, workers: str) -> None:
    suite.makeconftest(
        """
import os, aiologic

def pytest_report_header(config):
    if not hasattr(config, "workerinput"):
        return f"controller patched: {aiologic.is_patched()}"
"""
    )
    suite.makepyfile(
        PROBE
        + """
import os

@pytest.mark.parametrize("n", range(4))
def test_in_a_worker_and_patched(n):
    assert os.environ["PYTEST_XDIST_WORKER"]
    assert replaced(queue.Queue) and replaced(threading.Event) and replaced(asyncio.Queue)
"""
    )
    result = run(suite, "--aiologic-patch", "-n", workers)
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [f"{HEADER} threading, queue, asyncio in each xdist worker", "controller patched: False"]
    )


MARKED = (
    PROBE
    + """
import aiologic

@pytest.fixture
def built_while_patched():
    q = queue.Queue()
    yield q
    assert replaced(queue.Queue), "the patch must outlive the fixtures of the test"
    assert replaced(type(q))

@pytest.mark.aiologic_patch
def test_marked_and_failing(built_while_patched):
    assert replaced(threading.Event) and replaced(asyncio.Lock)
    raise AssertionError("the test fails")

def test_after_a_failing_marked_test_nothing_is_patched():
    assert not aiologic.is_patched()

@pytest.mark.aiologic_patch("queue")
class TestClass:
    @pytest.mark.aiologic_patch("asyncio")
    def test_markers_add_up(self):
        assert replaced(queue.Queue) and replaced(asyncio.Queue) and not replaced(threading.Event)

@pytest.mark.aiologic_patch("sockets")
def test_unknown_module():
    pass
"""
)


def test_marker_patches_one_test_and_restores_at_teardown_even_on_failure(suite: pytest.Pytester) -> None:
    suite.makepyfile(MARKED)
    result = run(suite)
    result.assert_outcomes(passed=2, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_unknown_module*",
            "@pytest.mark.aiologic_patch: cannot patch 'sockets': supported modules are *",
            "*_ test_marked_and_failing _*",
            "E * AssertionError: the test fails",
        ],
        consecutive=False,
    )
    result.stdout.no_fnmatch_line("*must outlive*")


def test_marker_under_xdist(suite: pytest.Pytester) -> None:
    suite.makepyfile(MARKED)
    result = run(suite, "-n", "2", "--dist", "loadfile")
    result.assert_outcomes(passed=2, failed=1, errors=1)


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_fixture_patches_one_test_and_takes_modules_by_indirect_parametrization(
    suite: pytest.Pytester, xdist: list[str]
) -> None:
    suite.makepyfile(
        PROBE
        + """
import aiologic

def test_all(aiologic_patched):
    assert aiologic_patched == ("threading", "queue", "asyncio")
    assert replaced(queue.Queue) and replaced(threading.Event) and replaced(asyncio.Event)

@pytest.mark.parametrize("aiologic_patched", ["queue", ("asyncio", "threading")], indirect=True)
def test_some(aiologic_patched):
    assert replaced(queue.Queue) is ("queue" in aiologic_patched)
    assert replaced(asyncio.Event) is ("asyncio" in aiologic_patched)

def test_then_nothing():
    assert not aiologic.is_patched()
"""
    )
    result = run(suite, *xdist)
    result.assert_outcomes(passed=4)


BLOCKS = (
    PROBE
    + """
def block_in_a_loop():
    async def main():
        return queue.Queue().get(timeout=0.05)
    asyncio.run(main())

def test_blocks_in_its_own_thread():
    with pytest.raises(queue.Empty):
        block_in_a_loop()

def test_blocks_in_a_loop_it_does_not_own():
    def worker():
        try:
            block_in_a_loop()
        except BaseException:  # the loop's owner swallows what went wrong
            pass
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()

def test_waits_without_blocking_a_loop():
    with pytest.raises(queue.Empty):
        queue.Queue().get(timeout=0.01)
"""
)


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_loop_block_error_fails_each_test_that_blocked_a_loop_with_the_location(
    suite: pytest.Pytester, xdist: list[str]
) -> None:
    suite.makepyfile(BLOCKS)
    result = run(suite, "--aiologic-patch", "--aiologic-loop-block=error", *xdist)
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines([f"{HEADER} threading, queue, asyncio*; on loop block: error"])
    location = (
        "*a patched Queue.get blocks the thread running an event loop at *test_loop_block_error*.py:9;*"
    )
    for test in ("test_blocks_in_its_own_thread", "test_blocks_in_a_loop_it_does_not_own"):
        result.stdout.fnmatch_lines([f"*_ {test} _*", location], consecutive=False)


def test_loop_block_warn_and_ignore(suite: pytest.Pytester) -> None:
    suite.makepyfile(BLOCKS.replace("pytest.raises(queue.Empty)", "pytest.raises(Exception)"))
    result = run(suite, "--aiologic-patch", "--aiologic-loop-block=warn")
    result.assert_outcomes(passed=3, warnings=2)
    result.stdout.fnmatch_lines(["*LoopBlockWarning: a patched Queue.get blocks the thread*"])
    result = run(suite, "--aiologic-patch", "--aiologic-loop-block=ignore")
    result.assert_outcomes(passed=3)
    result.stdout.no_fnmatch_line("*LoopBlock*")


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_report_lists_places_imported_before_the_patch(suite: pytest.Pytester, xdist: list[str]) -> None:
    suite.makepyfile(
        legacy_plugin="from threading import Event as LEGACY_EVENT\n",
        test_one="def test_one(): pass\n",
    )
    result = run(suite, "-p", "legacy_plugin", "--aiologic-patch", "--aiologic-report", *xdist)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*aiologic patch report*",
            "*place(s) still hold an original primitive",
            "  legacy_plugin.LEGACY_EVENT holds the original threading.Event; "
            "fix: aiologic.patch_module('legacy_plugin', 'threading')",
        ]
    )


def test_lives_with_pytest_asyncio_anyio_and_pytest_trio(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        PROBE
        + """
import trio

def feed(put, items):
    threading.Thread(target=lambda: [put(item) for item in items]).start()

@pytest.mark.asyncio
async def test_asyncio_queue_fed_by_a_thread():
    q = asyncio.Queue()
    assert replaced(type(q))
    feed(q.put_nowait, range(3))
    assert [await q.get() for _ in range(3)] == [0, 1, 2]

@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_anyio_awaits_a_threading_event(anyio_backend):
    event = threading.Event()
    threading.Thread(target=event.set).start()
    assert await event.async_wait(timeout=10)

@pytest.mark.trio
async def test_trio_awaits_a_legacy_queue():
    q = queue.Queue()
    feed(q.put, "ab")
    assert [await q.async_get(), await q.async_get()] == ["a", "b"]
"""
    )
    for xdist in ([], ["-n", "2"]):
        result = run(suite, "--aiologic-patch", "--aiologic-loop-block=error", *xdist)
        result.assert_outcomes(passed=4)


@pytest.mark.timeout(600)
@pytest.mark.skipif(importlib.util.find_spec("test.test_queue") is None, reason="no stdlib test package")
def test_the_stdlib_queue_suite_passes_under_the_plugin_with_xdist(suite: pytest.Pytester) -> None:
    # The suite tests fresh imports of the queue module; fresh or not, their locks and conditions come from
    # the patched threading, which the probe records in each worker.
    suite.makeconftest(
        """
import os

def pytest_sessionfinish(session):
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return
    from test import test_queue
    mutex = type(test_queue.py_queue.Queue().mutex)
    worker = os.environ["PYTEST_XDIST_WORKER"]
    with open(f"probe-{worker}.txt", "w") as probe:
        probe.write(f"{mutex.__module__}.{mutex.__qualname__}")
"""
    )
    result = run(suite, "--pyargs", "test.test_queue", "--aiologic-patch", "-n", "2", "-q")
    outcomes = result.parseoutcomes()
    assert result.ret == pytest.ExitCode.OK, textwrap.shorten(str(result.stdout), 3000)
    assert outcomes["passed"] >= 50
    probes = {path.name: path.read_text() for path in suite.path.glob("probe-*.txt")}
    assert probes == dict.fromkeys(["probe-gw0.txt", "probe-gw1.txt"], "aiologic.patches.threading.Lock")
    print(f"test.test_queue on {sys.version.split()[0]} under --aiologic-patch -n 2: {outcomes}")
