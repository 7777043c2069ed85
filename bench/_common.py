"""What the benchmarks share: how to start the app and the baseline, a private home, and seeding.

The app is driven only through its command line (``gpt-image-tui``, the console script of the
venv the benchmark runs in), so these scripts keep working however ``tui/`` is laid out inside.
Seeding uses two stable entry points: the headless ``batch`` and ``history`` commands (jobs
really submitted to a stand-in API) and ``tui.storage.history.History`` (finished jobs written
as rows, with real image files).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from bench._tmux import Pane, Tmux

__all__ = [
    "APP",
    "MINIMAL",
    "ROOT",
    "app_command",
    "base_env",
    "headless",
    "private_home",
    "process_env",
    "queue_jobs",
    "quit_app",
    "seed_finished_jobs",
    "start_app",
]

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
APP = str(BIN / "gpt-image-tui") if (BIN / "gpt-image-tui").exists() else None
MINIMAL = [sys.executable, "-m", "bench.minimal_app"]


def app_command(*args: str) -> list[str]:
    """``gpt-image-tui ARGS`` from this venv (``python -m tui`` when the script is missing)."""
    return [APP, *args] if APP else [sys.executable, "-m", "tui", *args]


def base_env() -> dict[str, str]:
    """A terminal like a user's, and nothing that changes the app's colours between runs."""
    return {
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "PYTHONPATH": str(ROOT),
        "GPT_IMAGE_TUI_COLORS": "truecolor",
    }


@contextlib.contextmanager
def private_home(tag: str) -> Iterator[Path]:
    """A throw-away ``GPT_IMAGE_TUI_HOME`` (config, data, cache, outputs), removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix=f"i9-{tag}-"))
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def process_env(env: Mapping[str, str]) -> dict[str, str]:
    """This process's environment plus ``env``, with byte-code caching on, as users have it."""
    merged = {**os.environ, **env}
    merged.pop("PYTHONDONTWRITEBYTECODE", None)
    return merged


