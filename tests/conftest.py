from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from harness import ASYNC, CANCELLABLE, GREEN, LIBRARIES


@pytest.fixture(params=LIBRARIES)
def library(request: pytest.FixtureRequest) -> str:
    """Every library aiologic supports, green and async."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(params=GREEN)
def green_library(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(params=ASYNC)
def async_library(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(params=CANCELLABLE)
def cancellable_library(request: pytest.FixtureRequest) -> str:
    """Libraries whose waits can be interrupted from outside (all but plain threads)."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(params=LIBRARIES)
def other_library(request: pytest.FixtureRequest) -> str:
    """A second library, for pairs: the waiter runs on ``library``, the waker on ``other_library``."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def frequent_switches() -> Iterator[None]:
    """Switch threads as often as CPython allows, so that races and contention actually happen (a few
    dozen rounds of work otherwise fit in one 5 ms switch interval and threads run one after another)."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
