"""The garbage collector during bulk work: paused or frozen inside, as it was after."""

import gc

import pytest

from rcu.memory import frozen_gc, paused_gc, relaxed_gc


def test_paused_gc_collects_nothing_inside_and_is_back_after_even_on_error():
    assert gc.isenabled()
    with pytest.raises(ValueError), paused_gc():
        assert not gc.isenabled()
        raise ValueError
    assert gc.isenabled()


def test_paused_gc_leaves_a_disabled_collector_disabled():
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_frozen_gc_leaves_what_was_alive_out_of_collections_then_thaws_it():
    alive = [[] for _ in range(1000)]
    with frozen_gc():
        assert gc.get_freeze_count() >= len(alive)
    assert gc.get_freeze_count() == 0


def test_relaxed_gc_raises_the_first_threshold_then_restores_it():
    before = gc.get_threshold()
    with relaxed_gc(threshold=12_345):
        assert gc.get_threshold()[0] == 12_345
    assert gc.get_threshold() == before
