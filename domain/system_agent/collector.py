"""Pausing Python's cycle collector while a batch builds its objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_pausing = 0


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold Python's cycle collector while a batch builds its objects: they hold no cycles, and a batch of
    100,000 items would otherwise trigger a dozen full collections over every object of the process
    (a quarter of its time). Counted, so overlapping batches resume it only when the last one ends; only
    a collector that was running is resumed."""
    global _pausing
    if _pausing == 0 and not gc.isenabled():
        yield
        return
    _pausing += 1
    gc.disable()
    try:
        yield
    finally:
        _pausing -= 1
        if _pausing == 0:
            # What was built meanwhile goes to the oldest generation unscanned (`freeze` then `unfreeze`):
            # the first young collection after a batch of 100,000 items would otherwise walk every object the
            # batch built, most of which are freed by their counts soon after. Their cycles, if any, are
            # collected by the next full collection.
            gc.freeze()
            gc.unfreeze()
            gc.enable()
