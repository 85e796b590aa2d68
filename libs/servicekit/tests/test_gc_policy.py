"""The cyclic collector's policy: paused inside a bulk job, restored after it."""

import gc
from collections.abc import Iterator

import pytest

from crm_servicekit.gc_policy import cyclic_collection_paused


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    (gc.enable if enabled else gc.disable)()


def test_no_cyclic_collection_inside_the_block_and_collection_resumes_after_it() -> None:
    gc.enable()
    with cyclic_collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collection_resumes_when_the_block_fails() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), cyclic_collection_paused():
        raise RuntimeError("the job failed")
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled() -> None:
    gc.disable()
    with cyclic_collection_paused():
        pass
    assert not gc.isenabled()
