"""The pytest plugin, exercised on throw-away test files through pytester."""

import pytest

pytest_plugins = ["pytester"]

TETHER_MODE_INI = "[pytest]\ntether_mode = true\n"
INNER_OPTIONS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:anyio")


def run_inner(pytester: pytest.Pytester, source: str, *, tether_mode: bool = True):
    """Write ``source`` as a test module and run pytest on it in-process.

    Unrelated plugins are disabled: the inner runs need none of them, and hypothesis's
    alone would add about a second to each.
    """
    if tether_mode:
        pytester.makeini(TETHER_MODE_INI)
    pytester.makepyfile(source)
    return pytester.runpytest(*INNER_OPTIONS)


def test_marked_async_tests_run_under_tether(pytester):
    result = run_inner(
        pytester,
        """
        import pytest
        import tether
        from tether.lowlevel import current_task

        @pytest.mark.tether
        async def test_passes():
            await tether.sleep(0)
            assert current_task() is not None

        @pytest.mark.tether
        async def test_fails():
            await tether.checkpoint()
            assert 1 + 1 == 3

        async def test_unmarked():
            await tether.checkpoint()
        """,
        tether_mode=False,
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 1  # the unmarked test did not run under tether
    assert outcomes.get("failed", 0) >= 1
    result.stdout.fnmatch_lines(["*assert 1 + 1 == 3*"])


def test_tether_mode_runs_every_async_test(pytester):
    result = run_inner(
        pytester,
        """
        import tether
        from tether.lowlevel import current_task

        async def test_unmarked():
            await tether.sleep(0)
            assert current_task() is not None

        def test_sync_tests_are_left_alone():
            assert True
        """,
    )
    result.assert_outcomes(passed=2)


def test_async_fixtures_share_the_tests_run(pytester):
    result = run_inner(
        pytester,
        """
        import pytest
        import tether
        from tether.lowlevel import RunVar, current_root_task

        events = []
        shared = RunVar("shared")

        @pytest.fixture
        async def value():
            await tether.sleep(0)
            return 42

        @pytest.fixture
        async def dependent(value):
            await tether.checkpoint()
            return value + 1

        @pytest.fixture
        async def resource():
            events.append("setup")
            shared.set("set by the fixture")
            yield current_root_task()
            await tether.checkpoint()  # teardown may await too
            events.append("teardown")

        async def test_values(value, dependent):
            assert (value, dependent) == (42, 43)

        async def test_generator_fixture(resource):
            assert resource is current_root_task()
            assert shared.get() == "set by the fixture"
            assert events == ["setup"]

        def test_teardown_ran():
            assert events == ["setup", "teardown"]

        async def test_failing_test(resource):
            events.clear()
            raise RuntimeError("test body failed")

        def test_teardown_ran_after_the_failure():
            assert events == ["teardown"]
        """,
    )
    result.assert_outcomes(passed=4, failed=1)


def test_autouse_async_fixture_runs(pytester):
    result = run_inner(
        pytester,
        """
        import pytest
        import tether

        events = []

        @pytest.fixture(autouse=True)
        async def automatic():
            await tether.checkpoint()
            events.append("setup")
            yield
            events.append("teardown")

        async def test_uses_it_implicitly():
            assert events == ["setup"]

        def test_afterwards():
            assert events[:2] == ["setup", "teardown"]
        """,
    )
    result.assert_outcomes(passed=2)


def test_error_in_an_async_fixture_fails_the_test(pytester):
    result = run_inner(
        pytester,
        """
        import pytest
        import tether

        @pytest.fixture
        async def broken():
            await tether.checkpoint()
            raise ValueError("fixture exploded")

        async def test_uses_broken(broken):
            pass
        """,
    )
    outcomes = result.parseoutcomes()
    assert "passed" not in outcomes
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) == 1
    result.stdout.fnmatch_lines(["*fixture exploded*"])


def test_clock_fixtures(pytester):
    result = run_inner(
        pytester,
        """
        import math
        import tether
        from tether.lowlevel import current_clock

        async def test_autojump_clock(autojump_clock):
            assert current_clock() is autojump_clock
            assert autojump_clock.autojump_threshold == 0
            start = tether.current_time()
            await tether.sleep(1000)
            assert tether.current_time() - start == 1000

        async def test_mock_clock(mock_clock):
            assert current_clock() is mock_clock
            assert mock_clock.autojump_threshold == math.inf
            start = tether.current_time()
            mock_clock.jump(5)
            assert tether.current_time() - start == 5
        """,
    )
    result.assert_outcomes(passed=2)


def test_nursery_fixture(pytester):
    result = run_inner(
        pytester,
        """
        import tether
        from tether.testing import wait_all_tasks_blocked

        events = []

        async def background():
            try:
                await tether.sleep_forever()
            finally:
                events.append("background cancelled")

        async def test_leaves_a_task_running(nursery):
            assert nursery.parent_task is not None
            nursery.start_soon(background)
            await wait_all_tasks_blocked()
            assert events == []

        def test_background_task_was_cancelled():
            assert events == ["background cancelled"]
        """,
    )
    result.assert_outcomes(passed=2)


def test_async_fixture_can_start_tasks_in_the_nursery_fixture(pytester):
    result = run_inner(
        pytester,
        """
        import pytest
        import tether

        async def serve(*, task_status=tether.TASK_STATUS_IGNORED):
            task_status.started("listening")
            await tether.sleep_forever()

        @pytest.fixture
        async def server(nursery):
            return await nursery.start(serve)

        async def test_server_runs_in_the_tests_nursery(server, nursery):
            assert server == "listening"
            assert len(nursery.child_tasks) == 1
        """,
    )
    result.assert_outcomes(passed=1)
