"""The job engine against the real offline backend on loopback, a real SQLite file, real files."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from conftest import Rig

from tui.iterate.recipe import read_recipe
from tui.jobs import CancelOutcome
from tui.models import JobState
from tui.offline.faults import Fault, FaultConfig, Timing
from tui.offline.server import OfflineServer

SLOW = Timing(queue_seconds=1e9, run_seconds=1e9, queue_ahead=2)


async def test_text_to_image_end_to_end(rig: Rig) -> None:
    job_id = rig.job(size="1536_1024")
    job = await rig.engine.follow(job_id)
    assert job.state is JobState.COMPLETED
    assert job.request_id and rig.server.stats.submits == 1
    [path] = [Path(f) for f in job.files]
    assert path.parent == rig.output_dir and path.exists()
    from PIL import Image

    with Image.open(path) as image:
        assert image.size == (1536, 1024)
    recipe = read_recipe(path)
    assert recipe is not None and recipe.request_id == job.request_id
    states = [e.job.state for e in rig.events if e.job.id == job_id]
    for expected in (JobState.PENDING, JobState.SUBMITTING, JobState.QUEUED, JobState.DOWNLOADING):
        assert expected in states
    assert rig.temps() == []


async def test_edit_end_to_end_sends_images(rig: Rig) -> None:
    job_id = rig.job("keep the face; make the background blue",
                     images=["https://example.com/a.png", "https://example.com/b.png"])
    job = await rig.engine.follow(job_id)
    assert job.state is JobState.COMPLETED
    assert rig.server.stats.submits_by_endpoint.get("edit") == 1
    assert job.request.size == "auto"


async def test_submit_reset_after_accept_is_unknown_and_never_resubmitted(rig: Rig) -> None:
    rig.server.force("submit", Fault.RESET_AFTER_ACCEPT)
    job = await rig.engine.follow(rig.job())
    assert job.state is JobState.UNKNOWN
    assert "may have run and been billed" in (job.error or "")
    assert rig.server.stats.submits == 1


async def test_submit_5xx_is_unknown_with_one_post(rig: Rig) -> None:
    rig.server.force("submit", Fault.HTTP_503)
    job = await rig.engine.follow(rig.job())
    assert job.state is JobState.UNKNOWN
    assert job.exit_code == 69
    assert rig.server.stats.submits == 1


async def test_submit_429_is_retried_then_completes(rig: Rig) -> None:
    rig.server.force("submit", Fault.RATE_LIMIT_429)
    job = await rig.engine.follow(rig.job())
    assert job.state is JobState.COMPLETED
    assert rig.server.stats.submits == 2


async def test_schema_mismatch_fails_locally_nothing_sent(rig: Rig) -> None:
    # Around the local rules on purpose: the strict schema still refuses it before sending.
    from tui.models import JobRequest

    job = rig.engine.create(JobRequest("x", "2048_2048"))
    final = await rig.engine.follow(job.id)
    assert final.state is JobState.FAILED and final.exit_code == 65
    assert rig.server.stats.submits == 0


async def test_server_422_is_a_failure_not_unknown(rig: Rig) -> None:
    """The server's own 422 (here: a prompt the server finds too long) is a clean refusal."""
    import httpx

    answer = httpx.post(f"{rig.server.base_url}/models/openai/gpt-image-2/text-to-image",
                        json={"prompt": "x", "size": "2048_2048"})
    assert answer.status_code == 422 and answer.json()["error_code"] == 422001


async def test_network_outage_while_polling_reconnects(rig: Rig) -> None:
    rig.server.force("status", Fault.RESET, Fault.RESET, Fault.RESET, Fault.RESET, Fault.RESET,
                     Fault.RESET, Fault.RESET, Fault.HTTP_502, Fault.HTTP_502)
    job_id = rig.job()
    job = await rig.engine.follow(job_id)
    assert job.state is JobState.COMPLETED
    assert any(e.reconnecting or (e.message or "").startswith("retrying") for e in rig.events)
    assert rig.server.stats.submits == 1


async def test_unknown_status_is_shown_then_followed(rig: Rig) -> None:
    rig.server.force("status", Fault.UNKNOWN_STATUS, Fault.UNKNOWN_STATUS)
    job_id = rig.job()
    job = await rig.engine.follow(job_id)
    assert job.state is JobState.COMPLETED
    assert any("unknown status 'warming_up'" in m for m in rig.messages(job_id))


