"""Pilot tests of the iterate screens on a real History file and real PNGs, half-cell images."""

from __future__ import annotations

import gc
import itertools
import threading
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import halfcell_kit, settle, until
from PIL import Image
from textual.app import App, ComposeResult
from textual.cache import LRUCache
from textual.screen import Screen
from textual.widgets import Button, Checkbox, DataTable, Input, Select, Static
from textual.worker import get_current_worker

from tui.iterate.sweep import expand
from tui.jobs.events import JobEvent
from tui.models import JobRequest, JobState
from tui.storage.history import History
from tui.ui.imaging import ImageKit
from tui.ui.screens.compare import CompareScreen
from tui.ui.screens.delete_job import DeleteJobScreen
from tui.ui.screens.history import HistoryScreen, UnlinkingCache
from tui.ui.screens.lineage import LineageScreen
from tui.ui.screens.sweep import SweepCell, SweepConfirmScreen, SweepGrid

BASE_TIME = 1_700_000_000.0


def make_png(path: Path, color: tuple[int, int, int], size: tuple[int, int] = (64, 64)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    return path


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    ticks = itertools.count()
    store = History(
        tmp_path / "history.sqlite3",
        clock=lambda: BASE_TIME + next(ticks),
        synchronous="NORMAL",
    )
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def kit(tmp_path: Path) -> ImageKit:
    return halfcell_kit(tmp_path / "previews", thumb_side=64, max_side=128)


def complete(history: History, job_id: int, files: tuple[str, ...]) -> Any:
    history.update(job_id, state=JobState.SUBMITTING)
    history.update(job_id, state=JobState.QUEUED, request_id=f"req-{job_id}")
    return history.update(job_id, state=JobState.COMPLETED, files=files)


class Host(App[None]):
    """Pushes one screen and records what it dismissed with."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self.make = make
        self.results: list[Any] = []

    def on_mount(self) -> None:
        self.push_screen(self.make(), self.results.append)


# --- history ---------------------------------------------------------------------------------


@pytest.fixture
def big_history(history: History, tmp_path: Path) -> History:
    picture = str(make_png(tmp_path / "out" / "shared.png", (200, 40, 40)))
    for index in range(2000):
        animal = "zebra" if index % 400 == 7 else "cat"
        job = history.create_job(JobRequest(f"prompt {index}: a {animal} at noon", "1024_1024"))
        if index % 10 == 0:
            complete(history, job.id, (picture,))
        elif index % 10 == 1:
            history.update(job.id, state=JobState.FAILED, error="boom [@click=app.quit]x[/]")
    return history


async def test_history_thumbnails_one_worker_rows_scrolled_away_dropped(
    history: History, kit: ImageKit, tmp_path: Path
) -> None:
    picture = make_png(tmp_path / "out" / "one.png", (20, 120, 220))
    for index in range(150):  # every row its own file (hard links: one decode each)
        path = tmp_path / "out" / f"job-{index}.png"
        path.hardlink_to(picture)
        job = history.create_job(JobRequest(f"prompt {index}", "1024_1024"))
        complete(history, job.id, (str(path),))
    gate = threading.Event()
    made: list[str] = []
    real = kit.cache.thumbnail_for

    def held(path: Path, side: int | None = None) -> Path:
        if get_current_worker().group == "history-prefetch":  # not the selected row's Thumb
            gate.wait(10)  # the first thumbnail takes as long as the test wants
            made.append(str(path))
        return real(path, side)

    kit.cache.thumbnail_for = held  # type: ignore[method-assign]
    app = Host(lambda: HistoryScreen(history, kit, search_delay=0.01))
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.loaded)
        screen: HistoryScreen = app.screen  # type: ignore[assignment]
        table = screen.query_one(DataTable)
        first_view = {job.files[0] for job in screen._visible_jobs()}
        running: list[int] = []
        for _ in range(4):  # page down while the worker is stuck on the first row
            await pilot.press("pagedown")
            await pilot.pause()
            running.append(sum(
                1 for w in app.workers if w.group == "history-prefetch" and not w.is_finished
            ))
        assert running == [1, 1, 1, 1]  # one thumbnail worker, never one per page
        last_view = {job.files[0] for job in screen._visible_jobs()}
        assert table.cursor_row > 20 and not first_view & last_view
        gate.set()
        await settle(pilot)
        # Made: the one it was on, then only the rows in view now; the rows paged past dropped.
        assert len(made) == 1 + len(last_view - {made[0]})
        assert set(made[1:]) == last_view - {made[0]} and last_view <= screen.prefetched
        assert not (set(made[1:]) & first_view)


async def test_history_pages_searches_filters_and_stays_bounded(big_history, kit) -> None:
    app = Host(lambda: HistoryScreen(big_history, kit, search_delay=0.01))
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await settle(pilot)  # the first page is read off the UI loop
        screen: HistoryScreen = app.screen  # type: ignore[assignment]
        table = screen.query_one(DataTable)
        assert screen.total == 2000 and table.row_count == 100
        assert screen.loaded[0].id == 2000  # newest first
        assert len(screen.prefetched) <= 30  # thumbnails only for rows in view

        # scrolling to the end of the window reads the next page, and only that
        table.scroll_end(animate=False)
        await until(pilot, lambda: table.row_count >= 200)
        await settle(pilot)
        assert table.row_count == 200 and screen.start == 0

        # End goes to the oldest job, reading only the window there; Home back to the newest
        await pilot.press("end")
        await until(pilot, lambda: screen.position == 2000)
        await settle(pilot)
        assert screen.selected is not None and screen.selected.id == 1
        assert table.row_count <= screen.window < screen.total  # never all 2,000
        assert count_line(screen).startswith("2000 of 2000 jobs")
        await pilot.press("home")
        await until(pilot, lambda: screen.position == 1)
        await settle(pilot)
        assert screen.selected is not None and screen.selected.id == 2000
        assert screen.start == 0 and table.row_count <= screen.window

        # search narrows (debounced Input)
        screen.query_one(Input).focus()
        await pilot.press(*"zebra")
        await until(pilot, lambda: screen.search == "zebra")
        await settle(pilot)
        assert screen.total == 5 and table.row_count == 5
        assert count_line(screen).startswith("1 of 5 jobs matching “zebra”")
        assert all("zebra" in job.request.prompt for job in screen.loaded)

        # state filter, combined with an empty search
        screen.query_one(Input).value = ""
        await until(pilot, lambda: screen.search == "")
        screen.query_one(Select).value = "failed"
        await until(pilot, lambda: screen.state_key == "failed")
        await settle(pilot)
        assert screen.total == 200 and table.row_count == 100
        assert {job.state for job in screen.loaded} == {JobState.FAILED}
        detail = str(screen.query_one("#history-detail", Static).render())
        assert "[@click=app.quit]x[/]" in detail  # hostile error text shown plainly

        # an action dismisses with (action, job)
        table.focus()
        await pilot.press("down", "i")
        await until(pilot, lambda: bool(app.results))
        assert app.results == [("iterate", screen.loaded[1])]


def count_line(screen: HistoryScreen) -> str:
    return str(screen.query_one("#history-count", Static).render())


async def test_history_window_follows_pagedown_and_pageup_through_every_job(
    history: History, kit: ImageKit
) -> None:
    for index in range(200):
        history.create_job(JobRequest(f"prompt {index}", "1024_1024"))
    app = Host(lambda: HistoryScreen(history, kit, page_size=30))
    async with app.run_test(size=(100, 20)) as pilot:  # pages of 14 rows
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await settle(pilot)
        screen: HistoryScreen = app.screen  # type: ignore[assignment]
        table = screen.query_one(DataTable)
        assert screen.total == 200 and screen.window == 90 and table.row_count <= 60

        def on_its_job() -> int:
            """The cursor is on the job at its place (newest first), in view, and counted."""
            job, place = screen.selected, screen.position
            assert job is not None and job.id == 201 - place
            assert str(table.get_row_at(table.cursor_row)[0]).strip() == str(job.id)
            assert table.scroll_y <= table.cursor_row < table.scroll_y + table.size.height - 1
            assert table.row_count <= screen.window
            assert count_line(screen).startswith(f"{place} of 200 jobs")
            return place

        places = [on_its_job()]
        while places[-1] < 200 and len(places) < 40:
            await pilot.press("pagedown")
            await settle(pilot)
            places.append(on_its_job())
        assert places[-1] == 200 and screen.start == 200 - screen.window
        steps = {later - earlier for earlier, later in itertools.pairwise(places[:-1])}
        assert len(steps) == 1 and steps.pop() > 10  # every PageDown a whole page, window moves too

        while places[-1] > 1 and len(places) < 80:
            await pilot.press("pageup")
            await settle(pilot)
            places.append(on_its_job())
        assert places[-1] == 1 and screen.start == 0

        await pilot.press("G")  # the last job, beyond the window: read there
        await until(pilot, lambda: screen.position == 200)
        await settle(pilot)
        on_its_job()
        await pilot.press("g")
        await until(pilot, lambda: screen.position == 1)
        await settle(pilot)
        assert on_its_job() == 1 and table.scroll_y == 0


def test_history_table_caches_free_what_they_drop_without_the_collector() -> None:
    class Drawn:
        pass

    def kept_after_clear(cache: LRUCache[int, Drawn]) -> int:
        values = [Drawn() for _ in range(8)]
        refs = [weakref.ref(value) for value in values]
        for key, value in enumerate(values):
            cache.set(key, value)
        del values, value
        cache.clear()
        return sum(ref() is not None for ref in refs)

    gc.disable()  # only reference counting frees anything in here
    try:
        assert kept_after_clear(LRUCache(8)) == 8  # Textual's: the ring waits for the collector
        assert kept_after_clear(UnlinkingCache(8)) == 0
    finally:
        gc.enable()
        gc.collect()


async def test_history_delete_keeps_file_unless_ticked(history, kit, tmp_path) -> None:
    keep = make_png(tmp_path / "out" / "keep.png", (0, 90, 0))
    gone = make_png(tmp_path / "out" / "gone.png", (0, 0, 90))
    first = complete(history, history.create_job(JobRequest("first", "1024_1024")).id, (str(keep),))
    second = complete(history, history.create_job(JobRequest("second", "1024_1024")).id, (str(gone),))
    app = Host(lambda: HistoryScreen(history, kit))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await settle(pilot)
        screen: HistoryScreen = app.screen  # type: ignore[assignment]
        assert screen.selected is not None and screen.selected.id == second.id
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DeleteJobScreen))
        app.screen.query_one(Checkbox).value = True
        await pilot.click("#delete")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await settle(pilot)  # the storage forgets it in a thread worker
        assert history.count() == 1
        assert not gone.exists()
        assert screen.query_one(DataTable).row_count == 1
        # the next one: deleted from history, file left alone (checkbox not ticked)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DeleteJobScreen))
        await pilot.click("#delete")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await settle(pilot)
        assert history.count() == 0
        assert keep.exists()
        with pytest.raises(KeyError):
            history.get(first.id)


# --- lineage ---------------------------------------------------------------------------------


def chain(history: History, tmp_path: Path) -> list[Any]:
    prompts = [
        "a cat on a sofa, soft window light",
        "a cat on a sofa, golden hour light",
        "a cat on a sofa, golden hour light, wide shot",
    ]
    jobs, parent = [], None
    for number, prompt in enumerate(prompts):
        job = history.create_job(JobRequest(prompt, "1024_1024"), parent_id=parent)
        png = make_png(tmp_path / "out" / f"gen{number}.png", (60 * number, 100, 160))
        jobs.append(complete(history, job.id, (str(png),)))
        parent = job.id
    return jobs


async def test_lineage_shows_step_labels_and_selects(history, kit, tmp_path) -> None:
    root, middle, leaf = chain(history, tmp_path)
    app = Host(lambda: LineageScreen(middle.id, history, kit))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LineageScreen))
        await settle(pilot)  # the steps are read off the UI loop
        screen: LineageScreen = app.screen  # type: ignore[assignment]
        assert [s.job.id for s in screen.steps] == [root.id, middle.id, leaf.id]
        labels = screen.labels
        assert labels[0].startswith("start: a cat on a sofa")
        assert "+golden hour" in labels[1] and "−soft window" in labels[1]
        assert labels[2].startswith("+") and "wide shot" in labels[2]
        shown = " ".join(str(s.render()) for s in screen.query(".step-label").results(Static))
        assert "+golden hour" in shown
        await app.workers.wait_for_complete()
        await pilot.press("down", "enter")
        await until(pilot, lambda: bool(app.results))
        assert app.results == [leaf.id]


# --- compare ---------------------------------------------------------------------------------


async def test_compare_flip_alternates_the_two_jobs(history, kit, tmp_path) -> None:
    _, left, right = chain(history, tmp_path)
    app = Host(lambda: CompareScreen(left, right, kit))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CompareScreen))
        screen: CompareScreen = app.screen  # type: ignore[assignment]
        assert screen.shown_job_id is None
        assert "wide shot" in screen.query_one("#compare-diff").plain  # type: ignore[attr-defined]
        await pilot.press("space")
        assert screen.shown_job_id == left.id
        assert screen.query_one("#pane-left").display and not screen.query_one("#pane-right").display
        await pilot.press("f")
        assert screen.shown_job_id == right.id
        assert screen.query_one("#pane-right").display and not screen.query_one("#pane-left").display
        await pilot.press("space")
        assert screen.shown_job_id == left.id
        await pilot.press("escape")
        assert screen.shown_job_id is None
        assert screen.query_one("#pane-left").display and screen.query_one("#pane-right").display
        await pilot.press("escape")
        await until(pilot, lambda: bool(app.results))


# --- sweeps ----------------------------------------------------------------------------------


async def test_sweep_confirm_shows_count_and_labels() -> None:
    sweep = expand("a cat at {dawn|noon|dusk} in {oil|ink}")
    app = Host(lambda: SweepConfirmScreen(sweep))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SweepConfirmScreen))
        text = str(app.screen.query_one("#sweep-question", Static).render())
        assert "6 jobs" in text
        variants = [str(v.render()) for v in app.screen.query(".variant").results(Static)]
        assert variants[0].endswith("dawn · oil") and len(variants) == 6
        assert "6" in str(app.screen.query_one("#send", Button).label)
        await pilot.press("y")
        await until(pilot, lambda: bool(app.results))
    assert app.results == [True]


class GridHost(App[None]):
    def __init__(self, grid: SweepGrid) -> None:
        super().__init__()
        self.grid = grid
        self.cancelled: list[int] = []

    def compose(self) -> ComposeResult:
        yield self.grid

    def on_sweep_grid_cancel_job(self, message: SweepGrid.CancelJob) -> None:
        self.cancelled.append(message.job_id)


async def test_sweep_grid_updates_cells_and_cancels_the_focused_one(history, kit, tmp_path) -> None:
    sweep = expand("a cat at {dawn|noon|dusk}")
    jobs = [
        history.create_job(JobRequest(v.prompt, "1024_1024"), sweep_id="s1", sweep_label=v.label)
        for v in sweep.variants
    ]
    grid = SweepGrid(jobs, kit)
    app = GridHost(grid)
    async with app.run_test(size=(100, 30)) as pilot:
        cell = grid.cell(jobs[1].id)
        assert cell is not None and cell.has_class("-pending")
        grid.update_job(JobEvent(jobs[1].evolve(state=JobState.RUNNING), message="running 3 s"))
        await pilot.pause()
        assert cell.has_class("-running") and not cell.has_class("-pending")
        assert cell.state_text.startswith("running") and "running" in str(cell.border_subtitle)
        assert "dawn" not in str(cell.border_title) and "noon" in str(cell.border_title)

        png = make_png(tmp_path / "out" / "noon.png", (250, 200, 0))
        grid.update_job(JobEvent(jobs[0].evolve(state=JobState.COMPLETED, files=(str(png),))))
        first = grid.cell(jobs[0].id)
        assert first is not None and first.has_class("-completed")
        # The thumbnail's worker starts after a refresh: wait for the picture, not the workers.
        await until(pilot, lambda: first.query_one(".cell-thumb").has_class("-has-image"))

        cell.focus()
        await pilot.press("escape")
        await until(pilot, lambda: app.cancelled == [jobs[1].id])
        first.focus()
        await pilot.press("escape")  # finished: nothing to cancel
        await pilot.press("right")
        assert app.focused is cell
        await pilot.pause()
        assert app.cancelled == [jobs[1].id]
        assert isinstance(app.focused, SweepCell)
