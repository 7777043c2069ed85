"""The history database's schema and its upgrade path, versioned with ``PRAGMA user_version``.

Step N of :data:`UPGRADES` brings a database from version N-1 to N. Append new steps; never edit
a released one. :func:`upgrade` runs the missing steps inside the caller's write transaction, so
a database is either fully upgraded or untouched; a newer database than this code knows is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from .errors import StorageError

__all__ = ["SCHEMA_VERSION", "UPGRADES", "HistorySchemaError", "latest_version", "upgrade"]


class HistorySchemaError(StorageError):
    """The database was written by a newer version of this app; it is left untouched."""


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT first; run statement by statement inside our transaction.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


_V1 = """
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    prompt TEXT NOT NULL,
    size TEXT NOT NULL,
    images TEXT NOT NULL DEFAULT '[]',
    endpoint TEXT NOT NULL,
    state TEXT NOT NULL,
    request_id TEXT UNIQUE,
    parent_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    sweep_id TEXT,
    sweep_label TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    submitted_at REAL,
    started_at REAL,
    finished_at REAL,
    error TEXT,
    exit_code INTEGER,
    remote_status TEXT,
    queue_position INTEGER,
    output_urls TEXT NOT NULL DEFAULT '[]',
    files TEXT NOT NULL DEFAULT '[]',
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    resumed INTEGER NOT NULL DEFAULT 0,
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX jobs_state ON jobs(state);
CREATE INDEX jobs_request_id ON jobs(request_id);
CREATE INDEX jobs_parent_id ON jobs(parent_id);
CREATE INDEX jobs_created_at ON jobs(created_at, id);
CREATE TABLE drafts (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""

# Version 2: where a job's images go, which process follows it and which backend it was sent to
# are typed columns (they were loose keys of ``extra``); ``rev`` orders changes so another
# process can ask "what changed since I last looked".
_V2 = """
ALTER TABLE jobs ADD COLUMN output_dir TEXT;
ALTER TABLE jobs ADD COLUMN owner TEXT;
ALTER TABLE jobs ADD COLUMN backend TEXT;
ALTER TABLE jobs ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET
    owner = CAST(json_extract(extra, '$.owner_pid') AS TEXT),
    backend = json_extract(extra, '$.backend'),
    extra = json_remove(extra, '$.owner_pid', '$.backend')
    WHERE json_valid(extra);
CREATE INDEX jobs_rev ON jobs(rev);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters (name, value) VALUES ('rev', 0);
"""

# What a job cost and which batch line it came from (issue 12). Prices are exact decimal text
# per unit ("0.04", "image"); price_source says where the price came from ("catalog", or
# "offline" for the offline backend's free catalog); NULL price = unknown, never a guess.
# A batch line outlives its job being deleted from history (job_id becomes NULL), so running
# the same file again still knows the line was sent and never sends it twice.
_COSTS_AND_BATCHES = """
ALTER TABLE jobs ADD COLUMN price_usd TEXT;
ALTER TABLE jobs ADD COLUMN price_unit TEXT;
ALTER TABLE jobs ADD COLUMN price_source TEXT;
CREATE TABLE batch_lines (
    key TEXT PRIMARY KEY,
    job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    path TEXT NOT NULL,
    line INTEGER NOT NULL,
    line_id TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX batch_lines_job_id ON batch_lines(job_id)
"""

# Stars: the results a user marked to keep track of (issue 10).
_STARS = """
ALTER TABLE jobs ADD COLUMN starred INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_starred ON jobs(starred) WHERE starred
"""

UPGRADES: list[Callable[[sqlite3.Connection], None]] = [
    lambda conn: _run_script(conn, _V1),
    lambda conn: _run_script(conn, _V2),
    lambda conn: _run_script(conn, _COSTS_AND_BATCHES),
    lambda conn: _run_script(conn, _STARS),
]
SCHEMA_VERSION = len(UPGRADES)


def latest_version() -> int:
    """The schema version this code writes (the number of upgrade steps)."""
    return len(UPGRADES)


def upgrade(conn: sqlite3.Connection, *, where: str = "the history database") -> int:
    """Apply the missing upgrade steps (caller holds a write transaction); return the version."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > len(UPGRADES):
        raise HistorySchemaError(
            f"{where} has schema version {version}; this app knows up to {len(UPGRADES)}"
            " — update the app"
        )
    for number, step in enumerate(UPGRADES[version:], start=version + 1):
        step(conn)
        conn.execute(f"PRAGMA user_version = {number}")
    return len(UPGRADES)
