"""The pytest plugin: run ``async def`` tests and async fixtures under tether.

Enabled automatically through the ``pytest11`` entry point. A test runs under tether when
it is marked ``@pytest.mark.tether`` or when the ini option ``tether_mode = true`` is set
(then every ``async def`` test does). Async fixtures (``async def`` or async generator)
that such a test uses are set up inside the same ``tether.run``, in dependency order, and
torn down in reverse, so they can share nurseries, RunVars and the clock with the test.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Coroutine
from typing import Any

import pytest

from . import _core
from .testing import MockClock

_MARK = "tether"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "tether_mode",
        "run every 'async def' test and async fixture under tether",
        type="bool",
        default=False,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{_MARK}: run this async test under tether.run (see tether_mode)"
    )


def _is_tether_test(item: pytest.Item) -> bool:
    if item.get_closest_marker(_MARK) is not None:
        return True
    return bool(item.config.getini("tether_mode"))


class _AsyncFixture:
    """Stands in for an async fixture's value until the test's run resolves it."""

    def __init__(self, name: str, func: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        self.name = name
        self.func = func
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"<async fixture {self.name!r}, resolved inside the test's tether.run>"


def _wrap_async_fixture(fixturedef: Any) -> None:
    func = fixturedef.func
    if getattr(func, "_tether_wrapped", False):
        return
    if not (inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)):
        return

    @functools.wraps(func)
    def placeholder(**kwargs: Any) -> _AsyncFixture:
        return _AsyncFixture(fixturedef.argname, func, kwargs)

    # pytest inspects the signature to find the fixture's own dependencies.
    placeholder.__signature__ = inspect.signature(func)  # type: ignore[attr-defined]
    placeholder._tether_wrapped = True  # type: ignore[attr-defined]
    fixturedef.func = placeholder


@pytest.hookimpl(tryfirst=True)
def pytest_fixture_setup(fixturedef: Any, request: pytest.FixtureRequest) -> None:
    node = getattr(request, "node", None)
    if isinstance(node, pytest.Item) and _is_tether_test(node):
        _wrap_async_fixture(fixturedef)


class _Resolver:
    """Sets up the async fixtures of one test, inside its run, and tears them down."""

    def __init__(self, nursery: _core.Nursery) -> None:
        self._nursery = nursery
        self._values: dict[int, Any] = {}
        self._teardowns: list[tuple[str, AsyncGenerator[Any, None]]] = []

    async def resolve(self, value: Any) -> Any:
        if isinstance(value, _NurseryFixture):
            return self._nursery
        if not isinstance(value, _AsyncFixture):
            return value
        if id(value) in self._values:
            return self._values[id(value)]
        kwargs = {name: await self.resolve(arg) for name, arg in value.kwargs.items()}
        if inspect.isasyncgenfunction(value.func):
            agen = value.func(**kwargs)
            result = await agen.__anext__()
            self._teardowns.append((value.name, agen))
        else:
            result = await value.func(**kwargs)
        self._values[id(value)] = result
        return result

    async def teardown(self) -> None:
        while self._teardowns:
            name, agen = self._teardowns.pop()
            try:
                await agen.__anext__()
            except StopAsyncIteration:
                continue
            await agen.aclose()
            raise RuntimeError(f"async fixture {name!r} yielded more than once")


async def _run_test(
    testfunction: Callable[..., Coroutine[Any, Any, Any]],
    fixture_values: dict[str, Any],
    argnames: tuple[str, ...],
) -> None:
    # Non-strict: a failing test's own exception reaches pytest as itself, not wrapped in
    # a group by this harness nursery (so pytest.raises / xfail(raises=...) match).
    async with _core.open_nursery(strict_exception_groups=False) as nursery:
        resolver = _Resolver(nursery)
        try:
            # Every fixture in the closure (autouse ones included), in pytest's order.
            resolved = {name: await resolver.resolve(v) for name, v in fixture_values.items()}
            await testfunction(**{name: resolved[name] for name in argnames})
        finally:
            # Fixtures are torn down while the `nursery` fixture's tasks still run (a
            # fixture may have started them); then those tasks are cancelled. Teardown runs
            # in this task, so scopes a fixture holds open across its yield exit in order.
            try:
                await resolver.teardown()
            finally:
                nursery.cancel_scope.cancel()


class _NurseryFixture:
    """Placeholder for the ``nursery`` fixture: replaced by the test's own nursery."""


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    testfunction = pyfuncitem.obj
    if not inspect.iscoroutinefunction(testfunction) or not _is_tether_test(pyfuncitem):
        return None
    argnames = tuple(pyfuncitem._fixtureinfo.argnames)
    fixture_values = dict(pyfuncitem.funcargs)
    clocks = [v for v in fixture_values.values() if isinstance(v, MockClock)]
    if len(clocks) > 1:
        raise ValueError("a test may use only one of the autojump_clock / mock_clock fixtures")
    _core.run(
        _run_test, testfunction, fixture_values, argnames, clock=clocks[0] if clocks else None
    )
    return True


@pytest.fixture
def mock_clock() -> MockClock:
    """A :class:`~tether.testing.MockClock` used as the test's clock (time stands still)."""
    return MockClock()


@pytest.fixture
def autojump_clock() -> MockClock:
    """A :class:`~tether.testing.MockClock` with ``autojump_threshold=0``, used as the test's
    clock: sleeps and timeouts complete as soon as every task is blocked."""
    return MockClock(autojump_threshold=0)


@pytest.fixture
def nursery() -> _NurseryFixture:
    """A nursery inside the test's run; tasks left in it are cancelled when the test ends."""
    return _NurseryFixture()
