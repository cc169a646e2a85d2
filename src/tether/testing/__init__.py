"""Helpers for testing tether programs: virtual time, quiescence, checkpoint assertions.

The pytest plugin (``tether._pytest_plugin``, installed as a pytest11 entry point) runs
``async def`` tests; see the testing reference in docs/.
"""

from .._core import (
    MockClock,
    assert_checkpoints,
    assert_no_checkpoints,
    wait_all_tasks_blocked,
)
from ._sequencer import Sequencer

__all__ = [
    "MockClock",
    "Sequencer",
    "assert_checkpoints",
    "assert_no_checkpoints",
    "wait_all_tasks_blocked",
]