def headless(
    args: list[str], env: Mapping[str, str], *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run one headless command to the end."""
    result = subprocess.run(
        app_command(*args), env=process_env(env), capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"gpt-image-tui {' '.join(args)} exited {result.returncode}: {result.stderr[-400:]}"
        )
    return result


def start_app(
    tmux: Tmux, name: str, args: list[str], env: Mapping[str, str], *, ready: str,
    width: int = 100, height: int = 30, timeout: float = 60.0,
) -> tuple[Pane, float]:
    """Start the app in a pane; return it and the seconds until ``ready`` was on screen."""
    pane = tmux.start(name, app_command(*args), env={**base_env(), **env}, width=width,
                      height=height)
    shown = pane.wait_for(lambda text: ready in text, timeout=timeout)
    return pane, shown - pane.started


def quit_app(pane: Pane, *, confirm: bool = False, timeout: float = 15.0) -> None:
    """ctrl+q (and ``y`` to the question about jobs in flight); kill the pane if it stays."""
    with contextlib.suppress(Exception):
        pane.send("C-q")
        if confirm:
            time.sleep(0.3)
            pane.send("y")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and pane.alive():
            time.sleep(0.05)
    pane.kill()


# --- seeding ---------------------------------------------------------------------------------


def history_states(env: Mapping[str, str], limit: int) -> dict[str, int]:
    """How many of the newest ``limit`` jobs are in each state (``history --json``)."""
    result = headless(["history", "--json", "--limit", str(limit)], env)
    counts: dict[str, int] = {}
    for line in result.stdout.splitlines():
        if line.strip():
            state = str(json.loads(line).get("status"))
            counts[state] = counts.get(state, 0) + 1
    return counts


def queue_jobs(env: Mapping[str, str], count: int, home: Path, *, timeout: float = 180.0) -> None:
    """Put ``count`` jobs in the stand-in API's queue, each with its request id in history.

    They are really submitted, by the headless ``batch`` command (at most 50 a process, all in
    flight at once); once every one is queued the batches are interrupted (Ctrl-C), which
    leaves them in flight and resumable — the app picks them up at its next start, as it picks
    up any job a closed session left behind.
    """
    processes: list[subprocess.Popen[bytes]] = []
    for chunk, first in enumerate(range(0, count, 50)):
        lines = [
            json.dumps({"prompt": f"bench job {number} — a lighthouse at dusk, watercolour"})
            for number in range(first, min(count, first + 50))
        ]
        path = home / f"seed-{chunk}.jsonl"
        path.write_text("\n".join(lines) + "\n")
        processes.append(
            subprocess.Popen(
                app_command("batch", str(path), "--concurrency", str(len(lines))),
                env=process_env(env),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    deadline = time.monotonic() + timeout
    try:
        while True:
            time.sleep(0.5)
            if history_states(env, count + 10).get("queued", 0) >= count:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the {count} jobs were not all queued in {timeout:.0f} s")
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def make_images(folder: Path, count: int, side: int = 1024) -> list[Path]:
    """``count`` distinct PNGs (smooth colour fields with detail, ~1 MB each, like outputs)."""
    import random

    from PIL import Image, ImageDraw, ImageFilter

    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for number in range(count):
        rng = random.Random(number)
        image = Image.linear_gradient("L").resize((side, side)).convert("RGB")
        tint = Image.new("RGB", (side, side), tuple(rng.randrange(256) for _ in range(3)))
        image = Image.blend(image, tint, 0.6)
        draw = ImageDraw.Draw(image)
        for _ in range(60):
            x, y = rng.randrange(side), rng.randrange(side)
            r = rng.randrange(10, side // 5)
            colour = tuple(rng.randrange(256) for _ in range(3))
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        image = image.filter(ImageFilter.GaussianBlur(2))
        noise = Image.effect_noise((side, side), 24).convert("RGB")
        image = Image.blend(image, noise, 0.15)
        path = folder / f"source-{number:02d}.png"
        image.save(path, "PNG")
        paths.append(path)
    return paths


def seed_finished_jobs(
    home: Path, count: int, *, distinct_images: int = 16, backend: str = "offline"
) -> list[Path]:
    """``count`` finished jobs in the history of ``home``, each with its own saved image file.

    Written as rows through ``tui.storage.history.History`` (the app's own store, its legal
    state moves included). The image files are hard links to ``distinct_images`` PNGs: every job
    has its own path (previews and thumbnails are made per path), the disk holds only a few.
    Returns the files, oldest job first.
    """
    from tui.locations import Locations
    from tui.models import JobRequest, JobState
    from tui.storage.history import History

    locations = Locations.default({"GPT_IMAGE_TUI_HOME": str(home)})
    locations.data_dir.mkdir(parents=True, exist_ok=True)
    outputs = locations.default_output_dir
    outputs.mkdir(parents=True, exist_ok=True)
    sources = make_images(home / "bench-sources", distinct_images)
    files: list[Path] = []
    now = time.time() - count * 60.0  # one job a minute, the newest a minute ago

    def clock() -> float:
        return now

    with History(locations.history_db, synchronous="NORMAL", clock=clock) as history:
        for number in range(count):
            path = outputs / f"bench-{number:05d}.png"
            os.link(sources[number % len(sources)], path)
            request = JobRequest(f"bench finished job {number} — a harbour at dawn, oil paint",
                                 "1024_1024", ())
            job = history.create_job(request, output_dir=str(outputs), backend=backend)
            history.update(job.id, state=JobState.SUBMITTING, submitted_at=now)
            history.update(job.id, state=JobState.QUEUED, request_id=f"bench{number:08d}")
            history.update(
                job.id, state=JobState.COMPLETED, files=(str(path),), started_at=now + 5,
                finished_at=now + 30, remote_status="completed",
            )
            files.append(path)
            now += 60.0
    return files
