"""Issue 9, engine side: following many jobs costs the UI loop next to nothing.

A poll that answers what is already known writes nothing and publishes nothing; the writes that
remain run on the book's writer thread, in order, durable before the engine goes on; saving an
image (verify, recipe, fsync, link) runs on a saving thread. Real loopback server, real SQLite
file (watched from a second connection), real files.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from conftest import SLOW, TEST_TOKEN, Rig
from PIL import Image
from pydantic import SecretStr

from tui.api.client import ModelApiClient
from tui.api.retry import RetryPolicy
from tui.iterate.recipe import Recipe, embed_recipe, read_recipe
from tui.jobs.writer import HistoryWriter
from tui.models import JobRequest, JobState
from tui.offline.faults import Fault
from tui.offline.server import OfflineServer
from tui.storage.downloads import Downloader
from tui.storage.errors import StorageError
from tui.storage.history import History
from tui.storage.previews import write_scaled
from tui.trust.token import Token


def _token() -> Token:
    return Token(SecretStr(TEST_TOKEN), "RUNCOMFY_TOKEN")


class Watcher:
    """A second connection to the history file: sees what was committed, and when."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)

    def version(self) -> int:
        """Changes when any other connection commits (SQLite's ``data_version``)."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def rev(self) -> int:
        return int(self.conn.execute("SELECT value FROM counters WHERE name = 'rev'").fetchone()[0])

    def state(self, job_id: int) -> str:
        return str(self.conn.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()[0])

    def close(self) -> None:
        self.conn.close()


async def _polls(rig: Rig, more: int) -> None:
    """Wait until the server has answered ``more`` further status polls."""
    target = rig.server.stats.status_gets + more
    async with asyncio.timeout(20):
        while rig.server.stats.status_gets < target:
            await asyncio.sleep(0.01)


# ------------------------------------------------------------------ unchanged polls


async def test_a_poll_that_changes_nothing_writes_nothing_and_publishes_nothing(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    offline_server.timing = SLOW  # queued for ever, same position, until advanced
    rig = Rig(offline_server, tmp_path, poll=0.01)
    watcher = Watcher(rig.history.path)
    try:
        job_id = rig.job()
        following = asyncio.ensure_future(rig.engine.follow(job_id))
        await rig.until(lambda: rig.history.get(job_id).state is JobState.QUEUED)
        await _polls(rig, 2)  # the first answer (its queue position) is written, then settled
        version, rev, events = watcher.version(), watcher.rev(), len(rig.events)
        await _polls(rig, 15)
        assert watcher.version() == version and watcher.rev() == rev  # not one commit
        assert len(rig.events) == events  # not one event
        assert rig.engine.book.live(job_id).polls >= 15  # answered here too (the last may be on its way)

        # A real change is written (durably) and published at once.
        offline_server.advance(rig.history.get(job_id).request_id or "", "in_progress")
        await rig.until(lambda: rig.events[-1].job.state is JobState.RUNNING)
        assert watcher.state(job_id) == "running" and watcher.rev() > rev
        started = rig.history.get(job_id).started_at
        version, events = watcher.version(), len(rig.events)
        await _polls(rig, 10)
        assert watcher.version() == version and len(rig.events) == events
        assert rig.history.get(job_id).started_at == started  # not rewritten per poll

        offline_server.advance(rig.history.get(job_id).request_id or "", "completed")
        final = await asyncio.wait_for(following, 20)
        assert final.state is JobState.COMPLETED and len(rig.images()) == 1
    finally:
        watcher.close()
        await rig.aclose()


async def test_the_end_of_an_outage_is_published_even_when_the_status_is_the_same(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    offline_server.timing = SLOW
    one_try = RetryPolicy(max_attempts=1, call_deadline=10.0)
    rig = Rig(offline_server, tmp_path, poll=0.01, policy=one_try)
    try:
        job_id = rig.job()
        following = asyncio.ensure_future(rig.engine.follow(job_id))
        await rig.until(lambda: rig.history.get(job_id).state is JobState.QUEUED)
        await _polls(rig, 2)
        offline_server.force("status", Fault.RESET, Fault.RESET)
        await rig.until(lambda: rig.events[-1].reconnecting)
        # The answers after the outage say "in_queue" as before; the card must still learn
        # that the outage is over.
        await rig.until(lambda: not rig.events[-1].reconnecting and not rig.events[-1].message)
        assert rig.events[-1].job.state is JobState.QUEUED
        following.cancel()
        with pytest.raises(asyncio.CancelledError):
            await following
    finally:
        await rig.aclose()


async def test_a_cancel_while_queued_is_seen_at_once_and_recorded_as_asked(rig: Rig) -> None:
    rig.server.timing = SLOW
    job_id = rig.job()
    following = asyncio.ensure_future(rig.engine.follow(job_id))
    await rig.until(lambda: rig.history.get(job_id).state is JobState.QUEUED)
    await _polls(rig, 2)
    assert await rig.engine.cancel(job_id) is not None
    final = await asyncio.wait_for(following, 20)
    assert final.state is JobState.CANCELLED
    assert final.error is None  # the follower read that the user asked (not "on the server")


# ------------------------------------------------------------------ the writer


def _job(history: History, prompt: str = "a red kite") -> int:
    return history.create_job(JobRequest(prompt, "1024_1024", ())).id


async def test_writes_run_off_the_loop_in_order_and_are_durable_when_awaited(
    tmp_path: Path,
) -> None:
    history = History(tmp_path / "h.sqlite3")
    watcher = Watcher(history.path)
    writer = HistoryWriter(history)
    threads: list[int] = []
    try:
        ids = [_job(history, f"job {n}") for n in range(30)]

        def write(job_id: int, position: int) -> int:
            threads.append(threading.get_ident())
            history.update(job_id, queue_position=position)
            return position

        # Many at once: they are committed in groups, each caller gets its own answer.
        answers = await asyncio.gather(*(writer.run(write, i, n) for n, i in enumerate(ids)))
        assert answers == list(range(30))
        assert set(threads) != {threading.get_ident()}
        # Durable and visible to another connection the moment the await returned.
        rows = watcher.conn.execute("SELECT queue_position FROM jobs ORDER BY id").fetchall()
        assert [r[0] for r in rows] == list(range(30))
        assert writer.batches >= 1

        # Order is kept: the later write of one field wins.
        await asyncio.gather(*(writer.run(history.update, ids[0], error=f"e{n}") for n in range(20)))
        assert history.get(ids[0]).error == "e19"

        # One illegal move in a batch undoes itself only.
        results = await asyncio.gather(
            writer.run(history.update, ids[1], state=JobState.COMPLETED),  # PENDING → COMPLETED
            writer.run(history.update, ids[2], error="kept"),
            return_exceptions=True,
        )
        assert isinstance(results[0], ValueError)
        assert history.get(ids[1]).state is JobState.PENDING
        assert history.get(ids[2]).error == "kept"
    finally:
        writer.close()
        watcher.close()
        history.close()


def test_a_batch_the_database_refuses_keeps_nothing(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3", busy_timeout=0.1)
    job_id = _job(history)
    other = sqlite3.connect(history.path, isolation_level=None, timeout=0.1)
    try:
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StorageError), history.batch():
            history.update(job_id, error="never kept")
        other.execute("ROLLBACK")
        with history.batch():
            history.update(job_id, error="first")
            with pytest.raises(ValueError):
                history.update(job_id, state=JobState.COMPLETED)
            history.update(job_id, queue_position=4)
        job = history.get(job_id)
        assert (job.error, job.queue_position, job.state) == ("first", 4, JobState.PENDING)
    finally:
        other.close()
        history.close()


async def test_a_locked_database_fails_each_write_on_its_own_not_the_batch(tmp_path: Path) -> None:
    """When the group's transaction can't be had, every write is tried alone (same errors as
    without batching); once the lock is gone they succeed."""
    history = History(tmp_path / "h.sqlite3", busy_timeout=0.05)
    writer = HistoryWriter(history)
    ids = [_job(history, f"job {n}") for n in range(5)]
    other = sqlite3.connect(history.path, isolation_level=None, timeout=0.1)
    try:
        other.execute("BEGIN EXCLUSIVE")
        results = await asyncio.gather(
            *(writer.run(history.update, i, error="x") for i in ids), return_exceptions=True
        )
        assert all(isinstance(r, StorageError) for r in results)
        other.execute("ROLLBACK")
        await asyncio.gather(*(writer.run(history.update, i, error="y") for i in ids))
        assert {history.get(i).error for i in ids} == {"y"}
    finally:
        other.close()
        writer.close()
        history.close()


# ------------------------------------------------------------------ saving an image


async def test_saving_runs_off_the_loop_verifies_and_leaves_no_temp_file(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    loop_thread = threading.get_ident()
    seen: dict[str, int] = {}
    previews = tmp_path / "previews"
    rig = Rig(offline_server, tmp_path)
    hook = rig.engine.follower.before_commit
    assert hook is not None

    def before_commit(job, temp: Path) -> None:  # type: ignore[no-untyped-def]
        seen["recipe"] = threading.get_ident()
        hook(job, temp)

    def after_save(path: Path, pixels: Image.Image) -> None:
        seen["saved"] = threading.get_ident()
        seen["size"] = path.stat().st_size
        seen["pixels"] = pixels.width * pixels.height
        # The small copies a front end asks for, from the pixels already decoded.
        write_scaled(pixels, {64: previews / "64.png", 16: previews / "16.png"})

    rig.engine.follower.before_commit = before_commit
    rig.downloader.after_save = after_save
    try:
        job = await rig.engine.follow(rig.job())
        assert job.state is JobState.COMPLETED
        [path] = [Path(f) for f in job.files]
        assert seen["recipe"] != loop_thread and seen["saved"] != loop_thread
        assert seen["size"] == path.stat().st_size
        with Image.open(path) as saved:
            assert seen["pixels"] == saved.width * saved.height
            wide = saved.width >= saved.height
        with Image.open(previews / "64.png") as big, Image.open(previews / "16.png") as small:
            assert max(big.size) == 64 and max(small.size) == 16
            assert (big.width >= big.height) == wide
        assert sorted(p.name for p in previews.iterdir()) == ["16.png", "64.png"]  # no temp
        recipe = read_recipe(path)
        assert recipe is not None and recipe.request_id == job.request_id
        assert rig.temps() == []
    finally:
        await rig.aclose()


async def test_an_image_cut_short_is_refused_on_the_saving_thread(rig: Rig) -> None:
    rig.server.force("files", Fault.CUT_IMAGE, Fault.CUT_IMAGE, Fault.CUT_IMAGE)
    job = await rig.engine.follow(rig.job())
    assert job.state is JobState.COMPLETED  # the fourth try is whole
    assert len(rig.images()) == 1 and rig.temps() == []
    assert rig.server.stats.downloads >= 4


async def test_cancelling_a_download_while_it_saves_leaves_no_temp_file(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    started, release = threading.Event(), threading.Event()

    def slow_hook(temp: Path) -> None:  # holds the saving thread until told
        started.set()
        release.wait(60)

    offline_server.timing = SLOW
    client = ModelApiClient(offline_server.base_url, _token(), policy=RetryPolicy(max_attempts=1))
    downloader = Downloader(api_base=offline_server.base_url)
    try:
        submitted = await client.submit(JobRequest("a kite", "1024_1024", ()))
        offline_server.advance(submitted.request_id, "completed")
        [url] = (await client.result(submitted.request_id)).output_urls
        saving = asyncio.ensure_future(downloader.download(url, out, "x.png", before_commit=slow_hook))
        await asyncio.to_thread(started.wait, 60)
        assert [p.name for p in out.iterdir() if p.name.startswith(".")]  # the temp file
        saving.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await saving
        async with asyncio.timeout(60):  # the saving thread finishes and cleans up on its own
            while any(p.name.startswith(".") for p in out.iterdir()):
                await asyncio.sleep(0.01)
    finally:
        release.set()
        await client.aclose()
        await downloader.aclose()


def test_recipe_written_into_a_temp_file_in_place_equals_the_atomic_rewrite(
    tmp_path: Path,
) -> None:
    source = tmp_path / "a.png"
    Image.new("RGB", (32, 16), (10, 200, 30)).save(source)
    recipe = Recipe.for_request(JobRequest("a kite", "1024_1024", ()), "req_1")
    atomic, in_place = tmp_path / "atomic.png", tmp_path / ".in-place.part"
    atomic.write_bytes(source.read_bytes())
    in_place.write_bytes(source.read_bytes())
    assert embed_recipe(atomic, recipe) and embed_recipe(in_place, recipe, durable=False)
    assert in_place.read_bytes() == atomic.read_bytes()
    # Again, over the chunks already there (replaced, not added): still the same bytes.
    other = Recipe.for_request(JobRequest("a longer prompt for a kite", "1024_1024", ()), "req_2")
    assert embed_recipe(atomic, other) and embed_recipe(in_place, other, durable=False)
    assert in_place.read_bytes() == atomic.read_bytes()
    found = read_recipe(in_place)
    assert found is not None and found.request_id == "req_2"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".in-place.part", "a.png", "atomic.png"]


# ------------------------------------------------------------------ polls in flight


async def test_polls_in_flight_are_bounded_and_the_rest_wait_their_turn(
    offline_server: OfflineServer,
) -> None:
    offline_server.timing = SLOW
    client = ModelApiClient(
        offline_server.base_url, _token(),
        policy=RetryPolicy(max_attempts=1, call_deadline=30.0), polls_in_flight=2,
    )
    try:
        submitted = await client.submit(JobRequest("a kite", "1024_1024", ()))
        before = offline_server.stats.status_gets
        offline_server.force("status", *([Fault.HANG] * 5))
        calls = [asyncio.ensure_future(client.status(submitted.request_id)) for _ in range(5)]
        async with asyncio.timeout(10):
            while offline_server.stats.status_gets < before + 2:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # time enough for more to arrive, were they sent
        assert offline_server.stats.status_gets == before + 2
        for call in calls:
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
    finally:
        await client.aclose()


def test_scaled_copies_are_upright_fitted_and_never_overwritten(tmp_path: Path) -> None:
    picture = Image.new("RGB", (300, 100), (250, 20, 20))
    exif = picture.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view": shown 100 wide, 300 high
    source = tmp_path / "turned.jpg"
    picture.save(source, exif=exif)
    keep = tmp_path / "keep.png"
    keep.write_bytes(b"already there")
    with Image.open(source) as image:
        image.load()
        written = write_scaled(image, {120: tmp_path / "a.png", 30: tmp_path / "b.png", 60: keep})
    assert written == [tmp_path / "a.png", tmp_path / "b.png"]
    with Image.open(tmp_path / "a.png") as a, Image.open(tmp_path / "b.png") as b:
        assert a.size == (40, 120) and b.size == (10, 30) and a.mode == "RGB"
    assert keep.read_bytes() == b"already there"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
