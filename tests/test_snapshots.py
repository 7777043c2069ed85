"""SVG snapshots of the main screen: the app built by the real services factory over a seeded
history, with a frozen clock and a half-cell image renderer.

Jobs that look in flight belong to another live process, so the engine leaves them alone and
nothing is sent to the (loopback) offline server.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import app_for, settle, until
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from tui.jobs.events import JobEvent
from tui.models import Job, JobRequest, JobState
from tui.offline.render import render_image
from tui.services.graph import Services
from tui.storage.history import History
from tui.storage.owners import owner_for
from tui.ui.app import GptImageApp
from tui.ui.styles import STYLESHEETS
from tui.ui.widgets.composer import Composer, PromptEditor
from tui.ui.widgets.job_card import JobCard
from tui.ui.widgets.job_pool import JobPool

T0 = 1_790_000_000.0  # frozen "now"
# The one real image lives in the test's own folder; the job records it relative to the working
# directory (each test runs in its tmp_path), so the folder shown in the details never changes.
SNAPSHOT_OUT = Path("snapshot-out")
OTHER_LIVE_PID = os.getppid()


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.chdir(tmp_path)


def _walk(history: History, job_id: int, states: list[JobState], **final: Any) -> None:
    for state in states[:-1]:
        history.update(job_id, state=state)
    history.update(job_id, state=states[-1], **final)


def seed(history: History, *, with_image: bool = False) -> int | None:
    """One job in each state; returns the id of the completed one."""
    sent = [JobState.SUBMITTING, JobState.QUEUED]
    theirs = owner_for(OTHER_LIVE_PID)

    def job(prompt: str, size: str = "1024_1024", images: tuple[str, ...] = ()) -> int:
        return history.create_job(JobRequest(prompt, size, images)).id

    j = job("a lighthouse at dawn, oil painting")
    _walk(history, j, [*sent, JobState.RUNNING, JobState.DOWNLOADING, JobState.COMPLETED],
          request_id="rid0000completed", submitted_at=T0 - 40, started_at=T0 - 30,
          finished_at=T0 - 5, files=(str(SNAPSHOT_OUT / "lighthouse.png"),))
    completed = j
    j = job("a cat on a skateboard", "1536_1024")
    _walk(history, j, [*sent, JobState.DOWNLOADING, JobState.FAILED], request_id="rid00000failed",
          finished_at=T0 - 3, error="generation failed: render failed: [bold]GPU[/bold] on fire")
    j = job("cancel me", "1024_1536")
    _walk(history, j, [*sent, JobState.CANCELLED], request_id="rid0000cancelled",
          finished_at=T0 - 2)
    j = job("maybe billed")
    _walk(history, j, [JobState.SUBMITTING, JobState.UNKNOWN],
          error="outcome unknown — it may have run and been billed")
    j = job("never sent")
    _walk(history, j, [JobState.NOT_SENT], error="not sent: the app stopped before sending it")
    j = job("lost contact")
    _walk(history, j, [*sent, JobState.STALLED], request_id="rid00000stalled",
          error="lost contact; run `gpt-image-tui resume`", owner=theirs)
    j = job("replace the sky", "auto", ("https://example.com/sky.png", "https://example.com/b.png"))
    _walk(history, j, [*sent, JobState.DOWNLOADING], request_id="rid0downloading",
          submitted_at=T0 - 20, started_at=T0 - 15, owner=theirs)
    j = job("a running fox")
    _walk(history, j, [*sent, JobState.RUNNING], request_id="rid00000running",
          submitted_at=T0 - 12, started_at=T0 - 8, owner=theirs)
    j = job("waiting in line")
    _walk(history, j, [*sent], request_id="rid000000queued", queue_position=3,
          submitted_at=T0 - 4, owner=theirs)
    j = job("not yet sent")
    history.update(j, owner=theirs)
    if with_image:
        SNAPSHOT_OUT.mkdir(parents=True, exist_ok=True)
        (SNAPSHOT_OUT / "lighthouse.png").write_bytes(
            render_image("a lighthouse at dawn", "1024_1024", reference_count=0, request_id="rid0")
        )
    return completed


def build_app(
    open_frozen: Callable[[float], Services], home: Path, *, jobs: bool,
    with_image: bool = False, draft: str | None = None,
) -> tuple[GptImageApp, int | None]:
    """Seed the history (as another process would have left it), then build the app."""
    database = home / "data" / "history.sqlite3"
    database.parent.mkdir(parents=True, exist_ok=True)
    with History(database, clock=lambda: T0 - 60) as history:
        completed = seed(history, with_image=with_image) if jobs else None
        if draft is not None:
            history.save_draft("composer", draft)
    return app_for(open_frozen(T0), clock=lambda: T0, animations=False), completed


async def _steady(pilot: Pilot) -> None:
    """Wait on conditions, not time: every seeded card is mounted and the prices are known.

    Nothing drawn depends on when this returns: the clock is frozen, animations are off (so the
    indeterminate bars stand still), cards are drawn with the run estimate from the start, and
    the composer has its prices.
    """
    await settle(pilot)
    screen = pilot.app.main_screen  # type: ignore[attr-defined]
    # The cursor stands still: the editor stops blinking and redraws every line (TextArea keeps
    # lines drawn mid-blink in a cache, so the blink's phase would decide what is drawn).
    editor = screen.query_one(PromptEditor)
    editor.cursor_blink = False
    editor.notify_style_update()
    editor.refresh()
    seeded = len(screen.history.list_jobs())

    def steady() -> bool:
        cards = screen.query(JobCard)
        prices = screen.query_one(Composer).price() is not None
        return prices and len(cards) == seeded and all(card.is_mounted for card in cards)

    await until(pilot, steady)
    await pilot.pause()


def test_main_screen_empty(snap_compare: Any, app_home: Path, frozen_services: Any) -> None:
    app, _ = build_app(frozen_services, app_home, jobs=False)
    assert snap_compare(app, terminal_size=(100, 30), run_before=_steady)


def test_main_screen_jobs_in_every_state(
    snap_compare: Any, app_home: Path, frozen_services: Any
) -> None:
    app, _ = build_app(frozen_services, app_home, jobs=True,
                       draft="a lighthouse at dawn, oil painting")
    assert snap_compare(app, terminal_size=(120, 36), run_before=_steady)


def test_main_screen_at_80x24(snap_compare: Any, app_home: Path, frozen_services: Any) -> None:
    app, _ = build_app(frozen_services, app_home, jobs=True, draft="a small terminal")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_steady)


def test_selected_job_with_image(snap_compare: Any, app_home: Path, frozen_services: Any) -> None:
    app, completed = build_app(frozen_services, app_home, jobs=True, with_image=True)
    assert completed is not None

    async def select(pilot: Pilot) -> None:
        await _steady(pilot)
        app.main_screen.query_one(JobPool).select(completed)
        preview = app.main_screen.query_one("#preview")
        await until(pilot, lambda: getattr(preview, "path", None) is not None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=select)


# --------------------------------------------------------------------------- the cards alone


class PoolApp(App[None]):
    """Just the job pool, styled by the app's stylesheet, fed hand-made events."""

    CSS_PATH = [str(path) for path in STYLESHEETS]

    def __init__(self, events: list[JobEvent]) -> None:
        super().__init__()
        self.events = events

    def compose(self) -> ComposeResult:
        yield JobPool(id="pool")

    def on_mount(self) -> None:
        pool = self.query_one(JobPool)
        pool.load(self.events, now=T0, durations=[25.0])
        pool.select(self.events[2].job.id)


