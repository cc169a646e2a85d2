"""Property test: random trees of nurseries, tasks and cancel scopes always unwind cleanly.

Hypothesis builds a tree whose leaves sleep for a while and then return or raise (some only
raise while handling their cancellation), whose inner nodes are cancel scopes (with random
deadlines and shields) and nurseries (sometimes cancelled by a sibling task after a random
delay). Everything runs in virtual time under an autojumping MockClock. Whatever the shape,
the run must end, every nursery and every leaf must finish, no Cancelled may escape, and
every exception raised by a leaf must come out of ``tether.run`` -- none lost, none
duplicated, nothing else added.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Literal

from hypothesis import example, given, settings
from hypothesis import strategies as st

import tether
from _helpers import leaf_exceptions
from tether.testing import MockClock

MAX_DELAY = 5  # virtual seconds: the longest a leaf sleeps or a canceller waits
LIMIT = 1000  # virtual seconds: a safety net far beyond anything a tree can take

Outcome = Literal["return", "raise", "raise_on_cancel"]


@dataclass(frozen=True)
class Leaf:
    duration: int
    outcome: Outcome


@dataclass(frozen=True)
class Scope:
    body: Node
    deadline: int | None  # relative to entering the scope
    shield: bool


@dataclass(frozen=True)
class Nursery:
    children: tuple[Node, ...]
    cancel_after: int | None  # a sibling task cancels the nursery after this long


Node = Leaf | Scope | Nursery


class LeafError(Exception):
    """Raised by a leaf; identity-compared with what comes out of the run."""


@dataclass
class Record:
    ids: itertools.count[int] = field(default_factory=itertools.count)
    raised: list[LeafError] = field(default_factory=list)
    started: set[int] = field(default_factory=set)
    finished: set[int] = field(default_factory=set)


delays = st.integers(min_value=0, max_value=MAX_DELAY)
outcomes = st.sampled_from(["return", "raise", "raise_on_cancel"])
leaves = st.builds(Leaf, duration=delays, outcome=outcomes)


def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(Scope, body=children, deadline=st.none() | delays, shield=st.booleans()),
        st.builds(
            Nursery,
            children=st.lists(children, max_size=4).map(tuple),
            cancel_after=st.none() | delays,
        ),
    )


trees = st.recursive(leaves, extend, max_leaves=12)


async def cancel_later(scope: tether.CancelScope, delay: int) -> None:
    await tether.sleep(delay)
    scope.cancel()


async def execute(node: Node, record: Record) -> None:
    node_id = next(record.ids)
    record.started.add(node_id)
    try:
        match node:
            case Leaf(duration=duration, outcome=outcome):
                await run_leaf(duration, outcome, record)
            case Scope(body=body, deadline=deadline, shield=shield):
                with tether.CancelScope(shield=shield) as scope:
                    if deadline is not None:
                        scope.deadline = tether.current_time() + deadline
                    await execute(body, record)
            case Nursery(children=children, cancel_after=cancel_after):
                async with tether.open_nursery() as nursery:
                    for child in children:
                        nursery.start_soon(execute, child, record)
                    if cancel_after is not None:
                        nursery.start_soon(cancel_later, nursery.cancel_scope, cancel_after)
    finally:
        record.finished.add(node_id)


async def run_leaf(duration: int, outcome: Outcome, record: Record) -> None:
    try:
        await tether.sleep(duration)
    except tether.Cancelled:
        if outcome == "raise_on_cancel":
            error = LeafError("raised while cancelled")
            record.raised.append(error)
            raise error from None
        raise
    if outcome == "raise":
        error = LeafError("raised after sleeping")
        record.raised.append(error)
        raise error


async def main(tree: Node, record: Record) -> float:
    start = tether.current_time()
    with tether.fail_after(LIMIT):
        await execute(tree, record)
    return tether.current_time() - start


@example(
    tree=Scope(
        body=Nursery(
            children=(Leaf(3, "raise_on_cancel"), Leaf(0, "raise"), Leaf(5, "return")),
            cancel_after=None,
        ),
        deadline=1,
        shield=False,
    ),
    strict=True,
)
@example(
    tree=Nursery(
        children=(
            Scope(body=Leaf(4, "raise"), deadline=None, shield=True),
            Leaf(2, "raise_on_cancel"),
        ),
        cancel_after=1,
    ),
    strict=False,
)
@settings(max_examples=150, deadline=None)
@given(tree=trees, strict=st.booleans())
def test_random_cancellation_trees_unwind_cleanly(tree: Node, strict: bool) -> None:
    record = Record()
    try:
        elapsed = tether.run(
            main,
            tree,
            record,
            clock=MockClock(autojump_threshold=0),
            strict_exception_groups=strict,
        )
    except BaseException as exc:  # the property is about whatever escapes
        escaped = leaf_exceptions(exc)
    else:
        escaped = []
        assert elapsed <= MAX_DELAY

    assert not any(isinstance(exc, tether.TooSlowError) for exc in escaped), "the tree hung"
    assert not any(isinstance(exc, tether.Cancelled) for exc in escaped)
    assert all(isinstance(exc, LeafError) for exc in escaped), escaped
    assert sorted(map(id, escaped)) == sorted(map(id, record.raised))
    assert record.started == record.finished
