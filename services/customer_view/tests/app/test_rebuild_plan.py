"""The rebuild's plan: whatever partition each event was read from, every event is filed
once, and every component of connected events is folded by exactly one worker, which
holds all of its events once the others have sent theirs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from crm_customer_view.app.rebuild_plan import (
    Assignment,
    assign,
    components,
    held_before,
    held_elsewhere,
)

KEYS = [f"c:{n}" for n in range(6)] + [f"t:{n}" for n in range(6)]

# An event: its id and the keys it is filed under; read by one worker, or by two (an event
# published twice, under keys that put it on two partitions).
events = st.lists(st.tuples(st.sets(st.sampled_from(KEYS), min_size=1, max_size=3),
                            st.sets(st.integers(0, 2), min_size=1, max_size=2)),
                  max_size=14)

Reads = list[dict[str, frozenset[str]]]  # per worker: event id -> keys


def _reads(drawn: list[tuple[set[str], set[int]]], workers: int) -> Reads:
    reads: Reads = [{} for _ in range(workers)]
    for n, (keys, readers) in enumerate(drawn):
        for worker in readers:
            reads[worker % workers][f"e{n}"] = frozenset(keys)
    return reads


def _by_key(read: dict[str, frozenset[str]]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = defaultdict(list)
    for event_id, keys in read.items():
        for key in keys:
            index[key].append(event_id)
    return index


def _plan(reads: Reads) -> list[Assignment]:
    held = [frozenset(_by_key(read)) for read in reads]
    groups = [components(shared, _by_key(read), read)
              for shared, read in zip(held_elsewhere(held), reads, strict=True)]
    return assign(groups)


def _after_imports(reads: Reads, plan: Sequence[Assignment]) -> Reads:
    """What each worker holds once the others have sent it what the plan says."""
    held = [dict(read) for read in reads]
    for sender, assignment in enumerate(plan):
        index = _by_key(reads[sender])
        for to, keys in assignment.exports.items():
            held[to] |= {e: reads[sender][e] for key in keys for e in index[key]}
    return held


def _true_components(reads: Reads) -> list[frozenset[str]]:
    everything = {e: keys for read in reads for e, keys in read.items()}
    return components({k for keys in everything.values() for k in keys},
                      _by_key(everything), everything)


@given(events, st.integers(1, 3))
def test_each_component_is_folded_by_one_worker_that_holds_all_its_events(
    drawn: list[tuple[set[str], set[int]]], workers: int
) -> None:
    reads = _reads(drawn, workers)
    plan = _plan(reads)
    held = _after_imports(reads, plan)
    everything = {e: keys for read in reads for e, keys in read.items()}
    for component in _true_components(reads):
        folders = {n for n, read in enumerate(held)
                   if any(k in keys for keys in read.values() for k in component)
                   and component.isdisjoint(plan[n].foreign)}
        assert len(folders) == 1, (component, folders)
        [folder] = folders
        needed = {e for e, keys in everything.items() if not component.isdisjoint(keys)}
        assert needed <= held[folder].keys()
        # The others fold none of it: every key of it they hold is foreign to them.
        for n, read in enumerate(held):
            if n != folder:
                assert {k for keys in read.values() for k in keys} & component \
                    <= plan[n].foreign


@given(events, st.integers(1, 3))
def test_every_event_is_filed_once(drawn: list[tuple[set[str], set[int]]],
                                   workers: int) -> None:
    reads = _reads(drawn, workers)
    filed = [read.keys() - elsewhere
             for read, elsewhere in zip(reads, held_before([frozenset(r) for r in reads]),
                                        strict=True)]
    assert sum(map(len, filed)) == len({e for read in reads for e in read})


def test_a_merge_across_workers_goes_to_the_first_worker_that_holds_it() -> None:
    # Worker 0 read the merge of c:2 into c:1; worker 1 read c:2's own touchpoint.
    reads = [{"merge": frozenset({"c:1", "c:2"}), "visit": frozenset({"c:1", "t:1"})},
             {"bought": frozenset({"c:2", "t:2"}), "other": frozenset({"c:3"})}]
    plan = _plan(reads)
    assert plan[0] == Assignment({}, frozenset())
    assert plan[1] == Assignment({0: frozenset({"c:2", "t:2"})}, frozenset({"c:2", "t:2"}))
