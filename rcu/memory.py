"""The garbage collector during bulk work.

CPython's cyclic collector walks every container object alive each time it runs a full
collection. Bulk work keeps hundreds of thousands of them alive (rows of a batch, the
records of a matching partition) and creates no reference cycles worth finding, so the
walks are pure cost: up to a third of a matching partition's time at 1M records.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def relaxed_gc(threshold: int = 50_000) -> Iterator[None]:
    """Collect garbage less often while batches of thousands of rows are alive.

    With the default threshold the collector walks the growing batch again and again;
    rows hold no reference cycles, so nothing is kept longer for it.
    """
    before = gc.get_threshold()
    gc.set_threshold(threshold, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic collection inside the block (reference counting still frees what is
    no longer used); whatever the block's own objects were, the collector is back as
    it was after it. For pure computation over plain data, which makes no cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def frozen_gc() -> Iterator[None]:
    """Objects alive on entry are left out of every collection inside the block:
    for long work (database writes through the ORM, which may make cycles) over a large
    structure built beforehand. Collection goes on for the block's own objects."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
