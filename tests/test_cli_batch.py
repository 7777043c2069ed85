"""``batch``, ``spend`` and the price of a job, against the real loopback server and real SQLite.

Most runs are in-process (``tui.__main__.main``, the same code a shell runs, without paying a
Python start-up per call); Ctrl-C is a real SIGINT to a real subprocess.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tui.__main__ import main
from tui.offline.faults import Timing
from tui.offline.server import OfflineServer
from tui.storage.history import History

TOKEN = "rc-batch-token-77a1"
PRICED = {"base_price_usd": 0.04, "price_unit": "image"}
HELD = Timing(queue_seconds=1e9, run_seconds=1e9, queue_ahead=1)


@pytest.fixture
def priced(offline_server: OfflineServer, app_home: Path, monkeypatch: pytest.MonkeyPatch) -> OfflineServer:
    """The loopback server standing in for the real API: a token, and $0.04 an image."""
    offline_server.catalog_entry = dict(PRICED)
    monkeypatch.setenv("RUNCOMFY_TOKEN", TOKEN)
    return offline_server


def gpt(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def results(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def history(home: Path) -> History:
    return History(home / "data" / "history.sqlite3")


FIVE_LINES = "\n".join([
    "# five requests, one of them bad",
    json.dumps({"prompt": "a red fox", "id": "fox"}),
    json.dumps({"prompt": "a blue whale", "size": "1536_1024"}),
    "",
    json.dumps({"prompt": "too big", "size": "2048_2048", "id": "bad"}),
    json.dumps({"prompt": "swap the sky", "images": ["https://example.com/sky.png"]}),
    json.dumps({"prompt": "a red fox", "id": "fox, again"}),  # the same content twice: two images
]) + "\n"


def test_batch_bad_line_then_same_file_again_sends_nothing(
    priced: OfflineServer, app_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tmp_path / "prompts.jsonl"
    batch.write_text(FIVE_LINES, encoding="utf-8")
    args = ("batch", str(batch), "--api-base", priced.base_url, "--poll-interval", "0.02")

    code, out, err = gpt(capsys, *args)
    assert code == 65, err  # a bad line makes the exit 65, after the others ran
    first = results(out)
    assert len(first) == 5 and priced.stats.submits == 4
    bad = next(r for r in first if r["status"] == "invalid")
    assert bad["line"] == 5 and bad["id"] == "bad" and "size must be one of" in str(bad["error"])
    assert "line 5: size must be one of" in err
    good = [r for r in first if r["status"] == "completed"]
    assert sorted(r["line"] for r in good) == [2, 3, 6, 7]
    assert all(Path(str(r["files"][0])).is_file() for r in good)  # type: ignore[index]
    assert all(r["price_usd"] == 0.04 and r["already"] is False for r in good)
    assert "4 to send" in err and "≈ $0.16" in err  # the estimate, before sending
    assert "spent $0.16" in err  # the progress line sums what finished

    code, out, err = gpt(capsys, *args)
    assert code == 65
    again = results(out)
    assert priced.stats.submits == 4  # nothing sent twice
    assert len(again) == 5 and "0 to send" in err
    assert {r["line"]: r["request_id"] for r in again if r["status"] == "completed"} == {
        r["line"]: r["request_id"] for r in good
    }
    assert all(r["already"] for r in again if r["status"] == "completed")

    with history(app_home) as store:
        jobs = store.list_jobs()
    assert len(jobs) == 4 and all(job.price_usd == Decimal("0.04") for job in jobs)
    assert all(job.price_source == "catalog" and job.price_unit == "image" for job in jobs)

    code, out, _ = gpt(capsys, "spend", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["total"] == {"period": "total", "jobs": 4, "usd": 0.16, "unpriced_jobs": 0}
    assert report["days"][0]["usd"] == 0.16 and report["months"][0]["jobs"] == 4


def test_budget_below_the_estimate_refuses_and_sends_nothing(
    priced: OfflineServer, app_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tmp_path / "three.jsonl"
    batch.write_text("".join(json.dumps({"prompt": f"cat {n}"}) + "\n" for n in range(3)))
    code, out, err = gpt(capsys, "batch", str(batch), "--budget", "0.10",
                         "--api-base", priced.base_url)
    assert code == 65
    assert "$0.12" in err and "$0.10" in err and "nothing was sent" in err  # both amounts
    assert out == "" and priced.stats.submits == 0
    with history(app_home) as store:
        assert store.count() == 0  # refused before anything was recorded


def test_budget_with_an_unknown_price_refuses(
    priced: OfflineServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    priced.catalog_entry = {"display_name": "no price published"}
    batch = tmp_path / "one.jsonl"
    batch.write_text(json.dumps({"prompt": "a cat"}) + "\n")
    code, _, err = gpt(capsys, "batch", str(batch), "--budget", "100", "--api-base", priced.base_url)
    assert code == 65 and "price is unknown" in err and priced.stats.submits == 0


def test_unknown_price_is_recorded_as_unknown_never_guessed(
    priced: OfflineServer, app_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    priced.catalog_entry = {"base_price_usd": 0.05}  # no unit: not a per-image price
    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", "a cat", "--json", "--api-base", priced.base_url,
         "--poll-interval", "0.02"],
        capture_output=True, text=True, timeout=120, env=dict(os.environ),
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    with history(app_home) as store:
        job = store.list_jobs()[0]
    assert job.price_usd == Decimal("0.05") and job.price_unit is None  # as the catalog said
    _, out, _ = gpt(capsys, "spend", "--json")
    report = json.loads(out)
    assert report["total"]["jobs"] == 1 and report["total"]["unpriced_jobs"] == 1
    assert report["total"]["usd"] == 0


async def test_offline_batch_is_labelled_free(
    offline_server: OfflineServer, app_home: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On the offline backend the estimate says nothing is billed, and spend leaves it out."""
    from tui.cli.batch import BatchRun
    from tui.cli.batchfile import read_batch
    from tui.config import load_settings
    from tui.services.graph import open_services
    from tui.storage.spend import history_spend

    settings = load_settings(offline=True, output_dir=tmp_path / "out", poll_interval=0.02)
    services = open_services(settings, offline_server=offline_server)
    lines = read_batch(json.dumps({"prompt": "a cat"}).encode() + b"\n", "free.jsonl")
    try:
        code = await BatchRun(services, lines, "free.jsonl", concurrency=2, budget=None).run()
        spent = history_spend(services.history)
    finally:
        await services.aclose()
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "offline: nothing billed" in err and results(out)[0]["status"] == "completed"
    assert spent.total.jobs == 0  # offline jobs cost nothing and are left out of spend


