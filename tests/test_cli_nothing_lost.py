"""Issue 7 with real processes: kills, races, closed pipes, hostile servers, local trouble."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import (
    FAST,
    SLOW,
    TOKEN,
    cli,
    first_job,
    history_of,
    images_in,
    spawn,
    temps_in,
    wait_until,
)
from test_nothing_lost import Locker

from tui.models import JobState
from tui.offline.faults import Fault
from tui.offline.server import OfflineServer


def test_run_killed_mid_download_resumes_into_its_own_folder(
    offline_server: OfflineServer, env: dict[str, str], app_home: Path, tmp_path: Path
) -> None:
    chosen = tmp_path / "chosen"
    offline_server.force("files", Fault.DRIP)  # the first download crawls, byte by byte
    proc = spawn("run", "killed while downloading", "--output-dir", str(chosen),
                 "--api-base", offline_server.base_url, "--poll-interval", "0.05", env=env)
    try:
        # The temp file exists before the GET leaves: wait until the server drips it.
        wait_until(lambda: bool(temps_in(chosen))
                   and offline_server.stats.faults_applied.get("drip", 0) >= 1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    # No --output-dir this time: the job remembers where its images go.
    done = cli("resume", "--api-base", offline_server.base_url, "--poll-interval", "0.05", env=env)
    assert done.returncode == 0, done.stderr
    assert len(images_in(chosen)) == 1 and temps_in(chosen) == []
    assert images_in(app_home / "output") == []
    assert offline_server.stats.submits == 1


def test_resume_output_dir_still_overrides(
    offline_server: OfflineServer, env: dict[str, str], app_home: Path, tmp_path: Path
) -> None:
    offline_server.timing = SLOW
    done = cli("run", "later", "--no-wait", "--json", "--output-dir", str(tmp_path / "first"),
               "--api-base", offline_server.base_url, env=env)
    request_id = json.loads(done.stdout)["request_id"]
    offline_server.advance(request_id, "completed")
    moved = cli("resume", "--output-dir", str(tmp_path / "second"),
                "--api-base", offline_server.base_url, "--poll-interval", "0.05", env=env)
    assert moved.returncode == 0, moved.stderr
    assert len(images_in(tmp_path / "second")) == 1 and images_in(tmp_path / "first") == []


def test_two_resumers_started_together_download_once(
    offline_server: OfflineServer, env: dict[str, str], app_home: Path
) -> None:
    offline_server.timing = SLOW
    ids = []
    for n in range(3):
        done = cli("run", f"raced {n}", "--no-wait", "--json",
                   "--api-base", offline_server.base_url, env=env)
        ids.append(json.loads(done.stdout)["request_id"])
    for request_id in ids:
        offline_server.advance(request_id, "completed")
    racers = [spawn("resume", "--api-base", offline_server.base_url, "--poll-interval", "0.05",
                    env=env) for _ in range(2)]
    results = [proc.communicate(timeout=120) for proc in racers]
    assert [proc.returncode for proc in racers] == [0, 0], results
    assert len(images_in(app_home / "output")) == 3  # never x.png and x-1.png
    assert offline_server.stats.downloads == 3 and offline_server.stats.submits == 3


def test_resume_leaves_a_job_the_app_is_following_alone(
    offline_server: OfflineServer, env: dict[str, str], app_home: Path
) -> None:
    """A job owned by a live process (here: this test process, as an app would be)."""
    from tui.storage.owners import owner_for

    offline_server.timing = SLOW
    done = cli("run", "the app has it", "--no-wait", "--json",
               "--api-base", offline_server.base_url, env=env)
    request_id = json.loads(done.stdout)["request_id"]
    with history_of(app_home) as history:
        job = history.find_by_request_id(request_id)
        assert job is not None
        history.update(job.id, owner=owner_for(os.getpid()))
    offline_server.advance(request_id, "completed")
    other = cli("resume", "--api-base", offline_server.base_url, "--poll-interval", "0.05", env=env)
    assert other.returncode == 0 and "nothing to resume" in other.stderr
    assert offline_server.stats.downloads == 0


def test_echoed_token_reaches_no_output_and_no_file(env: dict[str, str], app_home: Path) -> None:
    with OfflineServer(timing=FAST, require_token=TOKEN).start() as server:
        server.force("status", Fault.ECHO_TOKEN, Fault.ECHO_TOKEN)
        server.force("result", Fault.ECHO_TOKEN)
        done = cli("run", "echo", "--json", "--api-base", server.base_url,
                   "--poll-interval", "0.05", env=env)
    assert done.returncode == 1, done.stderr
    assert "[token]" in json.loads(done.stdout)["error"]
    assert TOKEN not in done.stdout + done.stderr
    for path in app_home.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_json_output_escapes_c1_controls(env: dict[str, str], app_home: Path) -> None:
    hostile = "https://cdn.runcomfy.net/a\u009b31mred\u0085\u202eevil.png"
    with history_of(app_home) as history:
        from tui.models import JobRequest

        job = history.create_job(JobRequest("p", "1024_1024"))
        history.update(job.id, output_urls=(hostile,))
    done = cli("history", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert not any(0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in done.stdout)
    assert json.loads(done.stdout.splitlines()[0])["output"] == [hostile]


def test_closed_stderr_never_takes_the_job_down(
    offline_server: OfflineServer, env: dict[str, str], app_home: Path
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `… 2>&1 | head -1` once head has gone
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "run", "nobody reads stderr", "--json",
         "--api-base", offline_server.base_url, "--poll-interval", "0.05"],
        env=env, stdout=subprocess.PIPE, stderr=write_end, stdin=subprocess.DEVNULL, text=True,
    )
    os.close(write_end)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert json.loads(out)["status"] == "completed"
    job = first_job(app_home)
    assert job.state is JobState.COMPLETED and offline_server.stats.submits == 1


def test_output_dir_that_is_a_file_is_one_sentence_and_nothing_sent(
    offline_server: OfflineServer, env: dict[str, str], tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    done = cli("run", "x", "--output-dir", str(blocker), "--api-base", offline_server.base_url,
               env=env)
    assert done.returncode == 73
    assert done.stderr.strip().count("\n") == 0 and "is a file" in done.stderr
    assert "Traceback" not in done.stderr and blocker.read_text() == "mine"
    assert offline_server.stats.submits == 0


def test_damaged_database_is_moved_aside_named_and_nothing_sent(
    offline_server: OfflineServer, env: dict[str, str], app_home: Path
) -> None:
    database = app_home / "data" / "history.sqlite3"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"garbage, not a database" * 200)
    done = cli("run", "x", "--api-base", offline_server.base_url, env=env)
    assert done.returncode == 74 and "Traceback" not in done.stderr
    moved = [p for p in database.parent.iterdir() if ".damaged-" in p.name]
    assert len(moved) == 1 and moved[0].name in done.stderr
    assert moved[0].read_bytes() == b"garbage, not a database" * 200
    assert offline_server.stats.submits == 0
    again = cli("run", "x", "--api-base", offline_server.base_url, "--poll-interval", "0.05",
                env=env)
    assert again.returncode == 0, again.stderr


def test_locked_database_at_start_is_one_sentence_and_nothing_sent(
    offline_server: OfflineServer, env: dict[str, str], app_home: Path
) -> None:
    cli("history", env=env)  # creates the database
    locker = Locker(app_home / "data" / "history.sqlite3")
    try:
        done = cli("run", "x", "--api-base", offline_server.base_url, env=env)
    finally:
        locker.release()
    assert done.returncode == 75, done.stderr
    assert "locked by another process" in done.stderr and "Traceback" not in done.stderr
    assert offline_server.stats.submits == 0
    with sqlite3.connect(app_home / "data" / "history.sqlite3") as raw:
        assert raw.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 0


def test_progress_printer_always_prints_an_unsaved_request_id() -> None:
    import io

    from tui.cli.job_report import ProgressPrinter
    from tui.jobs import JobEvent
    from tui.models import Job, JobRequest

    stream = io.StringIO()
    job = Job(1, JobRequest("p", "1024_1024"), JobState.STALLED, 0.0, 0.0, request_id="rid-keep-me")
    printer = ProgressPrinter(stream)
    event = JobEvent(job=job, message="could not be saved", unsaved_request_id="rid-keep-me")
    printer(event)
    printer(event)
    lines = stream.getvalue().splitlines()
    assert sum("request id rid-keep-me" in line and "keep it" in line for line in lines) == 1
