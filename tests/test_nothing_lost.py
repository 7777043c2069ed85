"""Issue 7, engine level: the failure classes that lost or misplaced what the user paid for.

Each test runs the real engine against the real loopback server, a real SQLite file and real
files; locks are taken by a real second process.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TEST_TOKEN, Rig

from tui.api.retry import RetryPolicy
from tui.jobs import JobEvent
from tui.jobs.follower import MAX_CONTRADICTIONS
from tui.models import JobRequest, JobState
from tui.offline.faults import Fault, FaultConfig, Timing
from tui.offline.server import OfflineServer
from tui.storage import schema
from tui.storage.downloads import verify_image
from tui.storage.errors import HistoryCorrupt, HistoryLocked
from tui.storage.history import History, journal_path_for
from tui.storage.owners import owner_alive, owner_for

SLOW = Timing(queue_seconds=1e9, run_seconds=1e9, queue_ahead=2)


# ------------------------------------------------------------------ a second process's lock

class Locker:
    """Another process holding ``BEGIN EXCLUSIVE`` on the database until told to let go."""

    def __init__(self, database: Path) -> None:
        code = (
            "import sqlite3, sys\n"
            f"conn = sqlite3.connect({str(database)!r}, isolation_level=None, timeout=30)\n"
            "conn.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n"
            "conn.execute('ROLLBACK')\n"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
            self.proc.wait(10)


# ------------------------------------------------------------------ a job owns its folder


async def test_resumed_job_saves_to_its_own_folder_not_the_default(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    """Created with folder D, killed, recovered by a process whose default is elsewhere."""
    offline_server.timing = SLOW
    chosen = tmp_path / "chosen"
    first = Rig(offline_server, tmp_path, pid=2**22 + 101)  # a process that is gone
    job_id = first.job(output_dir=chosen)
    sent = await first.engine.submit(job_id)
    assert sent.request_id and first.history.get(job_id).output_dir == str(chosen.absolute())
    await first.aclose()

    later = Rig(offline_server, tmp_path, output_dir=tmp_path / "default-elsewhere")
    try:
        resumed = later.engine.recover()
        assert [j.id for j in resumed] == [job_id]
        offline_server.advance(sent.request_id, "completed")
        job = await later.engine.follow(job_id)
        assert job.state is JobState.COMPLETED
        assert [Path(f).parent for f in job.files] == [chosen.absolute()]
        assert later.images() == [] and len(later.images(chosen)) == 1
    finally:
        await later.aclose()


async def test_recover_with_an_explicit_folder_moves_the_images_there(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    offline_server.timing = SLOW
    first = Rig(offline_server, tmp_path, pid=2**22 + 102)
    job_id = first.job(output_dir=tmp_path / "old")
    sent = await first.engine.submit(job_id)
    await first.aclose()
    later = Rig(offline_server, tmp_path)
    try:
        later.engine.recover(output_dir=tmp_path / "override")
        assert later.history.get(job_id).output_dir == str((tmp_path / "override").absolute())
        offline_server.advance(sent.request_id or "", "completed")
        job = await later.engine.follow(job_id)
        assert len(later.images(tmp_path / "override")) == 1
        assert not (tmp_path / "old").exists() or later.images(tmp_path / "old") == []
        assert job.state is JobState.COMPLETED
    finally:
        await later.aclose()


async def test_stale_temp_files_are_swept_in_every_folder_a_resumable_job_uses(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    offline_server.timing = SLOW
    folder = tmp_path / "theirs"
    first = Rig(offline_server, tmp_path, pid=2**22 + 103)
    job_id = first.job(output_dir=folder)
    await first.engine.submit(job_id)
    await first.aclose()
    folder.mkdir(parents=True, exist_ok=True)
    leftover = folder / f".gpt-image-tui-{2**22 + 103}-deadbeef.part"  # a dead process's temp
    leftover.write_bytes(b"partial")
    later = Rig(offline_server, tmp_path)
    try:
        later.engine.recover()
        assert not leftover.exists()
    finally:
        await later.aclose()


async def test_an_image_already_saved_is_adopted_from_the_jobs_own_folder(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    """Killed after the rename, before recording it: the next follower adopts the file."""
    offline_server.timing = SLOW
    folder = tmp_path / "mine"
    rig = Rig(offline_server, tmp_path, output_dir=tmp_path / "default")
    try:
        job_id = rig.job(output_dir=folder)
        job = await rig.engine.submit(job_id)
        assert job.request_id
        offline_server.advance(job.request_id, "completed")
        folder.mkdir(parents=True)
        from tui.offline.render import render_image

        name = rig.files.name_for(rig.history.get(job_id), 0, "png")
        (folder / name).write_bytes(render_image("x", "1024_1024", request_id=job.request_id))
        final = await rig.engine.follow(job_id)
        assert final.files == (str(folder / name),)
        assert offline_server.stats.downloads == 0
    finally:
        await rig.aclose()


def test_schema_upgrade_moves_owner_and_backend_out_of_extra(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path, isolation_level=None) as raw:
        raw.execute("BEGIN")
        schema.UPGRADES[0](raw)
        raw.execute("PRAGMA user_version = 1")
        raw.execute(
            "INSERT INTO jobs (prompt, size, endpoint, state, created_at, updated_at, extra)"
            " VALUES ('p', '1024_1024', 'text-to-image', 'stalled', 1, 1, ?)",
            (json.dumps({"owner_pid": 4242, "backend": "api", "keep": 1}),),
        )
        raw.execute("COMMIT")
    with History(path) as history:
        job = history.get(1)
        assert history.schema_version == schema.latest_version()
    assert (job.owner, job.backend, job.extra, job.output_dir) == ("4242", "api", {"keep": 1}, None)


# ------------------------------------------------------------------ a delivered request_id


async def test_request_id_survives_a_database_locked_by_another_process(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    offline_server.timing = SLOW
    rig = Rig(offline_server, tmp_path, busy_timeout=0.2, request_id_patience=0.5)
    lockers: list[Locker] = []

    def lock_once_submitting(event: JobEvent) -> None:
        if event.job.state is JobState.SUBMITTING and not lockers:
            lockers.append(Locker(rig.history.path))  # taken before the POST leaves

    rig.engine.subscribe(lock_once_submitting)
    try:
        job_id = rig.job("paid for, then the database locked")
        job = await rig.engine.follow(job_id)
        assert offline_server.stats.submits == 1
        delivered = offline_server.request_ids()[0]
        assert job.request_id == delivered and job.state is JobState.STALLED
        assert delivered in (job.error or "")
        unsaved = [e.unsaved_request_id for e in rig.events if e.unsaved_request_id]
        assert unsaved == [delivered]
        assert delivered in journal_path_for(rig.history.path).read_text()
    finally:
        for locker in lockers:
            locker.release()
        await rig.aclose()

    later = Rig(offline_server, tmp_path)  # the next start folds the journal back in
    try:
        folded = later.history.get(job_id)
        assert folded.request_id == delivered and folded.state is JobState.QUEUED
        assert journal_path_for(later.history.path).read_text() == ""
        assert [j.id for j in later.engine.recover()] == [job_id]
        offline_server.advance(delivered, "completed")
        final = await later.engine.follow(job_id)
        assert final.state is JobState.COMPLETED and len(later.images()) == 1
        assert offline_server.stats.submits == 1
    finally:
        await later.aclose()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tiny tmpfs needs root")
async def test_request_id_is_published_when_the_disk_is_full(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    """Database and journal on a full disk: the id still reaches the user, and `result` works."""
    offline_server.timing = SLOW
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(tiny)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"can't mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        rig = Rig(offline_server, tiny, busy_timeout=0.2, request_id_patience=0.3,
                  output_dir=tmp_path / "out")
        filler = tiny / "filler"

        def fill_disk(event: JobEvent) -> None:
            if event.job.state is JobState.SUBMITTING and not filler.exists():
                with open(filler, "wb") as sink:
                    try:
                        while True:
                            sink.write(b"\0" * 65536)
                            sink.flush()
                    except OSError:
                        pass

        rig.engine.subscribe(fill_disk)
        try:
            job = await rig.engine.follow(rig.job("the disk fills up"))
            delivered = offline_server.request_ids()[0]
            assert job.request_id == delivered and job.state is JobState.STALLED
            assert "journal failed too" in (job.error or "")
            assert [e.unsaved_request_id for e in rig.events if e.unsaved_request_id] == [delivered]
        finally:
            await rig.aclose()
    finally:
        subprocess.run(["umount", "-l", str(tiny)], capture_output=True)


async def test_submit_answer_with_an_error_code_keeps_its_request_id(rig: Rig) -> None:
    rig.server.force("submit", Fault.ACCEPT_WITH_ERROR)
    job = await rig.engine.follow(rig.job())
    assert job.state is JobState.COMPLETED and job.request_id == rig.server.request_ids()[0]
    assert rig.server.stats.submits == 1
    assert any("upstream hiccup" in m for m in rig.messages(job.id))


def test_journal_fold_recreates_a_row_that_was_lost(tmp_path: Path) -> None:
    database = tmp_path / "h.sqlite3"
    with History(database) as history:
        job = history.create_job(JobRequest("kept safe", "1024_1024"), output_dir="/x")
        history.update(job.id, state=JobState.SUBMITTING)
        history.keep_request_id(history.get(job.id), "rid-journal-1")
        history.delete(job.id)  # the row is gone; the journal still has everything
    with History(database) as history:
        again = history.find_by_request_id("rid-journal-1")
        assert again is not None and again.state is JobState.QUEUED
        assert (again.request.prompt, again.output_dir) == ("kept safe", "/x")
    with History(database) as history:  # folding twice changes nothing
        assert history.count() == 1


# ------------------------------------------------------------------ every wait ends


async def test_huge_retry_after_is_shown_with_its_date_and_the_give_up_holds(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    offline_server.faults = FaultConfig(retry_after=999_999)
    offline_server.force("status", *([Fault.RATE_LIMIT_429] * 50))
    # The engine's clock starts at a noon and runs at the real pace, so the day 999,999 s later
    # is known here, whenever this runs (on the real clock, a run that crossed a midnight while
    # the engine and this test each read it would see two different days).
    noon, started = time.mktime((2026, 6, 15, 12, 0, 0, 0, 0, -1)), time.monotonic()
    rig = Rig(offline_server, tmp_path, give_up_after=1.0,
              clock=lambda: noon + (time.monotonic() - started))
    try:
        job = await asyncio.wait_for(rig.engine.follow(rig.job()), timeout=20)
        assert job.state is JobState.STALLED and job.request_id
        until = time.strftime("%Y-%m-%d", time.localtime(noon + 999_999))
        assert any(f"rate-limited until {until}" in m for m in rig.messages(job.id))
    finally:
        await rig.aclose()


async def test_huge_retry_after_without_give_up_keeps_polling_and_finishes(rig: Rig) -> None:
    rig.server.faults = FaultConfig(retry_after=999_999)
    rig.server.force("status", Fault.RATE_LIMIT_429, Fault.RATE_LIMIT_429)
    job = await asyncio.wait_for(rig.engine.follow(rig.job()), timeout=30)
    assert job.state is JobState.COMPLETED


async def test_a_status_call_that_never_answers_ends_at_the_give_up(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    offline_server.timing = SLOW
    offline_server.force("status", *([Fault.HANG] * 20))
    patient = RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.05, call_deadline=60.0)
    rig = Rig(offline_server, tmp_path, give_up_after=1.0, policy=patient)
    try:
        # Without an overall bound this takes 5 × 60 s; the give-up holds it to about 1 s.
        job = await asyncio.wait_for(rig.engine.follow(rig.job()), timeout=20)
        assert job.state is JobState.STALLED and job.request_id
        assert "resume" in (job.error or "")
    finally:
        await rig.aclose()


# ------------------------------------------------------------------ one follower


async def test_two_engines_claiming_at_once_follow_each_job_once(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    offline_server.timing = SLOW
    dead = Rig(offline_server, tmp_path, pid=2**22 + 104)
    ids = [dead.job(f"job {n}") for n in range(6)]
    for job_id in ids:
        await dead.engine.submit(job_id)
    await dead.aclose()
    # Two live "processes" (distinct owners) recover the same database at the same moment.
    one = Rig(offline_server, tmp_path, pid=os.getpid())
    two = Rig(offline_server, tmp_path, pid=os.getppid())
    try:
        first, second = await asyncio.gather(
            asyncio.to_thread(one.engine.recover), asyncio.to_thread(two.engine.recover)
        )
        claimed = sorted(j.id for j in first) + sorted(j.id for j in second)
        assert sorted(claimed) == ids and len(set(claimed)) == len(ids)
    finally:
        await one.aclose()
        await two.aclose()


async def test_a_job_followed_by_a_live_process_is_not_followed_again(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    offline_server.timing = SLOW
    rig = Rig(offline_server, tmp_path, pid=os.getppid())  # "another", live process owns it
    other = Rig(offline_server, tmp_path)
    try:
        job_id = rig.job()
        await rig.engine.submit(job_id)
        rig.history.update(job_id, owner=owner_for(os.getppid()))
        assert other.engine.recover() == []
        from tui.jobs import JobFollowedElsewhere

        with pytest.raises(JobFollowedElsewhere):
            await other.engine.follow(job_id)
        assert owner_alive(owner_for(os.getppid())) and not owner_alive(f"{os.getpid()}:1")
    finally:
        await rig.aclose()
        await other.aclose()


async def test_another_front_end_sees_changes_without_following(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    worker = Rig(offline_server, tmp_path)
    watcher = Rig(offline_server, tmp_path, pid=os.getppid())
    try:
        assert not watcher.engine.may_have_external_changes()  # the cheap check a UI loop runs
        job = await worker.engine.follow(worker.job("made by the other window"))
        assert watcher.engine.may_have_external_changes()
        seen = await watcher.engine.sync_external()
        assert not watcher.engine.may_have_external_changes()
        assert [j.id for j in seen][-1] == job.id
        final = [e.job for e in watcher.events if e.job.id == job.id][-1]
        assert final.state is JobState.COMPLETED and final.files == job.files
        assert not watcher.engine.is_following(job.id)
        assert await watcher.engine.sync_external() == []  # nothing new: nothing read
        assert offline_server.stats.submits == 1
    finally:
        await worker.aclose()
        await watcher.aclose()


# ------------------------------------------------------------------ truth from the server


async def test_result_that_contradicts_the_status_is_asked_again(rig: Rig) -> None:
    rig.server.force("result", Fault.RESULT_NOT_READY, Fault.RESULT_NOT_READY)
    job = await rig.engine.follow(rig.job())
    assert job.state is JobState.COMPLETED and len(rig.images()) == 1
    assert any("asking again" in m for m in rig.messages(job.id))


async def test_result_that_keeps_contradicting_parks_the_job_resumable(rig: Rig) -> None:
    rig.server.force("result", *([Fault.RESULT_NOT_READY] * MAX_CONTRADICTIONS))
    job = await rig.engine.follow(rig.job())
    assert job.state is JobState.STALLED and job.state.is_resumable and job.request_id
    again = await rig.engine.follow(job.id)  # what `resume` does
    assert again.state is JobState.COMPLETED and rig.server.stats.submits == 1


@pytest.mark.parametrize("fault", [Fault.SHORT_BODY, Fault.CUT_IMAGE])
async def test_an_image_cut_short_is_retried_never_saved(rig: Rig, fault: Fault) -> None:
    rig.server.force("files", fault)
    job = await rig.engine.follow(rig.job())
    assert job.state is JobState.COMPLETED and rig.server.stats.downloads == 2
    (saved,) = rig.images()
    assert saved.read_bytes().endswith(b"IEND\xaeB`\x82") and rig.temps() == []


def test_verify_refuses_images_without_their_end(tmp_path: Path) -> None:
    from PIL import Image

    for fmt, cut in (("PNG", 12), ("JPEG", 2)):
        whole = tmp_path / f"whole.{fmt.lower()}"
        Image.new("RGB", (64, 48), (10, 200, 30)).save(whole, fmt)
        verify_image(whole, max_pixels=10_000)
        short = tmp_path / f"short.{fmt.lower()}"
        short.write_bytes(whole.read_bytes()[:-cut])
        from tui.api.errors import DownloadError

        with pytest.raises(DownloadError) as refused:
            verify_image(short, max_pixels=10_000)
        assert refused.value.retryable


# ------------------------------------------------------------------ secrets


async def test_a_server_echoing_the_token_never_gets_it_stored_or_shown(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    offline_server.force("status", Fault.ECHO_TOKEN, Fault.ECHO_TOKEN)
    offline_server.force("result", Fault.ECHO_TOKEN)
    rig = Rig(offline_server, tmp_path)
    try:
        job = await rig.engine.follow(rig.job())
        assert job.state is JobState.FAILED and "[token]" in (job.error or "")
        shown = " ".join(rig.messages(job.id)) + " ".join(str(e.job) for e in rig.events)
        assert TEST_TOKEN not in shown
    finally:
        await rig.aclose()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TEST_TOKEN.encode() not in path.read_bytes(), path


# ------------------------------------------------------------------ local trouble


def test_a_damaged_database_is_moved_aside_and_named(tmp_path: Path) -> None:
    database = tmp_path / "history.sqlite3"
    garbage = b"this is not an SQLite database at all" * 100
    database.write_bytes(garbage)
    with pytest.raises(HistoryCorrupt) as damaged:
        History(database)
    moved = damaged.value.moved_to
    assert moved is not None and moved.read_bytes() == garbage
    assert str(moved) in damaged.value.message
    with History(database) as fresh:  # the next start begins a new history
        assert fresh.count() == 0


def test_a_locked_database_is_one_clear_error(tmp_path: Path) -> None:
    database = tmp_path / "history.sqlite3"
    History(database).close()
    locker = Locker(database)
    try:
        # Opening only reads; the first write waits, then says so plainly.
        with History(database, busy_timeout=0.2) as history, pytest.raises(HistoryLocked) as locked:
            history.create_job(JobRequest("x", "1024_1024"))
        assert "locked by another process" in locked.value.message
        assert locked.value.exit_code == 75
    finally:
        locker.release()


async def test_an_unwritable_folder_parks_the_job_never_fails_it(rig: Rig, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    job = await rig.engine.follow(rig.job(output_dir=blocked / "sub"))
    assert job.state is JobState.STALLED and job.request_id and job.exit_code == 73
    assert "can't save the image" in (job.error or "")
    blocked.unlink()
    again = await rig.engine.follow(job.id)
    assert again.state is JobState.COMPLETED and len(rig.images(blocked / "sub")) == 1


async def test_a_failing_subscriber_never_stops_a_job(rig: Rig) -> None:
    def broken_pipe(event: JobEvent) -> None:
        raise BrokenPipeError("stderr is gone")

    rig.engine.subscribe(broken_pipe)
    job = await rig.engine.follow(rig.job())
    assert job.state is JobState.COMPLETED and rig.server.stats.submits == 1


async def test_a_request_id_another_job_has_is_unknown_not_a_crash(rig: Rig) -> None:
    first = await rig.engine.follow(rig.job("first"))
    rig.server.force("submit", Fault.REPEAT_REQUEST_ID)
    second = await rig.engine.follow(rig.job("second"))
    assert first.state is JobState.COMPLETED
    assert second.state is JobState.UNKNOWN and first.request_id in (second.error or "")
    assert rig.history.get(first.id).request_id == first.request_id  # untouched
