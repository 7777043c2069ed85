"""Which line of which batch file became which job — so a file is never sent twice.

A line is known by its key: a hash of the file's absolute path (``<stdin>`` for standard input),
the line's content (surrounding whitespace aside) and which occurrence of that content it is in
the file (two identical lines are two images). The row is written before anything is sent and
outlives the job being deleted from history (``job_id`` becomes NULL), so running the same file
again sends nothing for a line that was sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from .history import History

__all__ = ["STDIN_SOURCE", "BatchLines", "BatchRecord", "line_key"]

STDIN_SOURCE = "<stdin>"


def line_key(source: str, content: str, occurrence: int) -> str:
    """The idempotency key of one batch line (hex SHA-256; no content is stored in it)."""
    digest = hashlib.sha256()
    for part in (source, content.strip(), str(occurrence)):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class BatchRecord:
    key: str
    job_id: int | None  # None: the job was deleted from history since
    path: str
    line: int
    line_id: str | None
    created_at: float


class BatchLines:
    """The ``batch_lines`` table, through :class:`History`'s connection and transactions."""

    def __init__(self, history: History) -> None:
        self.history = history

    def find(self, keys: Iterable[str]) -> dict[str, BatchRecord]:
        """The records of those keys that exist."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, BatchRecord] = {}
        for start in range(0, len(wanted), 500):  # SQLite caps bound parameters
            chunk = wanted[start : start + 500]
            rows = self.history.rows(
                "SELECT key, job_id, path, line, line_id, created_at FROM batch_lines"
                f" WHERE key IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            for row in rows:
                found[row[0]] = BatchRecord(*row)
        return found

    def link(
        self, key: str, job_id: int, *, path: str, line: int, line_id: str | None, now: float
    ) -> None:
        """Point ``key`` at ``job_id`` (a line never sent before may be pointed at a new job)."""
        with self.history.transaction() as conn:
            conn.execute(
                "INSERT INTO batch_lines (key, job_id, path, line, line_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
                " job_id = excluded.job_id, line = excluded.line, line_id = excluded.line_id",
                (key, job_id, path, line, line_id, now),
            )
