"""The examples the docs show are real programs: each runs to completion and prints what its page says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
EXAMPLES = sorted((DOCS / "examples").glob("*.py"))


def documented_output(example: Path) -> str | None:
    """The "Output:" block that follows the example on its page, if the page shows one."""
    page = (DOCS / example.name).with_suffix(".rst").read_text()
    after = page.split(f"literalinclude:: examples/{example.name}", 1)[1]
    match = re.search(r"Output:\s*\n\s*\.\. code-block:: text\n\n((?:   .*\n|\n)+)", after)
    if match is None:
        return None
    return "\n".join(line[3:] for line in match.group(1).splitlines()).strip()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs_and_prints_what_the_page_says(example: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(example)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert result.returncode == 0, result.stderr
    expected = documented_output(example)
    if expected is not None:
        assert result.stdout.strip() == expected
