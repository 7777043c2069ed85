"""The job history: one SQLite file that outlives crashes, kills and power loss.

A request_id is a paid-for image the API cannot list again, so every change is its own committed
transaction (WAL, ``synchronous=FULL``) before :class:`History` returns. The schema is versioned
(:mod:`tui.storage.schema`); the file is private (0600).
No token is ever stored: there is no column for one.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..models import Job, JobRequest, JobState, can_move
from ..urlsafety import validate_request_id
from .schema import SCHEMA_VERSION, HistorySchemaError, upgrade

__all__ = ["SCHEMA_VERSION", "History", "HistorySchemaError"]

# Columns settable through update(): Job field name -> how to store the value.
_JSON_TUPLE = {"output_urls", "files"}
_BOOL = {"cancel_requested", "resumed"}
_PLAIN = {
    "state", "request_id", "parent_id", "submitted_at", "started_at", "finished_at", "error",
    "exit_code", "remote_status", "queue_position", "sweep_id", "sweep_label",
    "price_unit", "price_source",
}
_DECIMAL = {"price_usd"}
_UPDATABLE = _JSON_TUPLE | _BOOL | _PLAIN | _DECIMAL | {"extra"}
_JOB_FIELDS = {f.name for f in fields(Job)}
_RESUMABLE_STATES = tuple(s.value for s in JobState if s.is_resumable)
_MAX_LINEAGE = 10_000


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _decimal_or_none(text: Any) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(str(text))
    except (InvalidOperation, ValueError):
        return None


def _private_file(path: Path) -> None:
    """Create ``path`` (and its directory) readable by the owner only, or tighten it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _enable_wal(conn: sqlite3.Connection, *, patience: float) -> None:
    """Switch to WAL (persistent once set). Two processes opening a fresh file at once can see
    "database is locked" here without SQLite's busy handler waiting, so retry for a while."""
    deadline = time.monotonic() + patience
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


