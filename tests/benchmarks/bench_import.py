"""Import time: ``import aiologic`` in a fresh interpreter, against ``import asyncio`` alone and the published
release. The number is the cumulative time ``python -X importtime`` reports for the top-level module, which
leaves out the interpreter's own start-up. The interpreter runs with ``-S`` and the worker's aiologic and
site-packages put on ``sys.path`` by hand: ``site`` would otherwise run the editable install's path hook,
which imports ``re``, ``pathlib`` and more before the import being measured.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
from collections.abc import Callable

from benchlib import Case, Target, register


def import_time(module: str) -> float:
    """Seconds ``import module`` takes in a new interpreter (every module it pulls in included)."""
    import aiologic

    paths = [os.path.dirname(os.path.dirname(aiologic.__file__ or "")), *site.getsitepackages()]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [
            sys.executable,
            "-S",
            "-X",
            "importtime",
            "-c",
            f"import sys; sys.path[:0] = {paths!r}; import {module}",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,  # the warm-up trial leaves .pyc files, as an installed package has
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
