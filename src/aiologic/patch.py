"""Run a program with the patch applied before its first line.

    python -m aiologic.patch [--only threading,queue] [--on-loop-block warn|error|ignore] [--report]
                             SCRIPT [ARGS...]
    python -m aiologic.patch [...] -m MODULE [ARGS...]

``sys.argv``, ``__main__`` and the exit code are as if the program were run directly. ``--report`` prints
:func:`aiologic.patch_report` to stderr when the program ends.
"""

from __future__ import annotations

import runpy
import sys
from types import ModuleType
from typing import Any

from aiologic import _patching

USAGE = __doc__.split("\n\n")[1]


def _parse(argv: list[str]) -> tuple[dict[str, Any], list[str], bool]:
    options: dict[str, Any] = {"only": (), "on_loop_block": None, "report": False}
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--only" and index + 1 < len(argv):
            options["only"] = tuple(name.strip() for name in argv[index + 1].split(",") if name.strip())
            index += 2
        elif arg.startswith("--only="):
            options["only"] = tuple(name.strip() for name in arg[7:].split(",") if name.strip())
            index += 1
        elif arg == "--on-loop-block" and index + 1 < len(argv):
            options["on_loop_block"] = argv[index + 1]
            index += 2
        elif arg.startswith("--on-loop-block="):
            options["on_loop_block"] = arg[16:]
            index += 1
        elif arg == "--report":
            options["report"] = True
            index += 1
        elif arg == "-m" and index + 1 < len(argv):
            return options, argv[index + 1 :], True
        elif arg in ("-h", "--help"):
            raise SystemExit(print(USAGE) or 0)
        elif arg.startswith("-"):
            raise SystemExit(f"aiologic.patch: unknown option {arg!r}\nusage:{USAGE}")
        else:
            return options, argv[index:], False
    raise SystemExit(f"aiologic.patch: nothing to run\nusage:{USAGE}")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, patch, and run the program in this process."""
    options, target, is_module = _parse(sys.argv[1:] if argv is None else argv)
    try:
        _patching.patch(*options["only"], on_loop_block=options["on_loop_block"])
    except ValueError as exc:
        raise SystemExit(f"aiologic.patch: {exc}") from None
    sys.argv = list(target)
    try:
        if is_module:
            runpy.run_module(target[0], run_name="__main__", alter_sys=True)
        else:
            sys.path[0] = _directory(target[0])
            runpy.run_path(target[0], run_name="__main__")
    finally:
        if options["report"]:
            places = _patching.patch_report()
            print(f"aiologic.patch: {len(places)} place(s) still hold an original primitive", file=sys.stderr)
            for place in places:
                print(f"  {place}", file=sys.stderr)


def _directory(path: str) -> str:
    import os

    return os.path.dirname(os.path.abspath(path))


class _CallableModule(ModuleType):
    """``import aiologic.patch`` rebinds ``aiologic.patch`` to this module: keep it callable."""

    def __call__(self, *modules: str, **kwargs: Any) -> None:
        _patching.patch(*modules, **kwargs)


if __name__ == "__main__":
    main()
else:
    sys.modules[__name__].__class__ = _CallableModule
