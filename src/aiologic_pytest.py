"""aiologic's pytest plugin: run a test suite with the standard library patched.

Registered through the ``pytest11`` entry point as ``aiologic`` (``-p no:aiologic`` turns it off; with plugin
autoloading disabled, ``-p aiologic_pytest`` turns it on). It is inert unless asked: without
``--aiologic-patch``, the ini setting ``aiologic_patch``, the marker or the fixture, it patches nothing and
does not even import aiologic.

Design note. A patch reaches only what is imported after it, so the session-wide patch goes in from
``pytest_load_initial_conftests``, which pytest calls before it imports the first conftest file, and comes out
in ``pytest_unconfigure``. Under pytest-xdist every worker is a pytest process of its own, started with the
controller's command line: the workers patch themselves; the controller, which only schedules and reports,
stays unpatched. A per-test patch (marker or fixture) spans setup, call and teardown, so fixtures finalised
after the test still see the replacements they were built with. With the loop-block policy ``error`` the
blocking call raises in the thread that would block; that thread may be a loop the test does not own and
whose errors it never sees, so the plugin also watches the engine and fails the test itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest

ALL = "all"
NONE = "none"
POLICIES = ("warn", "error", "ignore")


@dataclass
class _Session:
    modules: tuple[str, ...]  # what the session patches (in this process, or in each xdist worker)
    policy: str | None
    in_workers: bool
    exits: ExitStack = field(default_factory=ExitStack)


_SESSION = pytest.StashKey[_Session]()
_TEST_PATCH = pytest.StashKey[ExitStack]()
_REPORT = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aiologic", "aiologic: run the tests with the standard library patched")
    group.addoption(
        "--aiologic-patch",
        nargs="?",
        const=ALL,
        default=None,
        metavar="MODULES",
        dest="aiologic_patch",
        help="patch before collection: 'all' (the default) or a comma-separated subset of threading, "
        "queue, asyncio; 'none' overrides the ini setting",
    )
    group.addoption(
        "--aiologic-loop-block",
        choices=POLICIES,
        default=None,
        dest="aiologic_loop_block",
        help="what a patched wait that blocks an event loop's thread does: warn (LoopBlockWarning), "
        "error (the test fails with the location) or ignore",
    )
    group.addoption(
        "--aiologic-report",
        action="store_true",
        default=False,
        dest="aiologic_report",
        help="list in the summary the places the patch could not reach (aiologic.patch_report())",
    )
    parser.addini("aiologic_patch", "modules to patch for the whole run, as --aiologic-patch", default="")
    parser.addini("aiologic_loop_block", "the loop-block policy, as --aiologic-loop-block", default="")


def _modules(value: str, source: str) -> tuple[str, ...]:
    from aiologic._patching import SUPPORTED

    names = tuple(name.strip() for name in value.split(",") if name.strip())
    if names in ((), (ALL,)):
        return SUPPORTED
    if names == (NONE,):
        return ()
    unknown = [name for name in names if name not in SUPPORTED]
    if unknown:
        hint = ""
        if any(os.sep in name or name.endswith(".py") or "::" in name for name in unknown):
            hint = " (to give test paths after the option, write --aiologic-patch=all)"
        raise pytest.UsageError(
            f"{source}: cannot patch {', '.join(map(repr, unknown))}; aiologic patches "
            f"{', '.join(SUPPORTED)} (or '{ALL}', or '{NONE}'){hint}"
        )
    return tuple(name for name in SUPPORTED if name in names)


def _is_xdist_controller(config: pytest.Config) -> bool:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return False
    options = config.known_args_namespace
    return bool(getattr(options, "numprocesses", None) or getattr(options, "tx", None))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    options = early_config.known_args_namespace
    value = options.aiologic_patch
    source = "--aiologic-patch"
    if value is None:
        value, source = str(early_config.getini("aiologic_patch")), "ini setting aiologic_patch"
    policy = options.aiologic_loop_block or str(early_config.getini("aiologic_loop_block")).strip() or None
    if policy is not None and policy not in POLICIES:
        raise pytest.UsageError(
            f"ini setting aiologic_loop_block: {policy!r} is not one of {', '.join(POLICIES)}"
        )
    if not value.strip() and policy is None:
        return
    modules = _modules(value, source) if value.strip() else ()
    session = _Session(modules, policy, in_workers=_is_xdist_controller(early_config))
    early_config.stash[_SESSION] = session
    if session.in_workers:
        return
    from aiologic import _patching

    if policy is not None:
        session.exits.callback(_patching.set_loop_block_policy(policy))
    if modules:
        session.exits.enter_context(_patching.patched(*modules))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "aiologic_patch(*modules): patch threading, queue and asyncio (or the modules named) for this test",
    )


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION, None)
    if session is not None:
        session.exits.close()


def pytest_report_header(config: pytest.Config) -> str | None:
    session = config.stash.get(_SESSION, None)
    if session is None:
        return None
    from aiologic import __version__

    what = f"patched {', '.join(session.modules)}" if session.modules else "nothing patched"
    if session.in_workers and session.modules:
        what += " in each xdist worker"
    if session.policy is not None:
        what += f"; on loop block: {session.policy}"
    return f"aiologic {__version__}: {what}"


# --- per test ---------------------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    markers = list(item.iter_markers("aiologic_patch"))
    if not markers:
        return
    modules: set[str] = set()
    for marker in markers:
        if marker.kwargs or not all(isinstance(arg, str) for arg in marker.args):
            pytest.fail(
                "@pytest.mark.aiologic_patch takes module names only, as ('queue', ...)", pytrace=False
            )
        if not marker.args:
            modules.clear()
            break
        modules.update(marker.args)
    from aiologic import _patching

    exits = item.stash[_TEST_PATCH] = ExitStack()
    try:
        exits.enter_context(_patching.patched(*sorted(modules)))
    except ValueError as exc:
        error = str(exc)  # failed outside the handler, so the report does not show the chain
    else:
        return
    pytest.fail(f"@pytest.mark.aiologic_patch: {error}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    finally:
        exits = item.stash.get(_TEST_PATCH, None)
        if exits is not None:
            exits.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    session = item.config.stash.get(_SESSION, None)
    if session is None or session.policy != "error" or session.in_workers:
        return (yield)
    from aiologic import _patching

    blocks: list[str] = []
    stop = _patching.watch_loop_blocks(blocks.append)
    try:
        result = yield
    finally:
        stop()
    if blocks:
        pytest.fail("aiologic: " + "\n".join(dict.fromkeys(blocks)), pytrace=False)
    return result


@pytest.fixture
def aiologic_patched(request: pytest.FixtureRequest) -> Iterator[tuple[str, ...]]:
    """Patch threading, queue and asyncio for one test (or the modules given by indirect parametrization,
    ``@pytest.mark.parametrize("aiologic_patched", [("queue",)], indirect=True)``); yields the names."""
    from aiologic import _patching

    modules = getattr(request, "param", ())
    modules = (modules,) if isinstance(modules, str) else tuple(modules)
    with _patching.patched(*modules):
        yield tuple(name for name in _patching.SUPPORTED if not modules or name in modules)


# --- the report -------------------------------------------------------------------------------------------


def _report_lines() -> list[str]:
    from aiologic import _patching

    return [str(place) for place in _patching.patch_report()]


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    state = config.stash.get(_SESSION, None)
    if not config.option.aiologic_report or state is None or state.in_workers or not state.modules:
        return
    lines = _report_lines()
    workeroutput: dict[str, Any] | None = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["aiologic_report"] = lines
    config.stash[_REPORT] = lines


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    lines = getattr(node, "workeroutput", {}).get("aiologic_report")
    if lines is not None:
        config = node.config
        config.stash[_REPORT] = sorted({*config.stash.get(_REPORT, []), *lines})


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(_REPORT, None)
    if lines is None:
        return
    terminalreporter.section("aiologic patch report")
    terminalreporter.line(f"{len(lines)} place(s) still hold an original primitive")
    for line in lines:
        terminalreporter.line(f"  {line}")
