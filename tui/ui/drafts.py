"""Saving the composer's draft off the UI loop, newest value wins.

The draft is written to SQLite with a synchronous transaction (an fsync), which can take
milliseconds; the main screen hands each new value to :meth:`DraftKeeper.put` on the UI loop
and runs :meth:`DraftKeeper.flush` in a thread worker. Flushes write one at a time and each
writes the newest value put so far, so a slow write never lets an older draft land last.
"""

from __future__ import annotations

import threading

from ..iterate.draft import ComposerDraft
from ..storage.history import History

__all__ = ["DraftKeeper"]


class DraftKeeper:
    """The draft waiting to be written under ``key``, and the one writer at a time."""

    def __init__(self, history: History, key: str) -> None:
        self._history = history
        self._key = key
        self._pending: ComposerDraft | None = None
        self._saved: ComposerDraft | None = None
        self._value_lock = threading.Lock()
        self._write_lock = threading.Lock()

    @property
    def pending(self) -> bool:
        with self._value_lock:
            return self._pending is not None

    def put(self, draft: ComposerDraft) -> None:
        """Keep ``draft`` to be written by the next :meth:`flush` (a newer put replaces it)."""
        with self._value_lock:
            self._pending = draft

    def flush(self) -> bool:
        """Write the newest pending draft (blocking; True when something was written).

        On failure the draft stays pending, so the next flush tries again; the error is raised
        for the caller to report.
        """
        with self._write_lock:
            with self._value_lock:
                draft, self._pending = self._pending, None
            if draft is None or draft == self._saved:
                return False
            try:
                self._history.save_draft(self._key, draft.to_json())
            except Exception:
                with self._value_lock:
                    if self._pending is None:
                        self._pending = draft
                raise
            self._saved = draft
            return True
