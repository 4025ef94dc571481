"""Turn a benchmark run into the printed table, the Performance page's reStructuredText and its plots."""

from __future__ import annotations

import datetime
import os
import platform
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchlib import IMPLEMENTATIONS, LABELS, Summary, Target

if TYPE_CHECKING:
    from run import Result

ROOT = Path(__file__).resolve().parents[2]
PEERS = tuple(name for name in IMPLEMENTATIONS if name != "aiologic")
RATIO_LABELS = {"stdlib": "÷stdlib", "janus": "÷janus", "culsans": "÷culsans", "published": "÷0.17.1"}
HEADER = [
    "benchmark",
    "unit",
    "n",
    *(LABELS[name] for name in IMPLEMENTATIONS),
    *RATIO_LABELS.values(),
    "targets",
]
LEGEND = (
    "Each cell: median over n trials per implementation ± half the interquartile range (relative), "
    "trials interleaved between implementations. Lower is better everywhere. "
    "÷peer = aiologic's median divided by the peer's: below 1.00 aiologic is faster. "
    "stdlib/native = the standard library's (or gevent's) own way, named per row below."
)


@dataclass
class Run:
    results: list[Result]
    identities: dict[str, Any]
    elapsed: float
    quick: bool
    arguments: str

    def by_name(self) -> dict[str, Result]:
        return {result.case.name: result for result in self.results}


@dataclass(frozen=True)
class Verdict:
    case: str
    target: Target
    ratio: float | None

    @property
    def status(self) -> str:
        if self.ratio is None:
            return "n/a"
        return "met" if self.ratio <= self.target.max_ratio else "NOT met"


def number(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def cell(summary: Summary | None, result: Result, name: str) -> str:
    if summary is not None:
        return f"{number(summary.median)} ±{summary.spread:.0%}"
    if name in result.errors:
        return "error"
    return "n/a" if result.skipped and name in result.case.implementations() else "—"


def ratio(result: Result, peer: str) -> str:
    ours, theirs = result.summary("aiologic"), result.summary(peer)
    return f"{ours.median / theirs.median:.2f}" if ours and theirs else "—"


def verdicts(run: Run) -> Iterator[Verdict]:
    by_name = run.by_name()
    for result in run.results:
        for target in result.case.targets:
            ours = result.summary("aiologic")
            reference = by_name.get(target.case or result.case.name)
            medians = [
                summary.median
                for name in target.against
                if reference is not None and (summary := reference.summary(name)) is not None
            ]
            yield Verdict(result.case.name, target, ours.median / min(medians) if ours and medians else None)


def rows(run: Run) -> list[list[str]]:
    marks: dict[str, list[Verdict]] = {}
    for verdict in verdicts(run):
        marks.setdefault(verdict.case, []).append(verdict)
    table = []
    for result in run.results:
        case = result.case
        counts = [len(result.samples.get(name, ())) for name in IMPLEMENTATIONS]
        judged = [v for v in marks.get(case.name, []) if v.status != "n/a"]
        met = sum(v.status == "met" for v in judged)
        target = f"{met}/{len(judged)} met" if judged else ("n/a" if case.targets else "")
        table.append(
            [
                case.name,
                case.unit,
                str(max(counts)) if any(counts) else "0",
                *(cell(result.summary(name), result, name) for name in IMPLEMENTATIONS),
                *(ratio(result, peer) for peer in PEERS),
                target,
            ]
        )
    return table


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"CPython {platform.python_version()}"
    )


def short(text: str) -> str:
    """Paths inside the repository, written relative to it."""
    return text.replace(f"{ROOT}{os.sep}", "")


def notes(run: Run) -> list[tuple[str, list[str]]]:
    """The sections printed under the table: baselines, targets, skipped rows, errors, the run itself."""
    baselines = [f"{r.case.name}: {r.case.baseline}" for r in run.results if r.case.baseline]
    targets = [
        f"{v.status}: {v.case} {v.target.label}" + (f" (ratio {v.ratio:.2f})" if v.ratio is not None else "")
        for v in verdicts(run)
    ]
    skipped = [f"{r.case.name}: {r.skipped}" for r in run.results if r.skipped]
    errors = [
        f"{r.case.name}, {LABELS[name]}: {error}" for r in run.results for name, error in r.errors.items()
    ]
    workers = [
        f"{name} worker: aiologic {i['version']} from {short(i['aiologic'])}, CPUs {i['cpus']}"
        for name, i in run.identities.items()
    ]
    about = [
        f"machine: {machine()}",
        f"run: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {run.elapsed:.0f} s"
        + (" (--quick)" if run.quick else ""),
        short(f"command: tests/benchmarks/run.py {run.arguments}").rstrip(),
        *workers,
    ]
    sections = [("stdlib/native column", baselines), ("targets", targets), ("skipped", skipped)]
    return [*sections, ("errors", errors), ("this run", about)]


