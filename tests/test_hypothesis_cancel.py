"""Property test: random trees of nurseries, tasks and cancel scopes always unwind cleanly.

Hypothesis builds a tree whose leaves sleep for a while and then return or raise (some only
raise while handling their cancellation), whose inner nodes are cancel scopes (with random
deadlines and shields) and nurseries (sometimes cancelled by a sibling task after a random
delay). Everything starts at time 0 and runs in virtual time under an autojumping MockClock.

Whatever the shape:

* the run ends, and every node that started also finished;
* every exception raised by a leaf comes out of ``tether.run`` -- none lost, none
  duplicated, nothing else added, and no ``Cancelled``;
* cancellation is exact: a leaf is cancelled precisely when the first cancellation that can
  reach it happens (a scope's deadline, a nursery's canceller, an exception leaving a
  child of a nursery), and otherwise sleeps its full duration. A shielded scope stops the
  cancellations from above it reaching the leaves below it.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
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
    deadline: int | None
    shield: bool


@dataclass(frozen=True)
class Nursery:
    children: tuple[Node, ...]
    cancel_after: int | None  # a sibling task cancels the nursery after this long


Node = Leaf | Scope | Nursery


class LeafError(Exception):
    """Raised by a leaf; identity-compared with what comes out of the run."""


@dataclass(frozen=True)
class LeafResult:
    reachable: frozenset[int]  # the scopes and nurseries whose cancellation reaches the leaf
    duration: int
    ended_at: float
    cancelled: bool


@dataclass
class Record:
    start: float = 0.0
    ids: itertools.count[int] = field(default_factory=itertools.count)
    started: set[int] = field(default_factory=set)
    finished: set[int] = field(default_factory=set)
    raised: list[LeafError] = field(default_factory=list)
    leaves: list[LeafResult] = field(default_factory=list)
    # scope or nursery id -> (relative) times at which something cancelled it
    cancellations: defaultdict[int, list[float]] = field(default_factory=lambda: defaultdict(list))

    def now(self) -> float:
        return tether.current_time() - self.start

    def first_cancellation(self, reachable: frozenset[int]) -> float:
        return min((t for node in reachable for t in self.cancellations[node]), default=math.inf)


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


async def execute(node: Node, record: Record, reachable: frozenset[int]) -> None:
    node_id = next(record.ids)
    record.started.add(node_id)
    try:
        match node:
            case Leaf():
                await run_leaf(node, record, reachable)
            case Scope(body=body, deadline=deadline, shield=shield):
                inside = frozenset({node_id}) if shield else reachable | {node_id}
                with tether.CancelScope(shield=shield) as scope:
                    if deadline is not None:
                        scope.deadline = tether.current_time() + deadline
                        record.cancellations[node_id].append(record.now() + deadline)
                    await execute(body, record, inside)
            case Nursery(children=children, cancel_after=cancel_after):
                inside = reachable | {node_id}
                async with tether.open_nursery() as nursery:
                    for child in children:
                        nursery.start_soon(run_child, child, record, inside, node_id)
                    if cancel_after is not None:
                        nursery.start_soon(cancel_later, nursery, cancel_after, record, node_id)
    finally:
        record.finished.add(node_id)


async def run_child(node: Node, record: Record, reachable: frozenset[int], parent: int) -> None:
    try:
        await execute(node, record, reachable)
    except BaseException:
        record.cancellations[parent].append(record.now())  # the nursery cancels itself
        raise


async def cancel_later(nursery: tether.Nursery, delay: int, record: Record, parent: int) -> None:
    try:
        await tether.sleep(delay)
    except BaseException:
        record.cancellations[parent].append(record.now())
        raise
    record.cancellations[parent].append(record.now())
    nursery.cancel_scope.cancel()


async def run_leaf(leaf: Leaf, record: Record, reachable: frozenset[int]) -> None:
    try:
        await tether.sleep(leaf.duration)
    except tether.Cancelled:
        record.leaves.append(LeafResult(reachable, leaf.duration, record.now(), cancelled=True))
        if leaf.outcome == "raise_on_cancel":
            error = LeafError("raised while cancelled")
            record.raised.append(error)
            raise error from None
        raise
    record.leaves.append(LeafResult(reachable, leaf.duration, record.now(), cancelled=False))
    if leaf.outcome == "raise":
        error = LeafError("raised after sleeping")
        record.raised.append(error)
        raise error


async def main(tree: Node, record: Record) -> float:
    record.start = tether.current_time()
    with tether.fail_after(LIMIT):
        await execute(tree, record, frozenset())
    return record.now()


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
@settings(max_examples=200, deadline=None)
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

    for leaf in record.leaves:
        first = record.first_cancellation(leaf.reachable)
        if leaf.cancelled:
            # Cancelled the moment the first cancellation reached it, and not after its sleep.
            assert leaf.ended_at == first <= leaf.duration, (leaf, first)
        else:
            # Slept its full duration, which no cancellation cut short.
            assert leaf.ended_at == leaf.duration <= first, (leaf, first)
