"""History: durable, private, versioned job records — the only copy of a paid-for request_id."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tui.models import JobRequest, JobState
from tui.storage import schema
from tui.storage.history import SCHEMA_VERSION, History, HistorySchemaError

T2I = JobRequest("a red fox in snow", "1024_1024")
EDIT = JobRequest("make it blue", "auto", ("https://example.com/a.png",))


class Clock:
    """A clock that ticks one second per call, so ordering by time is deterministic."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def history(db_path: Path):
    store = History(db_path, clock=Clock())
    yield store
    store.close()


def test_create_and_get(history: History) -> None:
    job = history.create_job(EDIT, sweep_id="s1", sweep_label="blue")
    assert job.state is JobState.PENDING
    assert job.request == EDIT
    assert job.endpoint.value == "edit"
    assert (job.sweep_id, job.sweep_label) == ("s1", "blue")
    assert job.request_id is None and job.files == () and job.extra == {}
    assert history.get(job.id) == job
    with pytest.raises(KeyError):
        history.get(job.id + 100)


def test_create_jobs_records_a_sweep_in_one_transaction(history: History) -> None:
    parent = history.create_job(T2I)
    requests = [JobRequest(f"a fox at {t}", "1024_1024") for t in ("dawn", "noon", "dusk")]
    jobs = history.create_jobs(
        requests, labels=["dawn", "noon", "dusk"], parent_id=parent.id, sweep_id="s9",
        output_dir="/out", owner="me", backend="offline",
    )
    assert [job.request for job in jobs] == requests
    assert [job.sweep_label for job in jobs] == ["dawn", "noon", "dusk"]
    assert all(job.state is JobState.PENDING and job.parent_id == parent.id for job in jobs)
    assert [job.id for job in history.sweep("s9")] == [job.id for job in jobs]
    assert {(job.output_dir, job.owner, job.backend) for job in jobs} == {("/out", "me", "offline")}
    # All or nothing: an unknown parent records none of them.
    with pytest.raises(KeyError):
        history.create_jobs(requests, parent_id=parent.id + 100, sweep_id="s10")
    assert history.sweep("s10") == [] and history.count() == 4
    with pytest.raises(ValueError):
        history.create_jobs(requests, labels=["one"])


def test_update_fields_and_updated_at(history: History) -> None:
    job = history.create_job(T2I)
    moved = history.update(job.id, state=JobState.SUBMITTING)
    moved = history.update(
        job.id, state="queued", request_id="req_ABC-123", submitted_at=5.0, queue_position=3
    )
    assert moved.state is JobState.QUEUED
    assert moved.request_id == "req_ABC-123"
    assert moved.updated_at > job.updated_at
    done = history.update(
        job.id, state=JobState.COMPLETED, output_urls=["https://x.runcomfy.net/a.png"],
        files=("/out/a.png",), exit_code=0, cancel_requested=True, extra={"k": [1, 2]},
    )
    assert done.output_urls == ("https://x.runcomfy.net/a.png",)
    assert done.files == ("/out/a.png",)
    assert (done.exit_code, done.cancel_requested, done.extra) == (0, True, {"k": [1, 2]})
    assert history.find_by_request_id("req_ABC-123") == done
    assert history.find_by_request_id("nope") is None


def test_illegal_moves_and_bad_values_refused(history: History) -> None:
    job = history.create_job(T2I)
    with pytest.raises(ValueError, match="illegal"):
        history.update(job.id, state=JobState.COMPLETED)  # pending → completed
    assert history.get(job.id).state is JobState.PENDING
    with pytest.raises(ValueError):
        history.update(job.id, request_id="../../etc")
    with pytest.raises(TypeError):
        history.update(job.id, token="secret")
    with pytest.raises(TypeError):
        history.update(job.id, created_at=1.0)
    with pytest.raises(KeyError):
        history.update(999, error="x")
    other = history.create_job(T2I)
    history.update(job.id, request_id="dup")
    with pytest.raises(ValueError):
        history.update(other.id, request_id="dup")


