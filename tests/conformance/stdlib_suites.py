"""Run the standard library's own tests for the patched classes, under the patch, and report the results.

    python tests/conformance/stdlib_suites.py SUITE [--verbose] [--exclude NAME,...]

SUITE is ``threading`` (the lock, RLock, event, condition, semaphore and barrier tests of
``test.test_threading``/``test.lock_tests``), ``queue`` (``test.test_queue``) or ``asyncio``
(``test.test_asyncio.test_locks`` and ``test_queues``). The module is patched before the tests are imported,
so the classes they bind at import time are the replacements. Prints one JSON object: the interpreter
version and the ids of the tests that passed, failed or were skipped. Each test gets a time limit, so a
hang is reported as a failure of that test.
"""

from __future__ import annotations

import json
import signal
import sys
import unittest
from typing import Any

LIMIT = 20  # seconds per test


class _TimedOut(BaseException):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _TimedOut(f"the test took more than {LIMIT} s")


def _threading_suite(loader: unittest.TestLoader) -> unittest.TestSuite:
    import threading

    from test import lock_tests, test_threading

    class RLockTests(lock_tests.RLockTests):  # the stdlib runs these on its own RLocks only
        locktype = staticmethod(threading.RLock)

    suite = unittest.TestSuite()
    for case in (
        test_threading.LockTests,
        RLockTests,
        test_threading.EventTests,
        test_threading.ConditionAsRLockTests,
        test_threading.ConditionTests,
        test_threading.SemaphoreTests,
        test_threading.BoundedSemaphoreTests,
        test_threading.BarrierTests,
    ):
        suite.addTests(loader.loadTestsFromTestCase(case))
    return suite


def _queue_suite(loader: unittest.TestLoader) -> unittest.TestSuite:
    import queue

    from test import test_queue

    suite = unittest.TestSuite()
    for name in dir(test_queue):
        case = getattr(test_queue, name)
        if isinstance(case, type) and issubclass(case, unittest.TestCase):
            if hasattr(case, "queue"):
                # The suite tests fresh copies of the queue module (pure-Python and C); point both at the
                # patched module, whose classes are the replacements.
                case.queue = queue
            suite.addTests(loader.loadTestsFromTestCase(case))
    return suite


def _asyncio_suite(loader: unittest.TestLoader) -> unittest.TestSuite:
    from test.test_asyncio import test_locks, test_queues

    suite = unittest.TestSuite()
    suite.addTests(loader.loadTestsFromModule(test_locks))
    suite.addTests(loader.loadTestsFromModule(test_queues))
    return suite


SUITES = {"threading": _threading_suite, "queue": _queue_suite, "asyncio": _asyncio_suite}


class _Result(unittest.TextTestResult):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.passed: list[str] = []

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self.passed.append(test.id())


def _with_limit(test: unittest.TestCase) -> None:
    run = test.run

    def limited(result: Any = None) -> Any:
        signal.alarm(LIMIT)
        try:
            return run(result)
        finally:
            signal.alarm(0)

    test.run = limited  # type: ignore[method-assign]


def _tests(suite: unittest.TestSuite) -> list[unittest.TestCase]:
    found: list[unittest.TestCase] = []
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            found.extend(_tests(item))
        else:
            found.append(item)
    return found


def _name(test: unittest.TestCase) -> str:
    """``Class.test_method``, the same on every version."""
    return ".".join(test.id().split(".")[-2:])


def main(argv: list[str]) -> int:
    name = argv[0]
    import aiologic

    aiologic.patch(name)
    signal.signal(signal.SIGALRM, _alarm)
    excluded = set()
    if "--exclude" in argv:
        excluded = set(argv[argv.index("--exclude") + 1].split(","))
    tests = [test for test in _tests(SUITES[name](unittest.TestLoader())) if _name(test) not in excluded]
    for test in tests:
        _with_limit(test)
    stream = sys.stderr if "--verbose" in argv else open("/dev/null", "w")  # noqa: SIM115
    runner = unittest.TextTestRunner(stream=stream, verbosity=2, resultclass=_Result)
    result: Any = runner.run(unittest.TestSuite(tests))
    report = {
        "python": ".".join(map(str, sys.version_info[:3])),
        "passed": result.passed,
        "excluded": sorted(excluded),
        "failed": sorted(test.id() for test, _ in result.failures + result.errors),
        "skipped": sorted(test.id() for test, _ in result.skipped),
        "details": {test.id(): text.splitlines()[-1] for test, text in result.failures + result.errors},
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
