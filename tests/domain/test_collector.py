"""A batch holds Python's cycle collector and gives it back as it found it, overlapping batches included."""

import gc
import weakref
from collections.abc import Iterator

import pytest

from domain.system_agent.collector import collector_paused


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_the_collector_resumes_only_when_the_last_overlapping_batch_ends() -> None:
    gc.enable()
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    assert not gc.isenabled()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_the_collector_resumes_after_a_failing_batch() -> None:
    gc.enable()
    with pytest.raises(ValueError), collector_paused():
        assert not gc.isenabled()
        raise ValueError
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


class Node:
    def __init__(self) -> None:
        self.other: object = None


def test_what_a_batch_built_is_not_walked_by_the_next_young_collection_and_its_cycles_are_still_collected() -> None:
    gc.enable()
    gone: list[bool] = []
    with collector_paused():
        kept = [Node() for _ in range(50_000)]
        cycle = Node()
        cycle.other = cycle
        weakref.finalize(cycle, gone.append, True)
        del cycle
    assert gc.get_count()[0] < 1_000  # the young generation starts empty: its 50,000 objects are not walked
    gc.collect(0)
    assert gone == []  # promoted to the oldest generation: not a young collection's to free
    assert kept[-1].other is None
    gc.collect()
    assert gone == [True]
