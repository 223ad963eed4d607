"""The cyclic garbage collector's settings for a long-running server.

After start-up (every module imported, the NLU model trained, the statements built) about
170,000 objects live as long as the process. CPython's collector walks all of them in every
full collection: 130 ms on the development VM, a pause every request in flight waits out,
which was most of the p99 latency under load (docs/benchmarks.md). `gc.freeze()` moves them
to a permanent generation the collector never walks again; a higher first threshold makes the
young collections rarer (a message's own objects are freed by reference counting, so little
is left for the collector at all).
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)
THRESHOLDS = (20_000, 50, 100)  # CPython's defaults are (700, 10, 10)


def settle_after_startup() -> None:
    """Collect once, then keep what start-up built out of every later collection."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    log.debug("%d start-up objects frozen out of garbage collection", gc.get_freeze_count())
