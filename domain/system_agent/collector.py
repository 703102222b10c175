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
            gc.enable()
