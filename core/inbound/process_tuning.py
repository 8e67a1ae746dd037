"""Process-wide interpreter settings an ingest holds while it runs: the cycle collector
tuned for millions of short-lived objects, and a short GIL slice while parse processes are
fed. Several ingests may run at once in the threads of one ``backoffice worker`` (IMAP and
a Maildir, say), so each setting is applied by the first ingest to start and undone by the
last to finish, never left changed by an ingest that ends while another still runs."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

GC_FIRST_GENERATION = 20_000
"""Allocations between young-generation collections while ingesting (Python's default is
700)."""
HANDOFF_SWITCH_SECONDS = 0.0002
"""How long the writer's thread may hold the GIL while the executor's threads wait (Python's
default is 0.005 s)."""


class ProcessSetting:
    """A setting held while any ingest of this process needs it (counted, thread-safe)."""

    def __init__(self, apply: Callable[[], Callable[[], None]]) -> None:
        self._apply = apply
        """Applies the setting and returns what undoes it."""
        self._lock = threading.Lock()
        self._holders = 0
        self._undo: Callable[[], None] | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._holders == 0:
                self._undo = self._apply()
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0 and self._undo is not None:
                    self._undo()
                    self._undo = None


def _collect_less() -> Callable[[], None]:
    """Ingesting allocates millions of short-lived objects (parsed trees, rows, rendered
    mail) and frees nearly all of them by reference counting; at Python's default
    thresholds the cycle collector ran so often, over every object the process has loaded,
    that it cost ~8% of an ingest's CPU. What is loaded before the ingest starts is set
    aside (``gc.freeze``, also sparing a parse process's copy-on-write pages) and the young
    generation is collected less often."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(before[0], GC_FIRST_GENERATION), *before[1:])

    def undo() -> None:
        gc.set_threshold(*before)
        gc.unfreeze()

    return undo


def _hand_over_promptly() -> Callable[[], None]:
    """The threads that hand chunks to the parse processes and take their results back run
    in the writer's process and need the GIL, which the writer holds for 5 ms slices by
    default; each handoff waited that long while a parse process sat idle (a third of its
    time, measured). A shorter slice keeps the parse processes fed."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, HANDOFF_SWITCH_SECONDS))
    return lambda: sys.setswitchinterval(before)


fewer_collections = ProcessSetting(_collect_less).held
prompt_handoffs = ProcessSetting(_hand_over_promptly).held