def test_persists_across_reopen_private_and_versioned(db_path: Path) -> None:
    store = History(db_path)
    job = store.create_job(T2I)
    store.update(job.id, state="submitting")
    store.update(job.id, state="queued", request_id="r1")
    store.save_draft("compose", "half-written prompt")
    store.close()

    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700
    for suffix in ("-wal", "-shm"):
        side = Path(f"{db_path}{suffix}")
        if side.exists():
            assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0

    with History(db_path) as again:
        assert again.get(job.id).request_id == "r1"
        assert again.load_draft("compose") == "half-written prompt"
        assert again.schema_version == SCHEMA_VERSION
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        columns = {row[1] for row in raw.execute("PRAGMA table_info(jobs)")}
        assert not any("token" in c for c in columns)


def test_loose_permissions_tightened(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.touch(mode=0o644)
    db_path.chmod(0o644)
    History(db_path).close()
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600


def test_newer_schema_refused(db_path: Path) -> None:
    History(db_path).close()
    with sqlite3.connect(db_path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(HistorySchemaError):
        History(db_path)


def test_upgrade_steps_run_in_order_on_old_db(db_path: Path, monkeypatch) -> None:
    with History(db_path) as v1:
        kept = v1.create_job(T2I)

    def add_rating(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE jobs ADD COLUMN rating INTEGER")

    monkeypatch.setattr(schema, "UPGRADES", [*schema.UPGRADES, add_rating])
    with History(db_path) as upgraded:
        assert upgraded.schema_version == SCHEMA_VERSION + 1
        assert upgraded.get(kept.id).request == T2I
    with sqlite3.connect(db_path) as raw:
        assert "rating" in {row[1] for row in raw.execute("PRAGMA table_info(jobs)")}


def test_resumable_and_unsent(history: History) -> None:
    pending = history.create_job(T2I)
    submitting = history.create_job(T2I)
    history.update(submitting.id, state="submitting")
    queued = history.create_job(T2I)
    history.update(queued.id, state="submitting")
    history.update(queued.id, state="queued", request_id="q1")
    stalled = history.create_job(T2I)
    history.update(stalled.id, state="submitting")
    history.update(stalled.id, state="queued", request_id="s1")
    history.update(stalled.id, state="stalled")
    done = history.create_job(T2I)
    history.update(done.id, state="submitting")
    history.update(done.id, state="queued", request_id="d1")
    history.update(done.id, state="completed")

    assert [j.id for j in history.unsent()] == [pending.id, submitting.id]
    assert [j.id for j in history.resumable()] == [queued.id, stalled.id]


def test_children_lineage_delete(history: History) -> None:
    root = history.create_job(T2I)
    child = history.create_job(EDIT, parent_id=root.id)
    grandchild = history.create_job(EDIT, parent_id=child.id)
    sibling = history.create_job(EDIT, parent_id=root.id)
    assert [j.id for j in history.children(root.id)] == [child.id, sibling.id]
    assert [j.id for j in history.lineage(grandchild.id)] == [root.id, child.id, grandchild.id]
    assert [j.id for j in history.lineage(root.id)] == [root.id]
    with pytest.raises(KeyError):
        history.lineage(12345)
    with pytest.raises(KeyError):
        history.create_job(T2I, parent_id=12345)
    history.delete(child.id)
    assert history.get(grandchild.id).parent_id is None
    history.delete(child.id)  # absent: no-op


def test_search_and_state_filter(history: History) -> None:
    fox = history.create_job(JobRequest("A Red FOX", "1024_1024"))
    pct = history.create_job(JobRequest("100% cotton-shirt", "1024_1024"))
    history.create_job(JobRequest("blue whale", "1024_1024"))
    history.update(fox.id, state="not_sent")
    assert [j.id for j in history.list_jobs(search="red fox")] == [fox.id]
    assert [j.id for j in history.list_jobs(search="0%")] == [pct.id]
    assert history.list_jobs(search="n_s") == []  # "_" is literal, not a wildcard
    assert history.list_jobs(search="%") == [history.get(pct.id)]
    assert [j.id for j in history.list_jobs(states=[JobState.NOT_SENT])] == [fox.id]
    assert history.count(states=["pending"]) == 2
    assert history.count(search="WHALE") == 1
    assert history.list_jobs(states=[]) == []


def test_two_thousand_rows_paged_newest_first(db_path: Path) -> None:
    with History(db_path, clock=Clock(), synchronous="NORMAL") as store:
        ids = [store.create_job(JobRequest(f"prompt {i}", "1024_1024")).id for i in range(2100)]
        page = store.list_jobs(limit=50, offset=100)
        assert [j.id for j in page] == ids[::-1][100:150]
        assert store.count() == 2100
        assert [j.request.prompt for j in store.list_jobs(limit=3, search="prompt 209")] == [
            "prompt 2099", "prompt 2098", "prompt 2097",
        ]
        plan = " ".join(
            str(row) for row in store._conn.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM jobs ORDER BY created_at DESC, id DESC LIMIT 50"
            )
        )
        assert "jobs_created_at" in plan


def test_drafts(history: History) -> None:
    assert history.load_draft("compose") is None
    history.save_draft("compose", "one")
    history.save_draft("compose", "two")
    history.save_draft("edit", "")
    assert history.load_draft("compose") == "two"
    assert history.load_draft("edit") == ""


def test_two_connections_share_the_file(db_path: Path) -> None:
    with History(db_path) as first, History(db_path) as second:
        job = first.create_job(T2I)
        second.update(job.id, state="submitting")
        assert first.get(job.id).state is JobState.SUBMITTING


@pytest.mark.parametrize("how", ["_exit", "sigkill"])
def test_killed_writer_loses_nothing(db_path: Path, how: str) -> None:
    ending = "os._exit(0)" if how == "_exit" else "os.kill(os.getpid(), signal.SIGKILL)"
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        from tui.models import JobRequest
        from tui.storage.history import History
        h = History(Path(sys.argv[1]))
        job = h.create_job(JobRequest("paid for", "1024_1024"))
        h.update(job.id, state="submitting")
        h.update(job.id, state="queued", request_id="rid_killed")
        {ending}
        """
    )
    subprocess.run(
        [sys.executable, "-c", script, str(db_path)],
        cwd=Path(__file__).resolve().parents[1], check=False, timeout=60,
    )
    with History(db_path) as store:
        job = store.find_by_request_id("rid_killed")
        assert job is not None and job.state is JobState.QUEUED
        assert [j.id for j in store.resumable()] == [job.id]


def test_several_processes_write_at_once(db_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from tui.models import JobRequest
        from tui.storage.history import History
        with History(Path(sys.argv[1])) as h:
            for _ in range(20):
                job = h.create_job(JobRequest("p", "1024_1024"))
                h.update(job.id, state="submitting")
        """
    )
    root = Path(__file__).resolve().parents[1]
    writers = [
        subprocess.Popen([sys.executable, "-c", script, str(db_path)], cwd=root) for _ in range(4)
    ]
    assert [w.wait(timeout=60) for w in writers] == [0, 0, 0, 0]
    with History(db_path) as store:
        assert store.count(states=[JobState.SUBMITTING]) == 80


def test_stars_are_kept_and_filtered(history: History) -> None:
    first = history.create_job(T2I)
    second = history.create_job(T2I)
    assert history.get(first.id).starred is False
    history.update(second.id, starred=True)
    assert [j.id for j in history.list_jobs(starred=True)] == [second.id]
    assert history.count(starred=True) == 1 and history.count(starred=False) == 1
    history.update(second.id, state="submitting")  # a state move never touches the star
    assert history.get(second.id).starred is True
