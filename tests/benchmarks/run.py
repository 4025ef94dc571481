"""Run the benchmark suite and print one table of aiologic against its peers.

    python tests/benchmarks/run.py [--quick] [--only PATTERN ...] [--published DIR] [--docs | --no-docs]

Two worker processes do the measuring: one imports this tree's aiologic (and runs the stdlib and janus
sides), the other has the published aiologic 0.17.1 first on ``sys.path`` (and runs culsans, which is built
on it). The release is installed into ``--published DIR`` with pip when it is not there yet. Trials of a
case alternate between implementations, in a rotating order, ``repeat`` times; the table shows medians and
half the interquartile range. A full run (no ``--quick``, no ``--only``) also writes the Performance page's
table and plots under ``docs/_generated``. ``tox -e bench`` runs this.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import benchlib  # noqa: E402
from benchlib import WORKER, Case, Summary, summarize  # noqa: E402

PUBLISHED_VERSION = "0.17.1"
DEFAULT_PUBLISHED = HERE.parents[1] / ".tox" / "bench-published" / f"aiologic-{PUBLISHED_VERSION}"
QUICK_DIVISOR = 10
QUICK_REPEAT = 3


class Worker:
    """A measuring process answering one JSON request per line; restarted if it hangs or dies."""

    def __init__(self, name: str, env: dict[str, str], timeout: float, cpu: int | None) -> None:
        self.name = name
        self.env = env
        self.timeout = timeout
        self.pin = [] if cpu is None else ["--pin", str(cpu)]
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", *self.pin],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(self.process.stdout, self.lines), daemon=True).start()

    @staticmethod
    def _read(stream: IO[str], lines: queue.Queue[str | None]) -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    def ask(self, **request: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            line = self.lines.get(timeout=self.timeout)
        except (OSError, queue.Empty):
            line = None
            reason = f"no answer within {self.timeout:.0f} s"
        else:
            reason = "the worker process died"
        if line is None:
            self.process.kill()
            self.process.wait()
            self.start()
            return {"error": reason}
        reply: dict[str, Any] = json.loads(line)
        return reply

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Result:
    case: Case
    samples: dict[str, list[float]] = field(default_factory=dict)  # in the case's unit
    errors: dict[str, str] = field(default_factory=dict)
    skipped: str | None = None

    def summary(self, implementation: str) -> Summary | None:
        values = self.samples.get(implementation)
        return summarize(values) if values and implementation not in self.errors else None


def ensure_published(directory: Path) -> Path | None:
    """The directory holding the published release, installed there with pip first if needed."""
    if not (directory / "aiologic" / "__init__.py").exists():
        print(f"installing aiologic=={PUBLISHED_VERSION} into {directory}", file=sys.stderr)
        command = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--upgrade"]
        command += ["--target", str(directory), f"aiologic=={PUBLISHED_VERSION}"]
        if subprocess.run(command).returncode != 0:
            print("could not install the published release: its columns stay empty", file=sys.stderr)
            return None
    return directory


def start_workers(
    published: Path | None, timeout: float, cpu: int | None
) -> tuple[dict[str, Worker], dict[str, Any]]:
    workers = {"ours": Worker("ours", dict(os.environ), timeout, cpu)}
    if published is not None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(published), env.get("PYTHONPATH")]))
        workers["published"] = Worker("published", env, timeout, cpu)
    identities = {name: worker.ask(op="hello") for name, worker in workers.items()}
    for name, found in identities.items():
        if "error" in found:
            raise SystemExit(f"the {name} worker did not start: {found['error']}")
    if "published" in identities and identities["published"]["version"] != PUBLISHED_VERSION:
        raise SystemExit(
            f"the published worker imported {identities['published']} instead of {PUBLISHED_VERSION}"
        )
    return workers, identities


def measure(case: Case, workers: dict[str, Worker], quick: bool, repeat: int | None) -> Result:
    result = Result(case)
    probe = workers["ours"].ask(op="probe", case=case.name)
    if probe.get("error") or probe.get("skip"):
        result.skipped = probe.get("error") or probe.get("skip")
        return result
    ops = max(1, case.ops // QUICK_DIVISOR) if quick else case.ops
    rounds = repeat or (min(QUICK_REPEAT, case.repeat) if quick else case.repeat)
    names = [name for name in case.implementations() if WORKER[name] in workers]

    def trial(name: str, count: int) -> float | None:
        reply = workers[WORKER[name]].ask(op="trial", case=case.name, impl=name, ops=count)
        if "error" in reply:
            result.errors[name] = reply["error"]
            return None
        return float(reply["value"]) * case.scale

    for name in names:  # one untimed warm-up trial each: imports, caches, .pyc files
        trial(name, max(1, ops // QUICK_DIVISOR))
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            if name not in result.errors and (value := trial(name, ops)) is not None:
                result.samples.setdefault(name, []).append(value)
    return result


def select(cases: dict[str, Case], patterns: list[str]) -> list[Case]:
    if not patterns:
        return list(cases.values())
    found = [re.compile(pattern, re.IGNORECASE) for pattern in patterns]
    return [case for case in cases.values() if any(p.search(f"{case.group}: {case.name}") for p in found)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1/10 of the work, 3 trials")
    parser.add_argument(
        "--only", action="append", default=[], metavar="PATTERN", help="regex on 'group: name'"
    )
    parser.add_argument(
        "--published", type=Path, default=DEFAULT_PUBLISHED, help="where aiologic 0.17.1 lives"
    )
    parser.add_argument("--no-published", action="store_true", help="leave the release and culsans out")
    parser.add_argument("--repeat", type=int, help="trials per implementation, instead of each case's own")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds one trial may take")
    parser.add_argument("--docs", action=argparse.BooleanOptionalAction, help="write docs/_generated")
    parser.add_argument("--list", action="store_true", help="list the cases and stop")
    parser.add_argument(
        "--cpus",
        choices=("one", "all"),
        default="one",
        help="pin every worker to one and the same CPU (the default), or let the OS place their threads",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pin", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        if args.pin is not None:  # threads and processes started from here inherit the mask
            os.sched_setaffinity(0, {args.pin})
        benchlib.serve()
        return 0
    cases = select(benchlib.load_cases(), args.only)
    if args.list:
        for case in cases:
            print(f"{case.group}: {case.name}")
        return 0
    started = time.perf_counter()
    published = None if args.no_published else ensure_published(args.published.resolve())
    pinned = args.cpus == "one" and hasattr(os, "sched_setaffinity")
    workers, identities = start_workers(
        published, args.timeout, max(os.sched_getaffinity(0)) if pinned else None
    )
    results: list[Result] = []
    try:
        for number, case in enumerate(cases, 1):
            began = time.perf_counter()
            results.append(measure(case, workers, args.quick, args.repeat))
            print(
                f"[{number}/{len(cases)}] {case.name}: {time.perf_counter() - began:.1f} s", file=sys.stderr
            )
    finally:
        for worker in workers.values():
            worker.close()
    elapsed = time.perf_counter() - started

    import report

    run = report.Run(results, identities, elapsed, args.quick, " ".join(sys.argv[1:]))
    print(report.text(run), flush=True)
    if args.docs or (args.docs is None and not args.quick and not args.only):
        for path in report.write_docs(run, HERE.parents[1] / "docs" / "_generated"):
            print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