async def test_endless_unknown_status_parks_the_job_resumable(rig: Rig) -> None:
    rig.server.faults = FaultConfig(rate_unknown_status=1.0)
    job = await rig.engine.follow(rig.job())
    assert job.state is JobState.STALLED and job.request_id
    assert job.state.is_resumable


async def test_hostile_failure_text_is_sanitised(rig: Rig) -> None:
    rig.server.force("submit", Fault.HOSTILE_FAILURE)
    job_id = rig.job()
    job = await rig.engine.follow(job_id)
    assert job.state is JobState.FAILED
    assert job.error and "\x1b" not in job.error and "\x07" not in job.error
    for message in rig.messages(job_id):
        assert "\x1b" not in message


async def test_completed_without_url_is_an_error_keeping_request_id(rig: Rig) -> None:
    rig.server.faults = FaultConfig(output_shape="empty")
    job = await rig.engine.follow(rig.job())
    assert job.state is JobState.FAILED and job.request_id
    assert "no image URL" in (job.error or "")


async def test_untrusted_output_urls_are_listed_not_fetched(rig: Rig) -> None:
    rig.server.faults = FaultConfig(output_shape="untrusted")
    job = await rig.engine.follow(rig.job())
    assert job.state is JobState.COMPLETED
    assert job.files == () and job.output_urls
    assert "not on a trusted host" in (job.error or "")
    assert rig.images() == []


@pytest.mark.parametrize("shape", ["string", "nested", "dict", "mixed", "images"])
async def test_odd_output_shapes_give_one_file(rig: Rig, shape: str) -> None:
    rig.server.faults = FaultConfig(output_shape=shape)
    job = await rig.engine.follow(rig.job())
    assert job.state is JobState.COMPLETED
    assert len(job.files) == 1 and len(rig.images()) == 1


async def test_truncated_download_is_retried_into_one_file(rig: Rig) -> None:
    rig.server.force("files", Fault.TRUNCATE)
    job = await rig.engine.follow(rig.job())
    assert job.state is JobState.COMPLETED
    assert len(rig.images()) == 1 and rig.temps() == []


async def test_non_image_download_fails_without_partial_file(rig: Rig) -> None:
    rig.server.force("files", Fault.NOT_IMAGE)
    job = await rig.engine.follow(rig.job())
    assert job.state is JobState.FAILED and "download failed" in (job.error or "")
    assert rig.images() == [] and rig.temps() == []


async def test_cancel_while_queued(rig: Rig) -> None:
    rig.server.timing = SLOW
    job_id = rig.job()
    follower = asyncio.ensure_future(rig.engine.follow(job_id))
    await rig.until(lambda: rig.history.get(job_id).state is JobState.QUEUED
                   and rig.history.get(job_id).request_id is not None)
    assert await rig.engine.cancel(job_id) is CancelOutcome.CANCELLED
    job = await asyncio.wait_for(follower, 60)
    assert job.state is JobState.CANCELLED
    assert rig.server.stats.cancels == 1
    assert rig.images() == []


async def test_cancel_running_is_not_cancellable_and_image_still_saved(rig: Rig) -> None:
    rig.server.timing = SLOW
    job_id = rig.job()
    follower = asyncio.ensure_future(rig.engine.follow(job_id))
    await rig.until(lambda: rig.history.get(job_id).request_id is not None)
    request_id = rig.history.get(job_id).request_id
    assert request_id
    rig.server.advance(request_id, "in_progress")
    await rig.until(lambda: rig.history.get(job_id).state is JobState.RUNNING)
    assert await rig.engine.cancel(job_id) is CancelOutcome.NOT_CANCELLABLE
    assert any("will finish and be billed" in m for m in rig.messages(job_id))
    rig.server.advance(request_id, "completed")
    job = await asyncio.wait_for(follower, 60)
    assert job.state is JobState.COMPLETED and len(rig.images()) == 1


