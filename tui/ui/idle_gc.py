"""Python's full garbage collections, moved to moments nobody is waiting for.

CPython's cyclic collector scans every tracked object in a full (generation 2) collection. The
app keeps a few hundred thousand (Textual's DOM, styles, rendered strips, images' cells), so a
full collection took 80–180 ms on a 2-core machine: a frozen screen, eight times in a 30-second
session with a sweep, at whatever moment the allocation counters said — often right after a
key. Young collections (generations 0 and 1) stay as they are: they take a millisecond or two.

:class:`IdleCollector` (asked for by the launch; the app owns it):

* turns collections back on: the entry point (:mod:`tui.__main__`) turns them off for the
  start, which builds a few hundred thousand objects and no garbage worth a pause (CPython
  made about a hundred collections of it, one of them full, 60–70 ms before the first frame);
* freezes what the start built (``gc.freeze``: modules, classes, the first screen — it lives
  as long as the app), so later full collections don't scan it again;
* collects the youngest generation every :data:`YOUNG_THRESHOLD` allocations instead of 700
  (each still takes a millisecond or two), so the older ones fill up about three times slower;
* turns off automatic full collections and makes one itself once as many younger collections
  have happened as CPython waits for (its ``threshold2``), when nobody has touched a key or
  the mouse for :data:`QUIET_SECONDS` and :data:`EVERY_SECONDS` have passed since the last —
  or after :data:`AT_MOST_SECONDS` of unbroken typing, so garbage can't pile up;
* puts the collector's thresholds back (and unfreezes) when the app stops.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import events

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer

__all__ = [
    "AT_MOST_SECONDS",
    "EVERY_SECONDS",
    "QUIET_SECONDS",
    "YOUNG_THRESHOLD",
    "IdleCollector",
]

QUIET_SECONDS = 1.0  # no input for this long: a full collection can't be in anyone's way
EVERY_SECONDS = 10.0  # not more often than this
AT_MOST_SECONDS = 60.0  # nor less often, however busy the keyboard
YOUNG_THRESHOLD = 2000  # allocations between young collections (CPython: 700)
_NO_AUTOMATIC_FULL = 1_000_000  # a generation-2 threshold never reached


class IdleCollector:
    """Full collections when input is quiet (see the module's text)."""

    def __init__(
        self,
        app: App[Any],
        *,
        clock: Callable[[], float] = time.monotonic,
        collect: Callable[[], object] = gc.collect,
        check_every: float = 0.5,
        due_after: int | None = None,
    ) -> None:
        self._app = app
        self._clock = clock
        self._collect = collect
        self._check_every = check_every
        now = clock()
        self._last_input = now
        self._last_full = now
        self._saved: tuple[int, int, int] | None = None
        # Younger collections before a full one is due (None: CPython's own threshold2).
        self._due_after_given = due_after
        self._due_after = 10
        self._timer: Timer | None = None
        self.collections = 0  # full collections made so far

    @property
    def running(self) -> bool:
        return self._saved is not None

    def start(self) -> None:
        """Freeze what exists now and take over full collections (call after the start)."""
        if self._saved is not None:
            return
        gc.collect(1)  # the young garbage of the start goes now (cheap), before the rest is frozen
        gc.freeze()
        self._saved = gc.get_threshold()
        _young, middle, full = self._saved
        self._due_after = full if self._due_after_given is None else self._due_after_given
        gc.set_threshold(YOUNG_THRESHOLD, middle, _NO_AUTOMATIC_FULL)
        gc.enable()  # off while the app started (tui.__main__)
        self._last_full = self._clock()
        self._timer = self._app.set_interval(self._check_every, self._check, name="idle gc")

    def stop(self) -> None:
        """Give the collector back as it was."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
            gc.unfreeze()
        gc.enable()

    def saw(self, event: events.Event) -> None:
        """Every event the app sees passes here; input postpones the next collection."""
        if isinstance(event, (events.InputEvent, events.Paste)):
            self._last_input = self._clock()

    def _check(self) -> None:
        if gc.get_count()[2] < self._due_after:
            return  # not enough has grown old since the last full collection
        now = self._clock()
        since_full = now - self._last_full
        quiet = now - self._last_input >= QUIET_SECONDS
        if (quiet and since_full >= EVERY_SECONDS) or since_full >= AT_MOST_SECONDS:
            self._collect()
            self._last_full = self._clock()
            self.collections += 1
