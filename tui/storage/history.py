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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..models import Job, JobRequest, JobState, can_move
from ..trust.urls import validate_request_id
from . import schema
from .errors import (
    HistoryCorrupt,
    HistoryWriteFailed,
    StorageError,
    translate_sqlite_error,
)
from .journal import JournalEntry, RequestIdJournal
from .schema import SCHEMA_VERSION, HistorySchemaError, upgrade

__all__ = ["SCHEMA_VERSION", "History", "HistorySchemaError", "journal_path_for"]

# Columns settable through update(): Job field name -> how to store the value.
_JSON_TUPLE = {"output_urls", "files"}
_BOOL = {"cancel_requested", "resumed", "starred"}
_PLAIN = {
    "state", "request_id", "parent_id", "submitted_at", "started_at", "finished_at", "error",
    "exit_code", "remote_status", "queue_position", "sweep_id", "sweep_label", "output_dir",
    "owner", "backend", "price_unit", "price_source",
}
_DECIMAL = {"price_usd"}
_UPDATABLE = _JSON_TUPLE | _BOOL | _PLAIN | _DECIMAL | {"extra"}
_JOB_FIELDS = {f.name for f in fields(Job)}
_RESUMABLE_STATES = tuple(s.value for s in JobState if s.is_resumable)
# States a job can be in when its request_id never reached the database (see fold_journal).
_WITHOUT_ID_STATES = (
    JobState.PENDING.value, JobState.SUBMITTING.value, JobState.UNKNOWN.value,
    JobState.NOT_SENT.value,
)
_MAX_LINEAGE = 10_000


def journal_path_for(database: Path) -> Path:
    """Where the request-id journal of ``database`` lives: right next to it."""
    return database.with_name(database.name + ".request-ids")


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


