"""Settings of the generator's own processes (the `codegen` command and its workers)."""

from __future__ import annotations

import gc
import sys


def quiet_collector() -> None:
    """Collect cyclic garbage far less often than Python's default (every 700 allocations): a
    run keeps a few large structures for its whole length (the document, its IR, the memos)
    that each collection of the older generations walks again, which took a quarter of the
    time of a regeneration after an edit. The memory a run peaks at barely changes."""
    gc.set_threshold(50_000, 20, 100)


def discard_early_worker() -> None:
    """Stop the worker the entry point started ahead of the run (`parallel.start_early`) if no
    run took it; nothing when none was started (the module is not even imported then)."""
    parallel = sys.modules.get("codegen.render.parallel")
    if parallel is not None:
        parallel.discard_early()