class History:
    """All jobs and drafts, in a SQLite database shared safely by several processes.

    Every method is one short transaction; a second process waits up to ``busy_timeout``
    seconds for a lock. Methods are thread-safe (one connection, one lock).
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = 10.0,
        synchronous: str = "FULL",
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        _private_file(self.path)
        self._conn = sqlite3.connect(
            self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            _enable_wal(self._conn, patience=busy_timeout)
            if synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
                raise ValueError("synchronous must be FULL, EXTRA or NORMAL")
            self._conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._upgrade()
        except BaseException:
            self._conn.close()
            raise
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(OSError):
                side = Path(f"{self.path}{suffix}")
                if side.exists() and side.stat().st_mode & 0o077:
                    side.chmod(0o600)

    # ------------------------------------------------------------------ plumbing

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One committed write transaction (BEGIN IMMEDIATE takes the lock up front)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One committed write transaction, for the storage helpers kept beside this class
        (batch lines, spend): they share this connection, its lock and its durability."""
        return self._write()

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Raw rows of a read-only query (for the same helpers)."""
        with self._lock:
            return [tuple(row) for row in self._conn.execute(sql, tuple(params)).fetchall()]

    def _upgrade(self) -> None:
        with self._write() as conn:
            upgrade(conn, where=str(self.path))

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[Job]:
        with self._lock:
            rows = self._conn.execute(sql, tuple(params)).fetchall()
        return [self._job(row) for row in rows]

    @staticmethod
    def _job(row: sqlite3.Row | tuple[Any, ...]) -> Job:
        (
            job_id, prompt, size, images, _endpoint, state, request_id, parent_id, sweep_id,
            sweep_label, created_at, updated_at, submitted_at, started_at, finished_at, error,
            exit_code, remote_status, queue_position, output_urls, files, cancel_requested,
            resumed, extra,
        ) = row[:24]
        price_usd, price_unit, price_source = row[24:27]
        return Job(
            id=job_id,
            request=JobRequest(prompt, size, tuple(json.loads(images))),
            state=JobState(state),
            created_at=created_at,
            updated_at=updated_at,
            request_id=request_id,
            parent_id=parent_id,
            submitted_at=submitted_at,
            started_at=started_at,
            finished_at=finished_at,
            error=error,
            exit_code=exit_code,
            output_urls=tuple(json.loads(output_urls)),
            files=tuple(json.loads(files)),
            remote_status=remote_status,
            queue_position=queue_position,
            sweep_id=sweep_id,
            sweep_label=sweep_label,
            cancel_requested=bool(cancel_requested),
            resumed=bool(resumed),
            extra=json.loads(extra),
            price_usd=_decimal_or_none(price_usd),
            price_unit=price_unit,
            price_source=price_source,
        )

    _COLUMNS = (
        "id, prompt, size, images, endpoint, state, request_id, parent_id, sweep_id, sweep_label, "
        "created_at, updated_at, submitted_at, started_at, finished_at, error, exit_code, "
        "remote_status, queue_position, output_urls, files, cancel_requested, resumed, extra, "
        "price_usd, price_unit, price_source"
    )

    @staticmethod
    def _filters(states: Iterable[JobState | str] | None, search: str | None) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if states is not None:
            values = [JobState(s).value for s in states]
            if not values:
                return " WHERE 0", []
            clauses.append(f"state IN ({', '.join('?' * len(values))})")
            params.extend(values)
        if search:
            clauses.append("prompt LIKE ? ESCAPE '\\'")
            params.append(f"%{_escape_like(search)}%")
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    # ------------------------------------------------------------------ jobs

    def create_job(
        self,
        request: JobRequest,
        *,
        parent_id: int | None = None,
        sweep_id: str | None = None,
        sweep_label: str | None = None,
    ) -> Job:
        """Record a new PENDING job — before anything is sent — and return it."""
        now = self._clock()
        try:
            with self._write() as conn:
                cursor = conn.execute(
                    "INSERT INTO jobs (prompt, size, images, endpoint, state, parent_id, sweep_id,"
                    " sweep_label, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        request.prompt, request.size, json.dumps(list(request.images)),
                        request.endpoint.value, JobState.PENDING.value, parent_id, sweep_id,
                        sweep_label, now, now,
                    ),
                )
                job_id = cursor.lastrowid
        except sqlite3.IntegrityError as exc:
            raise KeyError(f"parent job {parent_id} does not exist") from exc
        assert job_id is not None
        return self.get(job_id)

    def get(self, job_id: int) -> Job:
        """The job with this id; KeyError when there is none."""
        found = self._query(f"SELECT {self._COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        if not found:
            raise KeyError(job_id)
        return found[0]

    def find_by_request_id(self, request_id: str) -> Job | None:
        found = self._query(f"SELECT {self._COLUMNS} FROM jobs WHERE request_id = ?", (request_id,))
        return found[0] if found else None

    def update(self, job_id: int, **changes: Any) -> Job:
        """Change fields of a job (Job field names) in one durable transaction.

        A state move is checked with :func:`models.can_move` (ValueError when illegal); a
        request_id must look like one (ValueError). ``updated_at`` is bumped.
        """
        unknown = set(changes) - _UPDATABLE
        if unknown:
            kind = "read-only" if unknown <= _JOB_FIELDS else "unknown"
            raise TypeError(f"{kind} job field(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "state":
                value = JobState(value).value
            elif name == "request_id" and value is not None:
                value = validate_request_id(value)
            elif name in _JSON_TUPLE:
                value = json.dumps([str(v) for v in value])
            elif name in _BOOL:
                value = int(bool(value))
            elif name == "extra":
                value = json.dumps(dict(value))
            elif name in _DECIMAL and value is not None:
                value = str(Decimal(value))
            values[name] = value
        values["updated_at"] = self._clock()
        try:
            with self._write() as conn:
                row = conn.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
                if row is None:
                    raise KeyError(job_id)
                if "state" in values:
                    src, dst = JobState(row[0]), JobState(values["state"])
                    if not can_move(src, dst):
                        raise ValueError(f"job {job_id}: illegal state move {src} → {dst}")
                assignments = ", ".join(f"{name} = ?" for name in values)
                conn.execute(
                    f"UPDATE jobs SET {assignments} WHERE id = ?", (*values.values(), job_id)
                )
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"job {job_id}: {exc}") from exc
        return self.get(job_id)

    def list_jobs(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        states: Iterable[JobState | str] | None = None,
        search: str | None = None,
    ) -> list[Job]:
        """A page of jobs, newest first; ``search`` is a case-insensitive prompt substring."""
        where, params = self._filters(states, search)
        return self._query(
            f"SELECT {self._COLUMNS} FROM jobs{where} ORDER BY created_at DESC, id DESC"
            " LIMIT ? OFFSET ?",
            (*params, max(0, int(limit)), max(0, int(offset))),
        )

    def count(
        self, *, states: Iterable[JobState | str] | None = None, search: str | None = None
    ) -> int:
        where, params = self._filters(states, search)
        with self._lock:
            return int(self._conn.execute(f"SELECT COUNT(*) FROM jobs{where}", params).fetchone()[0])

    def resumable(self) -> list[Job]:
        """Jobs to follow again at start: a resumable state and a request_id; oldest first."""
        marks = ", ".join("?" * len(_RESUMABLE_STATES))
        return self._query(
            f"SELECT {self._COLUMNS} FROM jobs WHERE state IN ({marks}) AND request_id IS NOT NULL"
            " ORDER BY created_at, id",
            _RESUMABLE_STATES,
        )

    def unsent(self) -> list[Job]:
        """Jobs that never got a request_id: PENDING, or SUBMITTING without one; oldest first."""
        return self._query(
            f"SELECT {self._COLUMNS} FROM jobs WHERE state = ? OR (state = ? AND request_id IS NULL)"
            " ORDER BY created_at, id",
            (JobState.PENDING.value, JobState.SUBMITTING.value),
        )

    def children(self, job_id: int) -> list[Job]:
        """Jobs made from this one (its iterations), oldest first."""
        return self._query(
            f"SELECT {self._COLUMNS} FROM jobs WHERE parent_id = ? ORDER BY created_at, id",
            (job_id,),
        )

    def lineage(self, job_id: int) -> list[Job]:
        """The chain of parents from the root down to this job (KeyError when absent)."""
        chain = self._query(
            "WITH RECURSIVE up(id, parent_id, depth) AS ("
            " SELECT id, parent_id, 0 FROM jobs WHERE id = ?"
            " UNION ALL SELECT j.id, j.parent_id, up.depth + 1 FROM jobs j"
            " JOIN up ON j.id = up.parent_id WHERE up.depth < ?)"
            f" SELECT {', '.join('j.' + c.strip() for c in self._COLUMNS.split(','))}"
            " FROM up JOIN jobs j ON j.id = up.id ORDER BY up.depth DESC",
            (job_id, _MAX_LINEAGE),
        )
        if not chain:
            raise KeyError(job_id)
        return chain

    def delete(self, job_id: int) -> None:
        """Forget a job (its children keep existing, without a parent). No-op when absent."""
        with self._write() as conn:
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    # ------------------------------------------------------------------ drafts

    def save_draft(self, key: str, text: str) -> None:
        """Keep the editor's unsent text under ``key`` (e.g. "compose"), replacing the old one."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO drafts (key, text, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET text = excluded.text,"
                " updated_at = excluded.updated_at",
                (key, text, self._clock()),
            )

    def load_draft(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT text FROM drafts WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])
