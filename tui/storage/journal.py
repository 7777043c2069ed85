"""The request-id journal: an append-only, fsync'd file next to the history database.

A request_id the server delivered is a paid-for image the API cannot list again. The engine
appends every one here the moment it arrives — before the database write that may fail (locked
by another process, disk full) — and :meth:`History.fold_journal` folds the entries back into
the database at the next start, then empties the file. Each line is one JSON object carrying
enough of the job to re-create its row if the row itself was lost.

Appends and the fold take an exclusive ``flock`` on the file, so a fold never empties out an
entry another process appended meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["JournalEntry", "RequestIdJournal"]


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One delivered request_id and the job it belongs to."""

    job_id: int
    request_id: str
    prompt: str
    size: str
    images: tuple[str, ...] = ()
    output_dir: str | None = None
    backend: str | None = None
    created_at: float = 0.0
    submitted_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_line(self) -> bytes:
        data = asdict(self)
        data["images"] = list(self.images)
        return (json.dumps(data, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")

    @classmethod
    def from_line(cls, line: bytes) -> JournalEntry | None:
        try:
            data = json.loads(line)
            return cls(
                job_id=int(data["job_id"]),
                request_id=str(data["request_id"]),
                prompt=str(data["prompt"]),
                size=str(data["size"]),
                images=tuple(str(i) for i in data.get("images") or ()),
                output_dir=data.get("output_dir"),
                backend=data.get("backend"),
                created_at=float(data.get("created_at") or 0.0),
                submitted_at=data.get("submitted_at"),
                extra=dict(data.get("extra") or {}),
            )
        except (ValueError, KeyError, TypeError):
            return None  # a torn last line from a crash mid-append: nothing usable in it


class RequestIdJournal:
    """Append-only journal of delivered request ids (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextlib.contextmanager
    def _locked(self, flags: int) -> Iterator[int]:
        fd = os.open(self.path, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # closing releases the lock

    def append(self, entry: JournalEntry) -> None:
        """Append ``entry`` durably (file and, the first time, its folder are fsync'd)."""
        created = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._locked(os.O_WRONLY | os.O_APPEND | os.O_CREAT) as fd:
            os.write(fd, entry.to_line())
            os.fsync(fd)
        if created:
            with contextlib.suppress(OSError):
                dir_fd = os.open(self.path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)

    def pending(self) -> bool:
        """True when the journal holds anything (a cheap stat, no lock)."""
        try:
            return self.path.stat().st_size > 0
        except OSError:
            return False

    def drain(self, apply: Callable[[list[JournalEntry]], None]) -> int:
        """Hand every entry to ``apply`` and, once it returned, empty the journal.

        If ``apply`` raises, the journal is left as it was. Returns the number of entries.
        """
        if not self.pending():
            return 0
        with self._locked(os.O_RDWR) as fd:
            chunks: list[bytes] = []
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
            entries = [
                entry
                for line in b"".join(chunks).splitlines()
                if line.strip() and (entry := JournalEntry.from_line(line)) is not None
            ]
            if entries:
                apply(entries)
            os.ftruncate(fd, 0)
            os.fsync(fd)
        return len(entries)
