"""The benchmark suite (tests/benchmarks) still loads, runs trials and renders its table; nothing is timed."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).with_name("benchmarks")))

import benchlib
import report
from run import Result, select


def test_the_cases_load_and_filter() -> None:
    cases = benchlib.load_cases()
    assert {case.group for case in cases.values()} >= {"uncontended", "wake-all", "import", "patched"}
    assert [case.name for case in select(cases, ["^uncontended: Lock: with$"])] == ["Lock: with"]


def test_a_sync_and_an_async_trial_run_and_the_table_renders() -> None:
    cases = benchlib.load_cases()
    results = []
    for name in ("Lock: with", "Lock: async with (asyncio)"):
        case = cases[name]
        samples = {
            impl: [case.trial(impl)(100) * case.scale for _ in range(2)] for impl in ("aiologic", "stdlib")
        }
        results.append(Result(case, samples))
    run = report.Run(results, {}, 0.0, True, "--quick")
    table = report.text(run)
    assert "Lock: async with (asyncio)" in table
    assert "≤1.0x asyncio.Lock" in table
    assert ".. list-table::" in report.rst(run, [])
