"""Abstract interfaces shared by tether's resources: channels today, streams later.

These are the contracts a user programs against: a function that accepts a
:class:`ReceiveChannel` works with a memory channel today and with any other
implementation (a channel over a socket, a test double) tomorrow.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Generic, Self, TypeVar

from ._core import EndOfChannel

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["AsyncResource", "Channel", "ReceiveChannel", "SendChannel"]

T = TypeVar("T")
SendType = TypeVar("SendType", contravariant=True)
ReceiveType = TypeVar("ReceiveType", covariant=True)


class AsyncResource(ABC):
    """An object that holds something that must be released with ``await aclose()``.

    Subclasses implement :meth:`aclose`. Every ``AsyncResource`` is an async context
    manager: ``async with resource:`` closes it when the block is left, however it is left.
    """

    __slots__ = ()

    @abstractmethod
    async def aclose(self) -> None:
        """Close this resource, possibly blocking while it shuts down cleanly.

        Closing is idempotent: closing a resource that is already closed does nothing.
        Once ``aclose`` returns or raises, the resource is closed: even when ``aclose`` is
        cancelled, implementations release what they hold (perhaps less gracefully)
        before letting :exc:`~tether.Cancelled` out. Any other task blocked on the
        resource is woken up with :exc:`~tether.ClosedResourceError`.
        """

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


class SendChannel(AsyncResource, Generic[SendType]):
    """The sending end of a channel: objects go in one at a time with :meth:`send`.

    Whether :meth:`send` waits for a receiver, and how many objects may be buffered,
    depends on the implementation.
    """

    __slots__ = ()

    @abstractmethod
    async def send(self, value: SendType) -> None:
        """Put ``value`` into the channel, waiting if the channel has no room for it.

        Raises:
          tether.BrokenResourceError: nobody can ever receive ``value``: every receiving
            end is closed.
          tether.ClosedResourceError: this sending end was closed, before the call or
            (by another task) while it was waiting.
          tether.BusyResourceError: the implementation does not allow two tasks to send
            at once and another task is already sending.
        """


class ReceiveChannel(AsyncResource, Generic[ReceiveType]):
    """The receiving end of a channel: objects come out one at a time with :meth:`receive`.

    A receive channel is an async iterator: ``async for value in channel:`` receives until
    the channel reports :exc:`~tether.EndOfChannel`, then ends the loop quietly.
    """

    __slots__ = ()

    @abstractmethod
    async def receive(self) -> ReceiveType:
        """Take the next object out of the channel, waiting until there is one.

        Raises:
          tether.EndOfChannel: every sending end is closed and nothing is left to receive.
          tether.ClosedResourceError: this receiving end was closed, before the call or
            (by another task) while it was waiting.
          tether.BrokenResourceError: the channel failed for a reason outside this task.
          tether.BusyResourceError: the implementation does not allow two tasks to receive
            at once and another task is already receiving.
        """

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ReceiveType:
        try:
            return await self.receive()
        except EndOfChannel:
            raise StopAsyncIteration from None


class Channel(SendChannel[T], ReceiveChannel[T]):
    """Both ends at once: an object that can :meth:`send` and :meth:`receive` values of
    one type (a bidirectional pipe, a loopback)."""

    __slots__ = ()