async def test_cancel_that_loses_the_race_still_saves(rig: Rig) -> None:
    rig.server.timing = SLOW
    job_id = rig.job()
    follower = asyncio.ensure_future(rig.engine.follow(job_id))
    await rig.until(lambda: rig.history.get(job_id).request_id is not None)
    request_id = rig.history.get(job_id).request_id
    assert request_id
    rig.server.advance(request_id, "completed")  # finished before our cancel arrives
    outcome = await rig.engine.cancel(job_id)
    assert outcome in {CancelOutcome.NOT_CANCELLABLE, CancelOutcome.NOTHING_TO_CANCEL}
    job = await asyncio.wait_for(follower, 60)
    assert job.state is JobState.COMPLETED and len(rig.images()) == 1


async def test_cancel_before_sending_sends_nothing(rig: Rig) -> None:
    job_id = rig.job()
    assert await rig.engine.cancel(job_id) is CancelOutcome.CANCELLED
    job = await rig.engine.follow(job_id)
    assert job.state is JobState.CANCELLED
    assert rig.server.stats.submits == 0


async def test_recover_settles_dead_jobs_and_resumes_by_request_id(rig: Rig) -> None:
    rig.server.timing = SLOW
    # A job whose submit landed, then the process died (simulated by a dead owner pid).
    job_id = rig.job()
    await rig.engine.submit(job_id)
    sent = rig.history.get(job_id)
    assert sent.request_id
    dead = {"owner": str(2**22 + 12345), "backend": "test"}
    rig.history.update(job_id, **dead)
    never_sent = rig.job("never sent")
    rig.history.update(never_sent, **dead)
    mid_submit = rig.job("mid submit")
    rig.history.update(mid_submit, state=JobState.SUBMITTING, **dead)

    resumed = rig.engine.recover()
    assert [j.id for j in resumed] == [job_id] and resumed[0].resumed
    assert rig.history.get(never_sent).state is JobState.NOT_SENT
    assert rig.history.get(mid_submit).state is JobState.UNKNOWN
    rig.server.advance(sent.request_id, "completed")
    job = await rig.engine.follow(job_id)
    assert job.state is JobState.COMPLETED
    assert rig.server.stats.submits == 1


async def test_recover_leaves_jobs_of_live_processes_alone(rig: Rig) -> None:
    import os

    from tui.storage.owners import owner_for

    job_id = rig.job()
    rig.history.update(job_id, owner=owner_for(os.getppid()), backend="test")
    assert rig.engine.recover() == []
    assert rig.history.get(job_id).state is JobState.PENDING


async def test_rate_limited_poll_waits_and_says_so(rig: Rig) -> None:
    rig.server.force("status", *([Fault.RATE_LIMIT_429] * 7))
    job_id = rig.job()
    job = await rig.engine.follow(job_id)
    assert job.state is JobState.COMPLETED
    assert any("rate-limited" in m or "retrying" in m for m in rig.messages(job_id))


@pytest.mark.slow
async def test_soak_100_concurrent_jobs_with_faults(offline_server: OfflineServer, tmp_path: Path) -> None:
    """≥100 jobs at once, ~20% of requests faulty: every image saved once, no temp files left."""
    offline_server.timing = Timing(queue_seconds=0.1, run_seconds=0.1, queue_ahead=2)
    offline_server.faults = FaultConfig(
        seed=7, rate_5xx=0.06, rate_429=0.04, rate_reset=0.04, rate_truncate=0.04,
        rate_unknown_status=0.03, retry_after=0.02,
    )
    rig = Rig(offline_server, tmp_path, poll=0.05, max_concurrent_submissions=16)
    try:
        ids = [rig.job(f'poster number {n} that reads "N{n}"') for n in range(100)]
        started = time.monotonic()
        finals = await asyncio.wait_for(
            asyncio.gather(*(rig.engine.follow(i) for i in ids)), timeout=120
        )
        elapsed = time.monotonic() - started
    finally:
        await rig.aclose()
    states = {j.id: j.state for j in finals}
    assert all(s is JobState.COMPLETED for s in states.values()), states
    files = [Path(f) for j in finals for f in j.files]
    assert len(files) == 100 and len(set(files)) == 100
    assert len(rig.images()) == 100 and rig.temps() == []
    # Exactly one job created on the server per local job: 429s were refused, never duplicated.
    assert len(offline_server._simulation.request_ids()) == 100
    assert {j.request_id for j in finals} == set(offline_server._simulation.request_ids())
    assert sum(offline_server.stats.faults_applied.values()) >= 50  # the faults really happened
    assert elapsed < 60, f"soak took {elapsed:.1f} s"