def _spawn(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tui", *args], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )


def _wait(predicate: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def _two_sent(server: OfflineServer, home: Path) -> bool:
    """Both lines in flight are sent and their request ids recorded (the server counting two
    POSTs and some polls says nothing of whether the second answer was written yet)."""
    if server.stats.submits != 2 or not (home / "data" / "history.sqlite3").exists():
        return False
    with history(home) as store:
        return sum(1 for job in store.list_jobs() if job.state.value == "queued") == 2


def test_ctrl_c_mid_batch_keeps_sent_lines_resumable_and_sends_the_rest_next_time(
    priced: OfflineServer, app_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    priced.timing = HELD  # the first two stay queued until the test moves them
    batch = tmp_path / "five.jsonl"
    batch.write_text("".join(json.dumps({"prompt": f"fox {n}"}) + "\n" for n in range(5)))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = _spawn("batch", str(batch), "--concurrency", "2", "--api-base", priced.base_url,
                  "--poll-interval", "0.05", env=env)
    try:
        _wait(lambda: _two_sent(priced, app_home))
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert priced.stats.submits == 2 and priced.stats.cancels == 0  # in flight: kept, not cancelled
    assert "2 in flight kept" in err and "3 not sent" in err
    with history(app_home) as store:
        states = sorted(job.state.value for job in store.list_jobs())
        sent = [job.request_id for job in store.list_jobs() if job.request_id]
    assert states == ["not_sent"] * 3 + ["queued"] * 2

    for request_id in sent:
        assert request_id is not None
        priced.advance(request_id, "completed")
    resumed = subprocess.run(
        [sys.executable, "-m", "tui", "resume", "--api-base", priced.base_url,
         "--poll-interval", "0.02"],
        capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert priced.stats.submits == 2 and len(results(resumed.stdout)) == 2

    priced.timing = Timing(0.02, 0.02, 0)
    code, out, err = gpt(capsys, "batch", str(batch), "--api-base", priced.base_url,
                         "--poll-interval", "0.02")
    assert code == 0, err
    assert priced.stats.submits == 5  # only the three never sent went out
    final = results(out)
    assert len(final) == 5 and all(r["status"] == "completed" for r in final)
    assert sum(1 for r in final if r["already"]) == 2


def test_batch_from_stdin_with_json_progress(
    priced: OfflineServer, tmp_path: Path
) -> None:
    lines = "".join(json.dumps({"prompt": f"owl {n}", "id": n}) + "\n" for n in range(2))
    done = subprocess.run(
        [sys.executable, "-m", "tui", "batch", "-", "--json", "--api-base", priced.base_url,
         "--poll-interval", "0.02"],
        input=lines, capture_output=True, text=True, timeout=120, env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    assert sorted(r["id"] for r in results(done.stdout)) == ["0", "1"]
    progress = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert progress[-1]["done"] == 2 and progress[-1]["spent_usd"] == 0.08


def test_a_killed_batch_run_again_follows_what_was_sent_and_sends_the_rest(
    priced: OfflineServer, app_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGKILL (no chance to tidy up): the next run claims the dead run's jobs — following the
    two that were sent, sending the three recorded but never sent — and posts nothing twice."""
    priced.timing = HELD
    batch = tmp_path / "five.jsonl"
    batch.write_text("".join(json.dumps({"prompt": f"owl {n}"}) + "\n" for n in range(5)))
    proc = _spawn("batch", str(batch), "--concurrency", "2", "--api-base", priced.base_url,
                  "--poll-interval", "0.05", env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        _wait(lambda: _two_sent(priced, app_home))
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    with history(app_home) as store:
        states = sorted(job.state.value for job in store.list_jobs())
    assert states == ["pending"] * 3 + ["queued"] * 2  # all five recorded before any POST
    for request_id in priced.request_ids():
        priced.advance(request_id, "completed")
    priced.timing = Timing(0.02, 0.02, 0)
    code, out, err = gpt(capsys, "batch", str(batch), "--api-base", priced.base_url,
                         "--poll-interval", "0.02")
    assert code == 0, err
    assert priced.stats.submits == 5
    final = results(out)
    assert len(final) == 5 and all(r["status"] == "completed" for r in final)
    with history(app_home) as store:
        assert store.count() == 5  # the dead run's pending jobs were reused, not duplicated


def test_a_closed_stderr_never_takes_the_batch_down(
    priced: OfflineServer, app_home: Path, tmp_path: Path
) -> None:
    """`batch FILE 2>&1 | head -1`: progress is best effort; every line still runs."""
    batch = tmp_path / "three.jsonl"
    batch.write_text("".join(json.dumps({"prompt": f"heron {n}"}) + "\n" for n in range(3)))
    results_file = tmp_path / "results.jsonl"
    with results_file.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tui", "batch", str(batch), "--api-base", priced.base_url,
             "--poll-interval", "0.02"],
            env=dict(os.environ), stdout=out, stderr=subprocess.PIPE, text=True,
            stdin=subprocess.DEVNULL,
        )
        assert proc.stderr is not None
        assert proc.stderr.readline().startswith("batch: 3 lines")
        proc.stderr.close()  # the reader goes away
        assert proc.wait(timeout=60) == 0
    rows = results(results_file.read_text())
    assert len(rows) == 3 and all(r["status"] == "completed" for r in rows)
    assert priced.stats.submits == 3