def text(run: Run) -> str:
    table = [HEADER, *rows(run)]
    widths = [max(len(line[column]) for line in table) for column in range(len(HEADER))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        return "  ".join(
            [first, *(value.rjust(width) for value, width in zip(cells[1:], widths[1:], strict=True))]
        )

    rule = "-" * len(line(HEADER))
    out = [LEGEND, "", line(HEADER), rule, *(line(cells) for cells in table[1:]), rule]
    for title, items in notes(run):
        if items:
            out += ["", f"{title}:", *(f"  {item}" for item in items)]
    return "\n".join(out)


def rst(run: Run, images: list[str]) -> str:
    """The same table for the docs, narrower: each peer's ratio sits under its figure instead of apart."""
    out = [
        ".. This file is generated by ``tox -e bench`` (tests/benchmarks/run.py); do not edit it by hand.",
        "",
        LEGEND + " On this page the ratio stands under each peer's figure.",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "   :class: benchmarks",
        "",
    ]
    peers = len(PEERS)
    for cells in [HEADER, *rows(run)]:
        first, values, ratios, target = cells[:4], cells[4 : 4 + peers], cells[4 + peers : -1], cells[-1]
        out.append(f"   * - {first[0]}")
        out += [f"     - {value}" for value in first[1:]]
        for value, share in zip(values, ratios, strict=True):
            if cells is HEADER or share == "—":
                out.append(f"     - {value}")
            else:
                out += [f"     - | {value}", f"       | ÷ {share}"]
        out.append(f"     - {target}" if target else "     -")
    for image in images:
        out += ["", f".. image:: {image}", "   :width: 100%"]
    for title, items in notes(run):
        if items:
            items = [
                f"command: ``{i.removeprefix('command: ')}``" if i.startswith("command: ") else i
                for i in items
            ]
            out += ["", f"**{title[0].upper()}{title[1:]}**", "", *(f"- {item}" for item in items)]
    return "\n".join(out) + "\n"


def plot_wake_all(run: Run, path: Path) -> bool:
    import matplotlib.pyplot as plt

    found = [r for r in run.results if "kind" in r.case.params]
    kinds = list(dict.fromkeys(r.case.params["kind"] for r in found))
    if not kinds:
        return False
    figure, axes = plt.subplots(1, len(kinds), figsize=(4.2 * len(kinds), 3.8), sharey=True, squeeze=False)
    for axis, kind in zip(axes[0], kinds, strict=True):
        mine = sorted((r for r in found if r.case.params["kind"] == kind), key=lambda r: r.case.params["n"])
        for name in IMPLEMENTATIONS:
            points = [(r.case.params["n"], s) for r in mine if (s := r.summary(name)) is not None]
            if points:
                sizes = [n for n, _ in points]
                medians = [s.median for _, s in points]
                spread = [[s.median - s.q1 for _, s in points], [s.q3 - s.median for _, s in points]]
                label = LABELS[name] if name != "stdlib" else mine[0].case.baseline.split(" ")[0]
                axis.errorbar(sizes, medians, yerr=spread, marker="o", capsize=3, label=label)
        axis.set(title=f"wake-all: {kind}", xscale="log", yscale="log", xlabel="waiting threads N")
        axis.set_xticks([r.case.params["n"] for r in mine], labels=[str(r.case.params["n"]) for r in mine])
        axis.set_xticks([], minor=True)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize="small")
    axes[0][0].set_ylabel("µs from set / last arrival to all woken")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def plot_throughput(run: Run, path: Path) -> bool:
    import matplotlib.pyplot as plt

    found = [r for r in run.results if r.case.params.get("plot") == "throughput"]
    if not found:
        return False
    figure, axis = plt.subplots(figsize=(10, 4.2))
    width = 0.8 / len(IMPLEMENTATIONS)
    for index, name in enumerate(IMPLEMENTATIONS):
        spots, rates, spread = [], [], [[], []]
        for position, result in enumerate(found):
            summary = result.summary(name)
            if summary is not None:  # ns per item -> thousand items per second
                rate = 1e6 / summary.median
                spots.append(position + (index - (len(IMPLEMENTATIONS) - 1) / 2) * width)
                rates.append(rate)
                spread[0].append(rate - 1e6 / summary.q3)
                spread[1].append(1e6 / summary.q1 - rate)
        if spots:
            label = "standard library" if name == "stdlib" else LABELS[name]
            axis.bar(spots, rates, width, yerr=spread, capsize=2, label=label)
    axis.set_xticks(range(len(found)), labels=[r.case.name.replace(" stream, ", "\n") for r in found])
    axis.set_ylabel("thousand items per second (higher is better)")
    axis.set_title("thread ↔ asyncio queue throughput")
    axis.grid(True, axis="y", alpha=0.3)
    axis.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def write_docs(run: Run, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written, images = [], []
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        print("matplotlib is not installed: no plots")
    else:
        for name, draw in (("wakeall.png", plot_wake_all), ("throughput.png", plot_throughput)):
            if draw(run, directory / name):
                written.append(directory / name)
                images.append(f"_generated/{name}")
    page = directory / "benchmarks.inc"
    page.write_text(rst(run, images), encoding="utf-8")
    return [page, *written]
