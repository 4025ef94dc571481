"""Import time: ``import aiologic`` in a fresh interpreter, against ``import asyncio`` alone and the published
release. The number is the cumulative time ``python -X importtime`` reports for the top-level module, which
leaves out the interpreter's own start-up.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

from benchlib import Case, Target, register


def import_time(module: str) -> float:
    """Seconds ``import module`` takes in a new interpreter (every module it pulls in included)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in done.stderr.splitlines():
        parts = line.split("|")
        # "import time:  self [us] | cumulative | name"; nested imports are indented past one space
        if len(parts) == 3 and parts[2].rstrip() == f" {module}":
            return int(parts[1]) / 1e6
    raise RuntimeError(f"-X importtime did not report {module}:\n{done.stderr[-2000:]}")


def trial(module: str) -> Callable[[int], float]:
    return lambda _: import_time(module)


register(
    Case(
        name="import aiologic",
        group="import",
        unit="ms",
        scale=1e3,
        ops=1,
        repeat=15,
        trials={"aiologic": trial("aiologic"), "stdlib": trial("asyncio")},
        baseline="import asyncio",
        targets=(Target("≤1.0x import asyncio", 1.0, ("stdlib",)),),
    )
)
