"""SVG snapshots of the lineage, sweep grid and compare screens: real History file with a frozen
clock, deterministic PNGs, forced half-cell renderer; thumbnails waited for, not slept for."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from conftest import halfcell_kit, settle
from PIL import Image
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.screen import Screen

from tui.iterate.sweep import expand
from tui.jobs.events import JobEvent
from tui.models import JobRequest, JobState
from tui.storage.history import History
from tui.ui.screens.compare import CompareScreen
from tui.ui.screens.lineage import LineageScreen
from tui.ui.screens.sweep import SweepScreen

BASE_TIME = 1_700_000_000.0


def gradient(path: Path, hue: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (48, 32))
    image.putdata([((x * 5 + hue) % 256, (y * 8) % 256, (hue * 3) % 256) for y in range(32) for x in range(48)])
    image.save(path)
    return path


def open_history(tmp_path: Path) -> History:
    ticks = itertools.count()
    return History(tmp_path / "h.sqlite3", clock=lambda: BASE_TIME + next(ticks), synchronous="NORMAL")


def complete(history: History, job_id: int, path: Path) -> Any:
    history.update(job_id, state=JobState.SUBMITTING)
    history.update(job_id, state=JobState.QUEUED, request_id=f"req-{job_id}")
    return history.update(job_id, state=JobState.COMPLETED, files=(str(path),))


class ScreenHost(App[None]):
    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self.start = screen

    def compose(self) -> ComposeResult:
        return iter(())

    def on_mount(self) -> None:
        self.push_screen(self.start)


def lineage_jobs(history: History, tmp_path: Path) -> list[Any]:
    prompts = [
        "a cat on a sofa, soft window light",
        "a cat on a sofa, golden hour light",
        "a cat on a sofa, golden hour light, wide shot",
    ]
    jobs, parent = [], None
    for number, prompt in enumerate(prompts):
        job = history.create_job(JobRequest(prompt, "1024_1024"), parent_id=parent)
        jobs.append(complete(history, job.id, gradient(tmp_path / f"g{number}.png", 70 * number)))
        parent = job.id
    return jobs


def test_lineage_snapshot(snap_compare, tmp_path: Path) -> None:
    history = open_history(tmp_path)
    _, middle, _ = lineage_jobs(history, tmp_path)
    screen = LineageScreen(middle.id, history, halfcell_kit(tmp_path / "previews", thumb_side=48))
    assert snap_compare(ScreenHost(screen), terminal_size=(80, 24), run_before=settle)
    history.close()


def test_compare_snapshot(snap_compare, tmp_path: Path) -> None:
    history = open_history(tmp_path)
    _, left, right = lineage_jobs(history, tmp_path)
    screen = CompareScreen(left, right, halfcell_kit(tmp_path / "previews", max_side=96))
    assert snap_compare(ScreenHost(screen), terminal_size=(100, 30), run_before=settle)
    history.close()


def test_compare_flip_snapshot(snap_compare, tmp_path: Path) -> None:
    history = open_history(tmp_path)
    _, left, right = lineage_jobs(history, tmp_path)
    screen = CompareScreen(left, right, halfcell_kit(tmp_path / "previews", max_side=96))

    async def flip(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("space", "f")
        await settle(pilot)

    assert snap_compare(ScreenHost(screen), terminal_size=(100, 30), run_before=flip)
    history.close()


def test_sweep_grid_snapshot(snap_compare, tmp_path: Path) -> None:
    history = open_history(tmp_path)
    sweep = expand("a lighthouse at {dawn|noon|dusk|night}")
    jobs = [
        history.create_job(JobRequest(v.prompt, "1024_1024"), sweep_id="sw1", sweep_label=v.label)
        for v in sweep.variants
    ]
    jobs[0] = complete(history, jobs[0].id, gradient(tmp_path / "dawn.png", 20))
    jobs[1] = complete(history, jobs[1].id, gradient(tmp_path / "noon.png", 120))
    screen = SweepScreen("sw1", jobs, halfcell_kit(tmp_path / "previews", thumb_side=48))

    async def live(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        running = jobs[2].evolve(state=JobState.RUNNING)
        screen.update_job(JobEvent(running, message="12 s"))
        await settle(pilot)

    assert snap_compare(ScreenHost(screen), terminal_size=(100, 30), run_before=live)
    history.close()
