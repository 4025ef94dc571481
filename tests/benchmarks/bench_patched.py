"""Legacy workloads, patched against unpatched: a ThreadPoolExecutor with 20k small tasks, a logging
QueueHandler/QueueListener pipeline and a queue.Queue producer/consumer (see ``workloads.py``). Each trial
is a fresh interpreter; the patched one calls ``aiologic.patch_all()`` first thing. The aiologic column is
the patched time, the stdlib column the unpatched one. Left empty while aiologic has no ``patch_all``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from benchlib import Case, Target, register

SCRIPT = Path(__file__).with_name("workloads.py")


def no_patch_layer() -> str | None:
    import aiologic

    return None if hasattr(aiologic, "patch_all") else "n/a: aiologic has no patch_all() yet"


def trial(workload: str, patched: bool) -> Callable[[int], float]:
    def run(ops: int) -> float:
        command = [sys.executable, str(SCRIPT), workload, str(ops)] + (["--patched"] if patched else [])
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        return float(done.stdout.split()[-1]) / ops

    return run


for workload, label, ops in (
    ("executor", "ThreadPoolExecutor, small tasks", 20_000),
    ("logging", "logging QueueHandler → QueueListener", 20_000),
    ("queue", "queue.Queue producer/consumer, maxsize=64", 50_000),
):
    register(
        Case(
            name=f"patched: {label}",
            group="patched",
            unit="µs/item",
            scale=1e6,
            ops=ops,
            repeat=5,
            trials={"aiologic": trial(workload, True), "stdlib": trial(workload, False)},
            baseline="the same workload unpatched",
            targets=(Target("≤1.1x unpatched", 1.1, ("stdlib",)),),
            published=False,
            skip=no_patch_layer,
        )
    )
