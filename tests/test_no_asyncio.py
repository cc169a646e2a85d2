"""tether is a kernel of its own: importing and running it must not pull in asyncio."""

import subprocess
import sys
import textwrap

PROGRAM = textwrap.dedent(
    """
    import sys

    import tether
    import tether.abc
    import tether.lowlevel
    import tether.testing

    async def main():
        async with tether.open_nursery() as nursery:
            nursery.start_soon(tether.sleep, 0)
        with tether.move_on_after(0.001):
            await tether.sleep_forever()
        return "ran"

    assert tether.run(main) == "ran"
    foreign = sorted(
        name
        for name in sys.modules
        if name.partition(".")[0] in {"asyncio", "trio", "curio", "anyio"}
    )
    print(foreign)
    """
)


def test_importing_and_running_tether_does_not_import_asyncio():
    completed = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
