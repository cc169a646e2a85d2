"""Helpers for testing tether programs: virtual time, quiescence, checkpoint assertions,
in-memory streams and stream conformance checkers.

The pytest plugin (``tether._pytest_plugin``, installed as a pytest11 entry point) runs
``async def`` tests; see the testing reference in docs/.
"""

from .._core import (
    MockClock,
    assert_checkpoints,
    assert_no_checkpoints,
    wait_all_tasks_blocked,
)
from ._check_streams import (
    check_half_closeable_stream,
    check_one_way_stream,
    check_two_way_stream,
)
from ._memory_streams import (
    MemoryReceiveStream,
    MemorySendStream,
    lockstep_stream_one_way_pair,
    lockstep_stream_pair,
    memory_stream_one_way_pair,
    memory_stream_pair,
    memory_stream_pump,
)
from ._network import open_stream_to_socket_listener
from ._sequencer import Sequencer

__all__ = [
    "MemoryReceiveStream",
    "MemorySendStream",
    "MockClock",
    "Sequencer",
    "assert_checkpoints",
    "assert_no_checkpoints",
    "check_half_closeable_stream",
    "check_one_way_stream",
    "check_two_way_stream",
    "lockstep_stream_one_way_pair",
    "lockstep_stream_pair",
    "memory_stream_one_way_pair",
    "memory_stream_pair",
    "memory_stream_pump",
    "open_stream_to_socket_listener",
    "wait_all_tasks_blocked",
]
