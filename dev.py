#!/usr/bin/env python3
"""Run the project's tasks from a fresh clone with nothing but Python installed.

    python3 dev.py demo    # the demo
    python3 dev.py test    # the test suite on every Python found, lint, types, docs
    python3 dev.py tox ... # any tox command line

tox is installed into ``.venv-dev`` on first use; tox builds everything else.
"""

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".venv-dev"
BIN = TOOLS / ("Scripts" if os.name == "nt" else "bin")
COMMANDS = {"demo": ["-e", "demo"], "test": [], "tox": []}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    tox = BIN / "tox"
    if not tox.exists():
        venv.create(TOOLS, with_pip=True)
        subprocess.run([BIN / "python", "-m", "pip", "install", "-q", "tox>=4.11"], check=True)
    command, rest = argv[0], argv[1:]
    return subprocess.run([tox, "-c", ROOT / "tox.ini", *COMMANDS[command], *rest], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