def _move_aside(path: Path, clock: Callable[[], float]) -> Path:
    """Rename a damaged database (and its -wal/-shm) out of the way; return the new name."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(clock()))
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    number = 1
    while target.exists():
        target = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
        number += 1
    os.rename(path, target)
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        with contextlib.suppress(FileNotFoundError):
            os.rename(side, Path(f"{target}{suffix}"))
    return target


class History:
    """All jobs and drafts, in a SQLite database shared safely by several processes.

    Every method is one short transaction; a second process waits up to ``busy_timeout``
    seconds for a lock. Methods are thread-safe (one connection, one lock). Failures are
    :class:`~tui.storage.errors.StorageError` kinds with one plain sentence: locked, damaged
    (the file is moved aside, never deleted), full.
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = 5.0,
        synchronous: str = "FULL",
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        self._batching = False  # inside batch(): writes are savepoints of its transaction
        self._batch_failed = False
        if synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
            raise ValueError("synchronous must be FULL, EXTRA or NORMAL")
        try:
            _private_file(self.path)
        except OSError as exc:
            raise HistoryWriteFailed(
                f"can't open the history database {self.path}: {exc.strerror or exc}"
            ) from None
        self.journal = RequestIdJournal(journal_path_for(self.path))
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise self._open_failed(exc) from None
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            _enable_wal(self._conn, patience=busy_timeout)
            self._conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._upgrade()
        except sqlite3.Error as exc:
            self._conn.close()
            raise self._open_failed(exc) from None
        except BaseException:
            self._conn.close()
            raise
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(OSError):
                side = Path(f"{self.path}{suffix}")
                if side.exists() and side.stat().st_mode & 0o077:
                    side.chmod(0o600)
        try:
            self.fold_journal()
        except BaseException:
            self._conn.close()
            raise

    # ------------------------------------------------------------------ plumbing

    def _open_failed(self, exc: sqlite3.Error) -> StorageError:
        """Translate an error while opening; a damaged file is moved aside and named."""
        error = translate_sqlite_error(exc, self.path)
        if not isinstance(error, HistoryCorrupt):
            return error
        try:
            moved = _move_aside(self.path, self._clock)
        except OSError as move_error:
            return HistoryCorrupt(
                f"the history database {self.path} is damaged and could not be moved aside "
                f"({move_error.strerror or move_error}); move it away by hand"
            )
        return HistoryCorrupt(
            f"the history database {self.path} was damaged; it was moved to {moved} "
            "(nothing deleted) and the next start begins a new history",
            moved_to=moved,
        )

    def _failed(self, exc: sqlite3.Error) -> StorageError:
        return translate_sqlite_error(exc, self.path)

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One committed write transaction (BEGIN IMMEDIATE takes the lock up front).

        SQLite trouble (locked, full, damaged) comes out as a StorageError; an IntegrityError
        is left to the caller, which knows what it means. Inside :meth:`batch` it is a savepoint
        of the batch's transaction instead: an exception undoes this write only.
        """
        with self._lock:
            if self._batching:
                yield from self._savepoint()
                return
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._failed(exc) from None
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                if self._conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error) and not isinstance(exc, sqlite3.IntegrityError):
                    raise self._failed(exc) from None
                raise

    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        """A write inside :meth:`batch` (the caller holds the lock)."""
        try:
            self._conn.execute("SAVEPOINT write")
        except sqlite3.Error as exc:
            self._batch_failed = True
            raise self._failed(exc) from None
        try:
            yield self._conn
            self._conn.execute("RELEASE write")
        except BaseException as exc:
            if self._conn.in_transaction:
                try:
                    self._conn.execute("ROLLBACK TO write")
                    self._conn.execute("RELEASE write")
                except sqlite3.Error:
                    self._batch_failed = True
            else:
                self._batch_failed = True  # SQLite rolled the whole batch back
            if isinstance(exc, sqlite3.Error) and not isinstance(exc, sqlite3.IntegrityError):
                self._batch_failed = True
                raise self._failed(exc) from None
            raise

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Several writes in one committed transaction: one fsync for all of them.

        Each write inside (:meth:`update`, :meth:`create_job`, …) runs in a savepoint, so one
        that raises (an illegal state move, a missing job) undoes only itself. If SQLite itself
        fails inside (locked, full, damaged) the batch is rolled back as a whole and raises a
        StorageError: nothing of it was kept, and its writes must be done again one by one
        (:class:`tui.jobs.writer.HistoryWriter` does). Writes only become durable — and their
        results only true — when the batch ends without an exception.
        """
        with self._lock:
            if self._batching:  # nested: part of the outer batch
                yield
                return
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._failed(exc) from None
            self._batching, self._batch_failed = True, False
            try:
                yield
                if self._batch_failed:
                    raise HistoryWriteFailed("a write of the batch failed; nothing was kept")
                self._conn.execute("COMMIT")
            except BaseException as exc:
                if self._conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._failed(exc) from None
                raise
            finally:
                self._batching = False

    @staticmethod
    def _next_rev(conn: sqlite3.Connection) -> int:
        """The next change number (inside the caller's write transaction)."""
        row = conn.execute(
            "UPDATE counters SET value = value + 1 WHERE name = 'rev' RETURNING value"
        ).fetchone()
        return int(row[0])

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One committed write transaction, for the storage helpers kept beside this class
        (batch lines, spend): they share this connection, its lock and its durability."""
        return self._write()

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Raw rows of a read-only query (for the same helpers)."""
        return [tuple(row) for row in self._rows(sql, params)]

    def _upgrade(self) -> None:
        """Bring the schema up to date; a current database is only read (no write lock)."""
        with self._lock:
            version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        if version == schema.latest_version():
            return
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

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.Error as exc:
                raise self._failed(exc) from None

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[Job]:
        return [self._job(row) for row in self._rows(sql, params)]

    @staticmethod
    def _job(row: sqlite3.Row | tuple[Any, ...]) -> Job:
        (
            job_id, prompt, size, images, _endpoint, state, request_id, parent_id, sweep_id,
            sweep_label, created_at, updated_at, submitted_at, started_at, finished_at, error,
            exit_code, remote_status, queue_position, output_urls, files, cancel_requested,
            resumed, extra, output_dir, owner, backend, price_usd, price_unit, price_source,
            starred,
        ) = row
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
            output_dir=output_dir,
            owner=owner,
            backend=backend,
            price_usd=_decimal_or_none(price_usd),
            price_unit=price_unit,
            price_source=price_source,
            starred=bool(starred),
        )

    _COLUMNS = (
        "id, prompt, size, images, endpoint, state, request_id, parent_id, sweep_id, sweep_label, "
        "created_at, updated_at, submitted_at, started_at, finished_at, error, exit_code, "
        "remote_status, queue_position, output_urls, files, cancel_requested, resumed, extra, "
        "output_dir, owner, backend, price_usd, price_unit, price_source, starred"
    )

    @staticmethod
    def _filters(
        states: Iterable[JobState | str] | None, search: str | None, starred: bool | None = None
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if starred is not None:
            clauses.append("starred = ?")
            params.append(int(starred))
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
        output_dir: str | None = None,
        owner: str | None = None,
        backend: str | None = None,
    ) -> Job:
        """Record a new PENDING job — before anything is sent — and return it.

        ``output_dir`` is where its images go, whoever finishes it; ``owner`` the process that
        follows it; ``backend`` the API it is sent to.
        """
        now = self._clock()
        try:
            with self._write() as conn:
                cursor = conn.execute(
                    "INSERT INTO jobs (prompt, size, images, endpoint, state, parent_id, sweep_id,"
                    " sweep_label, created_at, updated_at, output_dir, owner, backend, rev)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        request.prompt, request.size, json.dumps(list(request.images)),
                        request.endpoint.value, JobState.PENDING.value, parent_id, sweep_id,
                        sweep_label, now, now, output_dir, owner, backend, self._next_rev(conn),
                    ),
                )
                job_id = cursor.lastrowid
        except sqlite3.IntegrityError as exc:
            raise KeyError(f"parent job {parent_id} does not exist") from exc
        assert job_id is not None
        return self.get(job_id)

    def create_jobs(
        self,
        requests: Sequence[JobRequest],
        *,
        labels: Sequence[str | None] | None = None,
        parent_id: int | None = None,
        sweep_id: str | None = None,
        output_dir: str | None = None,
        owner: str | None = None,
        backend: str | None = None,
    ) -> list[Job]:
        """Record several new PENDING jobs (a sweep's) in one transaction; in their order.

        All of them or none; ``labels`` are their sweep labels (as many as ``requests``). The
        other arguments are :meth:`create_job`'s, shared by every job.
        """
        names = list(labels) if labels is not None else [None] * len(requests)
        if len(names) != len(requests):
            raise ValueError("one label per request")
        now = self._clock()
        ids: list[int] = []
        try:
            with self._write() as conn:
                for request, label in zip(requests, names, strict=True):
                    cursor = conn.execute(
                        "INSERT INTO jobs (prompt, size, images, endpoint, state, parent_id,"
                        " sweep_id, sweep_label, created_at, updated_at, output_dir, owner,"
                        " backend, rev) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            request.prompt, request.size, json.dumps(list(request.images)),
                            request.endpoint.value, JobState.PENDING.value, parent_id, sweep_id,
                            label, now, now, output_dir, owner, backend, self._next_rev(conn),
                        ),
                    )
                    assert cursor.lastrowid is not None
                    ids.append(cursor.lastrowid)
        except sqlite3.IntegrityError as exc:
            raise KeyError(f"parent job {parent_id} does not exist") from exc
        found = self.get_many(ids)
        return [found[job_id] for job_id in ids]

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
                values["rev"] = self._next_rev(conn)
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
        starred: bool | None = None,
    ) -> list[Job]:
        """A page of jobs, newest first; ``search`` is a case-insensitive prompt substring."""
        where, params = self._filters(states, search, starred)
        return self._query(
            f"SELECT {self._COLUMNS} FROM jobs{where} ORDER BY created_at DESC, id DESC"
            " LIMIT ? OFFSET ?",
            (*params, max(0, int(limit)), max(0, int(offset))),
        )

    def count(
        self,
        *,
        states: Iterable[JobState | str] | None = None,
        search: str | None = None,
        starred: bool | None = None,
    ) -> int:
        where, params = self._filters(states, search, starred)
        return int(self._rows(f"SELECT COUNT(*) FROM jobs{where}", params)[0][0])

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

    def get_many(self, job_ids: Iterable[int]) -> dict[int, Job]:
        """The jobs with these ids that exist, by id (one query)."""
        ids = sorted({int(i) for i in job_ids})
        found: dict[int, Job] = {}
        for start in range(0, len(ids), 500):  # SQLite's limit on bound parameters
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for job in self._query(f"SELECT {self._COLUMNS} FROM jobs WHERE id IN ({marks})", chunk):
                found[job.id] = job
        return found

    def sweep(self, sweep_id: str) -> list[Job]:
        """Every job of one sweep, in the order they were created."""
        return self._query(
            f"SELECT {self._COLUMNS} FROM jobs WHERE sweep_id = ? ORDER BY created_at, id",
            (sweep_id,),
        )

    def family(self, job_id: int) -> list[Job]:
        """The whole lineage ``job_id`` belongs to: its root and every descendant of the root,
        oldest first (KeyError when absent)."""
        root = self.lineage(job_id)[0]
        return self._query(
            "WITH RECURSIVE down(id, depth) AS (SELECT ?, 0 UNION ALL"
            " SELECT j.id, down.depth + 1 FROM jobs j JOIN down ON j.parent_id = down.id"
            " WHERE down.depth < ?)"
            f" SELECT {', '.join('j.' + c.strip() for c in self._COLUMNS.split(','))}"
            " FROM down JOIN jobs j ON j.id = down.id ORDER BY j.created_at, j.id",
            (root.id, _MAX_LINEAGE),
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

    # ------------------------------------------------------------------ who follows a job

    def claim(self, job_id: int, owner: str, *, stale: Callable[[str], bool]) -> Job | None:
        """Make ``owner`` the one process following ``job_id``; None when another live one is.

        One write transaction reads the current owner and sets the new one only if the job has
        none, already is ``owner``'s, or ``stale(current)`` says the old owner is gone: of two
        processes claiming at once exactly one wins (BEGIN IMMEDIATE serialises them).
        """
        with self._write() as conn:
            row = conn.execute("SELECT owner FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise KeyError(job_id)
            current = row[0]
            if current not in (None, owner) and not stale(str(current)):
                return None
            if current != owner:
                conn.execute(
                    "UPDATE jobs SET owner = ?, updated_at = ?, rev = ? WHERE id = ?"
                    " AND owner IS ?",
                    (owner, self._clock(), self._next_rev(conn), job_id, current),
                )
        return self.get(job_id)

    def release(self, job_id: int, owner: str) -> None:
        """Stop owning ``job_id`` (only if ``owner`` owns it), so another process may follow it."""
        with self._write() as conn:
            row = conn.execute("SELECT owner FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is not None and row[0] == owner:
                conn.execute(
                    "UPDATE jobs SET owner = NULL, rev = ? WHERE id = ?",
                    (self._next_rev(conn), job_id),
                )

    # ------------------------------------------------------------------ other processes

    def data_version(self) -> int:
        """A number that changes when another connection commits (cheap: no table is read)."""
        return int(self._rows("PRAGMA data_version")[0][0])

    def data_version_now(self) -> int | None:
        """:meth:`data_version` if the connection is free this instant; None when another
        thread is using it (a caller on a UI loop asks again later instead of waiting)."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            return self.data_version()
        finally:
            self._lock.release()

    def current_rev(self) -> int:
        """The newest change number; :meth:`changed_since` takes it."""
        rows = self._rows("SELECT value FROM counters WHERE name = 'rev'")
        return int(rows[0][0]) if rows else 0

    def changed_since(self, rev: int, *, limit: int = 500) -> tuple[list[Job], int]:
        """Jobs created or changed after change number ``rev`` (oldest change first), and the
        change number to ask from next time."""
        rows = self._rows(
            f"SELECT {self._COLUMNS}, rev FROM jobs WHERE rev > ? ORDER BY rev LIMIT ?",
            (rev, max(1, int(limit))),
        )
        if not rows:
            return [], rev
        return [self._job(row[:-1]) for row in rows], int(rows[-1][-1])

    def resumable_output_dirs(self) -> list[str]:
        """Every folder a resumable job saves to (its temp files may need sweeping)."""
        marks = ", ".join("?" * len(_RESUMABLE_STATES))
        rows = self._rows(
            f"SELECT DISTINCT output_dir FROM jobs WHERE state IN ({marks})"
            " AND output_dir IS NOT NULL",
            _RESUMABLE_STATES,
        )
        return [str(row[0]) for row in rows]

    # ------------------------------------------------------------------ the request-id journal

    def keep_request_id(self, job: Job, request_id: str) -> None:
        """Append a delivered request_id to the journal (fsync'd) before anything else."""
        self.journal.append(
            JournalEntry(
                job_id=job.id,
                request_id=validate_request_id(request_id),
                prompt=job.request.prompt,
                size=job.request.size,
                images=job.request.images,
                output_dir=job.output_dir,
                backend=job.backend,
                created_at=job.created_at,
                submitted_at=job.submitted_at,
            )
        )

    def fold_journal(self) -> int:
        """Fold request ids the journal kept back into the database; empty it. Idempotent.

        A job whose id never reached the database (still PENDING / SUBMITTING, or marked UNKNOWN
        or NOT_SENT since) gets it and becomes QUEUED, so it is resumed; a job whose row is gone
        is re-created from the entry. Returns how many entries were read.
        """
        return self.journal.drain(self._fold)

    def _fold(self, entries: list[JournalEntry]) -> None:
        now = self._clock()
        with self._write() as conn:
            for entry in entries:
                try:
                    request_id = validate_request_id(entry.request_id)
                except ValueError:
                    continue
                if conn.execute(
                    "SELECT 1 FROM jobs WHERE request_id = ?", (request_id,)
                ).fetchone():
                    continue
                row = conn.execute(
                    "SELECT state, prompt, request_id FROM jobs WHERE id = ?", (entry.job_id,)
                ).fetchone()
                if (
                    row is not None
                    and row[2] is None
                    and row[1] == entry.prompt
                    and row[0] in _WITHOUT_ID_STATES
                ):
                    conn.execute(
                        "UPDATE jobs SET request_id = ?, state = ?, remote_status = 'in_queue',"
                        " error = NULL, exit_code = NULL, finished_at = NULL, owner = NULL,"
                        " submitted_at = COALESCE(submitted_at, ?), updated_at = ?, rev = ?"
                        " WHERE id = ?",
                        (request_id, JobState.QUEUED.value, entry.submitted_at, now,
                         self._next_rev(conn), entry.job_id),
                    )
                    continue
                request = JobRequest(entry.prompt, entry.size, tuple(entry.images))
                conn.execute(
                    "INSERT INTO jobs (prompt, size, images, endpoint, state, request_id,"
                    " remote_status, created_at, updated_at, submitted_at, output_dir, backend,"
                    " extra, rev) VALUES (?, ?, ?, ?, ?, ?, 'in_queue', ?, ?, ?, ?, ?, ?, ?)",
                    (
                        request.prompt, request.size, json.dumps(list(request.images)),
                        request.endpoint.value, JobState.QUEUED.value, request_id,
                        entry.created_at or now, now, entry.submitted_at, entry.output_dir,
                        entry.backend, json.dumps({"restored_from_journal": True}),
                        self._next_rev(conn),
                    ),
                )

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
        rows = self._rows("SELECT text FROM drafts WHERE key = ?", (key,))
        return None if not rows else str(rows[0][0])
