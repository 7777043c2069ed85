"""Headless commands as real subprocesses against the real loopback server.

Covers exit codes, the never-resubmit rule across SIGKILL (mid-poll and mid-download) and
`resume`, Ctrl-C cancelling the remote request, and the token never leaking anywhere.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import (
    SLOW,
    TOKEN,
    cli,
    first_job,
    images_in,
    spawn,
    temps_in,
    wait_until,
)

from tui.models import JobState
from tui.offline.faults import Fault, FaultConfig, Timing
from tui.offline.server import OfflineServer


def test_run_text_to_image_json(offline_server: OfflineServer, env: dict[str, str], app_home: Path) -> None:
    done = cli("run", 'a sign that reads "OPEN"', "--size", "1024_1536", "--json",
               "--api-base", offline_server.base_url, "--poll-interval", "0.05", env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "completed" and result["request_id"]
    assert len(result["files"]) == 1 and Path(result["files"][0]).exists()
    assert "queued" in done.stderr  # progress goes to stderr
    assert offline_server.stats.submits == 1


def test_run_edit_with_references(offline_server: OfflineServer, env: dict[str, str]) -> None:
    done = cli("run", "keep the pose; swap the background", "--image", "https://example.com/a.png",
               "--image", "https://example.com/a.png", "--json",
               "--api-base", offline_server.base_url, "--poll-interval", "0.05", env=env)
    assert done.returncode == 0, done.stderr
    assert "repeats an earlier reference" in done.stderr
    assert offline_server.stats.submits_by_endpoint.get("edit") == 1


@pytest.mark.parametrize(
    "args",
    [
        ("run", "   "),
        ("run", "x", "--size", "2048_2048"),
        ("run", "x", "--size", "auto"),
        ("run", "x", "--image", "http://example.com/a.png"),
        ("run", "x", "--image", "https://127.0.0.1/a.png"),
        ("run", "x", *sum((("--image", f"https://example.com/{i}.png") for i in range(11)), ())),
    ],
)
def test_bad_input_exits_65_and_sends_nothing(
    offline_server: OfflineServer, env: dict[str, str], args: tuple[str, ...]
) -> None:
    done = cli(*args, "--api-base", offline_server.base_url, env=env)
    assert done.returncode == 65, done.stderr
    assert "invalid input" in done.stderr
    assert offline_server.stats.submits == 0


def test_usage_error_exits_64(env: dict[str, str]) -> None:
    assert cli("run", env=env).returncode == 64
    assert cli("frobnicate", env=env).returncode == 64


def test_no_token_exits_77_with_sign_in_help(offline_server: OfflineServer, env: dict[str, str]) -> None:
    del env["RUNCOMFY_TOKEN"]
    done = cli("run", "x", "--api-base", offline_server.base_url, env=env)
    assert done.returncode == 77
    assert "RUNCOMFY_TOKEN" in done.stderr and "runcomfy login" in done.stderr and "--offline" in done.stderr
    assert offline_server.stats.submits == 0


def test_rejected_token_exits_77_and_never_leaks(env: dict[str, str], app_home: Path) -> None:
    with OfflineServer(timing=Timing(0.05, 0.05, 1), require_token="the-right-one").start() as server:
        done = cli("run", "x", "--api-base", server.base_url, "--json", env=env)
    assert done.returncode == 77
    assert TOKEN not in done.stdout + done.stderr


def test_token_appears_nowhere_on_disk_or_screen(env: dict[str, str], app_home: Path) -> None:
    with OfflineServer(timing=Timing(0.05, 0.05, 1), require_token=TOKEN).start() as server:
        done = cli("run", 'a sign that reads "OPEN"', "--api-base", server.base_url,
                   "--poll-interval", "0.05", env=env)
        assert done.returncode == 0, done.stderr
        assert server.stats.download_auth_headers == 0  # downloads never carry the token
    assert TOKEN not in done.stdout + done.stderr
    for path in app_home.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_offline_flag_runs_the_embedded_backend(env: dict[str, str], app_home: Path) -> None:
    del env["RUNCOMFY_TOKEN"]
    done = cli("run", "x", "--offline", "--json", "--poll-interval", "0.05", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "completed"


def test_killed_mid_poll_then_resume_finishes_with_one_post(
    offline_server: OfflineServer, env: dict[str, str], app_home: Path
) -> None:
    offline_server.timing = SLOW
    proc = spawn("run", "killed while polling", "--api-base", offline_server.base_url,
                 "--poll-interval", "0.05", env=env)
    try:
        wait_until(lambda: (job := first_job(app_home)) is not None and job.request_id is not None
                   and offline_server.stats.status_gets >= 2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    job = first_job(app_home)
    assert job is not None and job.request_id and job.state is JobState.QUEUED
    offline_server.advance(job.request_id, "completed")
    done = cli("resume", "--api-base", offline_server.base_url, "--poll-interval", "0.05", env=env)
    assert done.returncode == 0, done.stderr
    assert offline_server.stats.submits == 1
    final = first_job(app_home)
    assert final.state is JobState.COMPLETED and final.resumed
    assert len(images_in(app_home / "output")) == 1


def test_killed_mid_download_then_resume_finishes_with_one_post(
    offline_server: OfflineServer, env: dict[str, str], app_home: Path
) -> None:
    offline_server.force("files", Fault.DRIP)  # the first download crawls, byte by byte
    out = app_home / "output"
    proc = spawn("run", "killed while downloading", "--api-base", offline_server.base_url,
                 "--poll-interval", "0.05", env=env)
    try:
        # The temp file exists before the GET leaves: wait until the server drips it.
        wait_until(lambda: bool(temps_in(out))
                   and offline_server.stats.faults_applied.get("drip", 0) >= 1)
        job = first_job(app_home)
        assert job is not None and job.state is JobState.DOWNLOADING
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert temps_in(out) and images_in(out) == []  # a partial temp, nothing visible
    done = cli("resume", "--api-base", offline_server.base_url, "--poll-interval", "0.05", env=env)
    assert done.returncode == 0, done.stderr
    assert offline_server.stats.submits == 1
    assert len(images_in(out)) == 1 and temps_in(out) == []
    assert first_job(app_home).state is JobState.COMPLETED


def test_ctrl_c_cancels_the_remote_request(
    offline_server: OfflineServer, env: dict[str, str], app_home: Path
) -> None:
    offline_server.timing = SLOW
    proc = spawn("run", "interrupted", "--api-base", offline_server.base_url,
                 "--poll-interval", "0.05", env=env)
    wait_until(lambda: (job := first_job(app_home)) is not None and job.request_id is not None)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 130, err
    assert offline_server.stats.cancels == 1
    assert first_job(app_home).state is JobState.CANCELLED


def test_no_wait_prints_request_id_then_resume_follows(
    offline_server: OfflineServer, env: dict[str, str], app_home: Path
) -> None:
    done = cli("run", "later", "--no-wait", "--json", "--api-base", offline_server.base_url, env=env)
    assert done.returncode == 0, done.stderr
    request_id = json.loads(done.stdout)["request_id"]
    assert request_id
    status = cli("status", request_id, "--json", "--api-base", offline_server.base_url, env=env)
    assert status.returncode == 0 and json.loads(status.stdout)["request_id"] == request_id
    resumed = cli("resume", "--api-base", offline_server.base_url, "--poll-interval", "0.05", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert offline_server.stats.submits == 1
    listed = cli("history", "--json", env=env)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert rows[0]["request_id"] == request_id and rows[0]["status"] == "completed"


def test_cancel_command_on_a_queued_request(
    offline_server: OfflineServer, env: dict[str, str], app_home: Path
) -> None:
    offline_server.timing = SLOW
    done = cli("run", "to cancel", "--no-wait", "--json", "--api-base", offline_server.base_url, env=env)
    request_id = json.loads(done.stdout)["request_id"]
    cancelled = cli("cancel", request_id, "--json", "--api-base", offline_server.base_url, env=env)
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["outcome"] == "cancelled"
    assert offline_server.stats.cancels == 1


def test_result_command_downloads_a_finished_request(
    offline_server: OfflineServer, env: dict[str, str], app_home: Path, tmp_path: Path
) -> None:
    done = cli("run", "fetch me", "--no-wait", "--json", "--api-base", offline_server.base_url, env=env)
    request_id = json.loads(done.stdout)["request_id"]
    wait_until(lambda: offline_server.job_state(request_id) == "completed")
    target = tmp_path / "elsewhere"
    fetched = cli("result", request_id, "--json", "--output-dir", str(target),
                  "--api-base", offline_server.base_url, "--poll-interval", "0.05", env=env)
    assert fetched.returncode == 0, fetched.stderr
    assert len(images_in(target)) == 1


def test_server_5xx_on_submit_exits_69_and_is_not_resubmitted(
    offline_server: OfflineServer, env: dict[str, str], app_home: Path
) -> None:
    offline_server.force("submit", Fault.HTTP_503)
    done = cli("run", "x", "--json", "--api-base", offline_server.base_url, env=env)
    assert done.returncode == 69
    assert json.loads(done.stdout)["status"] == "unknown"
    assert offline_server.stats.submits == 1
    # resume never resubmits an outcome-unknown job
    again = cli("resume", "--api-base", offline_server.base_url, env=env)
    assert again.returncode == 0 and offline_server.stats.submits == 1


def test_hostile_failure_is_sanitised_on_stderr_and_stdout(
    offline_server: OfflineServer, env: dict[str, str]
) -> None:
    offline_server.faults = FaultConfig(rate_fail=1.0)
    done = cli("run", "x", "--json", "--api-base", offline_server.base_url,
               "--poll-interval", "0.05", env=env)
    assert done.returncode == 1
    assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout + done.stderr


def test_core_never_imports_textual() -> None:
    """Every module outside tui.ui — the core and the headless commands — imports without
    Textual or textual_image (import-linter checks our imports; this checks a real process.
    Rich is left out here: httpx imports it for its own command line when it is installed)."""
    code = (
        "import importlib, pkgutil, sys\n"
        "names, todo = [], ['tui']\n"
        "while todo:\n"
        "    package = importlib.import_module(todo.pop())\n"
        "    for info in pkgutil.iter_modules(package.__path__, package.__name__ + '.'):\n"
        "        if info.name in {'tui.ui', 'tui.__main__'}:\n"
        "            continue\n"
        "        names.append(info.name)\n"
        "        (todo.append if info.ispkg else importlib.import_module)(info.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'textual_image'})\n"
        "print(len(names), bad[:5]); sys.exit(1 if bad or len(names) < 60 else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_offline_jobs_survive_a_restart_through_the_journal(env: dict[str, str], app_home: Path) -> None:
    """The embedded backend journals its jobs: one killed mid-poll is resumed next time."""
    del env["RUNCOMFY_TOKEN"]
    journal = app_home / "data" / "offline-jobs.json"
    proc = spawn("run", "offline, killed", "--offline", "--poll-interval", "0.05", env=env)
    try:
        wait_until(lambda: (job := first_job(app_home)) is not None and job.request_id is not None
                   and journal.exists())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    job = first_job(app_home)
    assert job is not None and job.request_id
    done = cli("resume", "--offline", "--poll-interval", "0.05", env=env)
    assert done.returncode == 0, done.stderr
    final = first_job(app_home)
    assert final.state is JobState.COMPLETED and final.request_id == job.request_id
    assert len(images_in(app_home / "output")) == 1


def test_offline_journal_round_trip(tmp_path: Path) -> None:
    import httpx

    journal = tmp_path / "offline-jobs.json"
    with OfflineServer(timing=SLOW, journal=journal).start() as first:
        answer = httpx.post(f"{first.base_url}/models/openai/gpt-image-2/text-to-image",
                            json={"prompt": "remember me"})
        request_id = answer.json()["request_id"]
    with OfflineServer(timing=Timing(0.01, 0.01, 0), journal=journal).start() as second:
        assert second.job_state(request_id) in {"in_queue", "in_progress", "completed"}
        wait_until(lambda: second.job_state(request_id) == "completed", timeout=10)
        result = httpx.get(f"{second.base_url}/requests/{request_id}/result").json()
        image = httpx.get(result["output"][0])
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