def _card_events() -> list[JobEvent]:
    def job(number: int, prompt: str, state: JobState, **fields: Any) -> Job:
        return Job(number, JobRequest(prompt, "1024_1024"), state, T0 - 60, T0, **fields)

    return [
        JobEvent(job(12, "a fox resumed from last night", JobState.RUNNING, resumed=True,
                     started_at=T0 - 8), elapsed=14),
        JobEvent(job(11, "saving with a known size", JobState.DOWNLOADING, started_at=T0 - 30),
                 elapsed=31, bytes_done=1_300_000, bytes_total=3_500_000),
        JobEvent(job(10, "a flaky network", JobState.QUEUED, queue_position=2), elapsed=9,
                 retry_in=4.0),
        JobEvent(job(9, "too late to stop", JobState.RUNNING, started_at=T0 - 20), elapsed=22,
                 message="running — can't be cancelled; it will finish and be billed"),
        JobEvent(job(8, "sending now", JobState.SUBMITTING), elapsed=1),
        JobEvent(job(7, "stopped in the queue", JobState.CANCELLED),
                 message="cancelled — nothing more will be billed", elapsed=40),
        JobEvent(job(6, "hostile server", JobState.FAILED,
                     error="render failed: [bold red]pwned[/] \x1b]52;c;aGk=\x07[@click=app.quit]"),
                 elapsed=3),
        JobEvent(job(5, "two images", JobState.COMPLETED,
                     files=("/out/a-very-long-file-name-0001.png", "/out/b.png")), elapsed=3725),
    ]


@pytest.mark.parametrize("width", [40, 50])
def test_job_cards_at_pool_widths(snap_compare: Any, width: int) -> None:
    app = PoolApp(_card_events())
    app.animation_level = "none"
    assert snap_compare(app, terminal_size=(width, 18))
