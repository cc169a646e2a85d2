"""Exceptions raised by the kernel and shared by every tier above it."""

from __future__ import annotations

from typing import Any, NoReturn

from ._util import NoPublicConstructor, final


class TetherInternalError(Exception):
    """Raised by :func:`tether.run` when something inside tether itself went wrong.

    This means a bug in tether (or in a system task); the run's state may be corrupt.
    """


class RunFinishedError(RuntimeError):
    """Raised by :meth:`TetherToken.run_sync_soon` and friends once the run has finished."""


@final
class Cancelled(BaseException, metaclass=NoPublicConstructor):
    """Raised at a checkpoint inside a cancelled :class:`~tether.CancelScope`.

    It derives from :class:`BaseException` so that ``except Exception`` does not swallow
    it, and it cannot be constructed by user code: only the kernel raises it. Let it
    propagate; the scope that was cancelled catches it.
    """

    def __str__(self) -> str:
        return "Cancelled"

    def __reduce__(self) -> Any:
        return (Cancelled._create, ())


class WouldBlock(Exception):
    """Raised by a ``*_nowait`` operation that would have had to wait."""


class BusyResourceError(Exception):
    """Raised when a task uses a resource that another task is already using in a way
    that does not allow sharing (two readers of one socket, two concurrent ``send_all``)."""


class ClosedResourceError(Exception):
    """Raised when a resource is used after it was closed, by this task or another one."""


class BrokenResourceError(Exception):
    """Raised when a resource is unusable because of something outside this task's control,
    e.g. sending on a channel whose every receiver is closed. The cause is chained."""


class EndOfChannel(Exception):
    """Raised by ``receive`` on a channel whose every sender is closed and whose buffer is empty."""


def _raise_cancelled() -> NoReturn:
    raise Cancelled._create()
