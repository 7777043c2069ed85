"""Local trouble with the history database or the output folder, as one clear sentence each.

Each error carries the exit code the headless commands use (sysexits)::

    GptImageError
    └── StorageError                exit 74  (EX_IOERR) local storage failed
        ├── HistoryLocked           exit 75  (EX_TEMPFAIL) another process holds the database
        ├── HistoryCorrupt          exit 74  the file is damaged; it was moved aside, never deleted
        ├── HistoryWriteFailed      exit 74  disk full, read-only, I/O error
        └── OutputDirUnusable       exit 73  (EX_CANTCREAT) the output folder can't be made or written

Nothing here is ever about the server: a job whose images can't be written locally is kept
(resumable), never marked failed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import GptImageError

__all__ = [
    "HistoryCorrupt",
    "HistoryLocked",
    "HistoryWriteFailed",
    "OutputDirUnusable",
    "StorageError",
    "translate_sqlite_error",
]


class StorageError(GptImageError):
    """Something local (the history database, the output folder) is unusable."""

    exit_code = 74


class HistoryLocked(StorageError):
    """Another process kept the history database locked longer than we could wait."""

    exit_code = 75


class HistoryCorrupt(StorageError):
    """The history database is damaged. ``moved_to`` names where it was put aside."""

    def __init__(self, message: str, *, moved_to: Path | None = None) -> None:
        self.moved_to = moved_to
        super().__init__(message)


class HistoryWriteFailed(StorageError):
    """A write to the history database failed: the disk is full, read-only, or failing."""


class OutputDirUnusable(StorageError):
    """The folder images go to can't be created or written."""

    exit_code = 73


_LOCKED = ("database is locked", "database table is locked", "busy")
_CORRUPT = ("file is not a database", "malformed", "database corrupt")


def translate_sqlite_error(exc: sqlite3.Error, where: Path) -> StorageError:
    """One plain sentence for an SQLite failure on the database at ``where``."""
    text = str(exc).lower()
    if any(word in text for word in _LOCKED):
        return HistoryLocked(
            f"the history database {where} is locked by another process; try again in a moment"
        )
    if any(word in text for word in _CORRUPT):
        return HistoryCorrupt(f"the history database {where} is damaged ({text})")
    if "full" in text:
        return HistoryWriteFailed(f"can't write the history database {where}: the disk is full")
    if "readonly" in text or "read-only" in text:
        return HistoryWriteFailed(f"can't write the history database {where}: it is read-only")
    return HistoryWriteFailed(f"the history database {where} failed: {text}")
