"""A failing async test's exception reaches pytest as itself (not wrapped by the
plugin's harness nursery), so pytest.raises and xfail(raises=...) work as usual."""

pytest_plugins = ["pytester"]


def test_failing_async_test_reports_its_own_exception(pytester):
    pytester.makepyfile(
        """
        import pytest
        import tether

        @pytest.mark.xfail(raises=AssertionError, strict=True)
        async def test_expected_failure():
            await tether.sleep(0)
            assert 1 == 2

        async def test_plain_failure():
            await tether.sleep(0)
            raise KeyError("from the test body")
        """
    )
    result = pytester.runpytest_inprocess(
        "-o", "tether_mode=true", "-p", "no:hypothesispytest", "-p", "no:anyio"
    )
    result.assert_outcomes(failed=1, xfailed=1)
    result.stdout.fnmatch_lines(["*KeyError: 'from the test body'*"])
    result.stdout.no_fnmatch_line("*ExceptionGroup*")
