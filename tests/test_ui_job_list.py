"""The job list as a daily driver: cards that say how each job differs and when it ran, stars,
filters, list keys, reopening a sweep's grid, and a list that stays cheap with many jobs.

Pilot tests of the real app over a seeded real history (jobs left by "another process", so the
engine sends nothing), and of the pool alone fed hand-made events; ``history --starred`` as a
real process.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import app_for, cli, run_from_palette, settle, until
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable, Label

from tui.iterate.labels import difference_label
from tui.jobs.events import JobEvent
from tui.models import Job, JobRequest, JobState
from tui.services.graph import Services
from tui.storage.history import History
from tui.storage.owners import owner_for
from tui.ui.app import GptImageApp
from tui.ui.screens.history import HistoryScreen
from tui.ui.screens.sweep import SweepCell, SweepScreen
from tui.ui.styles import STYLESHEETS
from tui.ui.widgets.composer import Composer
from tui.ui.widgets.job_card import JobCard, status_text
from tui.ui.widgets.job_pool import PAGE, JobList, JobPool, ListFilterInput, MoreJobs

T0 = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def done(history: History, job_id: int, *, took: float, at: float, **fields: Any) -> Job:
    history.update(job_id, state=JobState.SUBMITTING)
    history.update(job_id, state=JobState.QUEUED, request_id=f"rid-{job_id:012d}",
                   submitted_at=at - took)
    history.update(job_id, state=JobState.RUNNING, started_at=at - took + 1)
    fields.setdefault("files", (f"out/{job_id}.png",))
    return history.update(job_id, state=JobState.COMPLETED, finished_at=at, **fields)


def database(home: Path) -> Path:
    path = home / "data" / "history.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def card(app: GptImageApp, job_id: int) -> JobCard:
    return app.main_screen.query_one(f"#job-{job_id}", JobCard)


def card_lines(app: GptImageApp, job_id: int) -> list[str]:
    return str(card(app, job_id).query_one(".card-status", Label).render()).split("\n")


def pool_of(app: GptImageApp) -> JobPool:
    return app.main_screen.query_one(JobPool)


@contextlib.asynccontextmanager
async def frozen_app(
    frozen_services: Any, *, count: int, size: tuple[int, int] = (140, 40)
) -> AsyncIterator[tuple[GptImageApp, Pilot[Any]]]:
    """The app on a frozen clock (``T0``), animations off, its first ``count`` cards mounted."""
    services: Services = frozen_services(T0)
    app = app_for(services, clock=lambda: T0, animations=False)
    async with app.run_test(size=size) as pilot:
        await ready(pilot, count=count)
        yield app, pilot


def shown_ids(app: GptImageApp) -> list[int]:
    """The jobs whose cards the list shows (mounted and not filtered out), top to bottom."""
    view = app.main_screen.query_one(JobList)
    return [c.job_id for c in view.children if isinstance(c, JobCard) and c.display]


async def ready(pilot: Pilot[Any], count: int | None = None) -> None:
    """The first rows are read and their cards mounted."""
    await settle(pilot)
    app: GptImageApp = pilot.app  # type: ignore[assignment]
    await until(pilot, lambda: pool_of(app)._loaded)
    if count is not None:
        await until(pilot, lambda: len(pool_of(app).job_ids()) == count)
    await pilot.pause()


# ------------------------------------------------------------------ cards say how jobs differ


@pytest.fixture
def family(app_home: Path) -> dict[str, int]:
    """A first job, its child (one knob changed), a two-cell sweep, and an unfinished job."""
    with History(database(app_home), clock=lambda: T0 - 600) as history:
        root = history.create_job(JobRequest(
            "a lighthouse on a cliff, soft window light, oil painting", "1024_1024"))
        done(history, root.id, took=38, at=T0 - 300)
        child = history.create_job(JobRequest(
            "a lighthouse on a cliff, golden hour, oil painting", "1024_1024"), parent_id=root.id)
        done(history, child.id, took=41, at=T0 - 200)
        cells = [
            history.create_job(JobRequest(f"a lighthouse, {style}", "1024_1024"),
                               sweep_id="sweep-aaaa", sweep_label=style)
            for style in ("watercolor", "charcoal sketch")
        ]
        for cell in cells:
            done(history, cell.id, took=20, at=T0 - 100)
        cancelled = history.create_job(JobRequest("stopped early", "1024_1024"))
        history.update(cancelled.id, state=JobState.CANCELLED, finished_at=T0 - 60)
        queued = history.create_job(JobRequest("waiting its turn", "1024_1024"))
        history.update(queued.id, state=JobState.SUBMITTING, owner=owner_for(os.getppid()))
        history.update(queued.id, state=JobState.QUEUED, request_id="rid-queued-0001",
                       queue_position=2, submitted_at=T0 - 5)
        return {"root": root.id, "child": child.id, "cell1": cells[0].id, "cell2": cells[1].id,
                "cancelled": cancelled.id, "queued": queued.id}


async def test_cards_say_how_each_job_differs_and_when_it_ran(
    frozen_services: Any, family: dict[str, int]
) -> None:
    async with frozen_app(frozen_services, count=6) as (app, pilot):
        services = app.services
        root = services.history.get(family["root"])
        child = services.history.get(family["child"])
        expected = difference_label(child, root)
        assert "+golden hour" in expected and "−soft window light" in expected

        title, line2 = card_lines(app, family["child"])
        assert title == f"#{child.id} {expected}"
        assert line2 == "done · 14:10 · 41 s"  # state, time of day, how long; no file name
        assert card_lines(app, family["root"]) == [
            f"#{root.id} a lighthouse on a cliff, soft window light, oil painting",
            "done · 14:08 · 38 s",
        ]
        assert card_lines(app, family["cell1"])[0] == f"#{family['cell1']} watercolor"
        assert card_lines(app, family["cell2"])[0] == f"#{family['cell2']} charcoal sketch"
        assert card_lines(app, family["cancelled"])[1] == "cancelled · 14:12"
        assert card_lines(app, family["queued"])[1].startswith("queued <1 min")
        assert "position 2" in card_lines(app, family["queued"])[1]

        # A label cut by the card's width is read in full: the details and the tooltip.
        pool_of(app).select(family["child"])
        await pilot.pause()
        details = str(app.main_screen.query_one("#details-text").render())
        assert f"change: {expected}" in details
        assert expected in str(card(app, family["child"]).tooltip)


def test_state_lines_of_jobs_in_flight_and_settled() -> None:
    def line(job: Job, **event: Any) -> str:
        return status_text(JobEvent(job, **event), since=T0, now=T0 + 2, estimate=None)

    def job(state: JobState, **fields: Any) -> Job:
        return Job(7, JobRequest("x", "1024_1024"), state, T0 - 60, T0 - 1, **fields)

    assert line(job(JobState.RUNNING, started_at=T0 - 10), elapsed=10) == "running 0:12"
    # a waiting job's clock counts minutes (its seconds tell nothing and cost a repaint each)
    assert line(job(JobState.QUEUED, queue_position=3), elapsed=10) == "queued <1 min · position 3"
    assert line(job(JobState.QUEUED), elapsed=178) == "queued 3 min"
    assert line(job(JobState.PENDING), elapsed=4000) == (
        "waiting 1h06m · for a submission slot")
    assert line(job(JobState.SUBMITTING), elapsed=10) == "sending 0:12"
    assert line(job(JobState.FAILED, finished_at=T0, error="boom")) == "failed · 14:13 · boom"
    assert line(job(JobState.CANCELLED, finished_at=T0 - 120),
                message="cancelled — nothing more will be billed") == (
        "cancelled · 14:11 · nothing more will be billed")
    # a day later, the date is said too
    assert line(job(JobState.COMPLETED, finished_at=T0 - 86_400, files=("a.png",)),
                elapsed=75) == "done · Sep 20 14:13 · 1 min 15 s"


# ------------------------------------------------------------------ stars


async def test_s_stars_the_selected_job_and_star_filter_shows_only_starred(
    frozen_services: Any, family: dict[str, int]
) -> None:
    async with frozen_app(frozen_services, count=6) as (app, pilot):
        services = app.services
        await pilot.press("f3")
        pool_of(app).select(family["child"])
        await pilot.pause()
        await pilot.press("s")
        await until(pilot, lambda: services.history.get(family["child"]).starred)
        await until(pilot, lambda: card_lines(app, family["child"])[0].startswith("★ #"))

        await pilot.press("asterisk")
        await until(pilot, lambda: shown_ids(app) == [family["child"]])
        assert "★ starred" in str(app.main_screen.query_one("#pool-title", Label).render())
        assert pool_of(app).selected_job_id == family["child"]

        await pilot.press("s")  # unstar: it leaves the starred-only list
        await until(pilot, lambda: not services.history.get(family["child"]).starred)
        await until(pilot, lambda: shown_ids(app) == [])
        await pilot.press("asterisk")
        await until(pilot, lambda: len(shown_ids(app)) == 6)


def test_history_starred_lists_only_starred_jobs_headless(app_home: Path, env: dict[str, str]) -> None:
    with History(database(app_home)) as history:
        plain = history.create_job(JobRequest("plain one", "1024_1024"))
        liked = history.create_job(JobRequest("liked one", "1024_1024"))
        history.update(liked.id, starred=True)
    listed = cli("history", "--starred", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(row["job"], row["starred"]) for row in rows] == [(liked.id, True)]
    everything = cli("history", "--json", env=env)
    assert {json.loads(line)["job"] for line in everything.stdout.splitlines()} == {
        plain.id, liked.id}
    text = cli("history", "--starred", env=env)
    assert text.returncode == 0 and "liked one" in text.stdout and "plain one" not in text.stdout


async def test_history_browser_stars_and_filters_by_star(tmp_path: Path) -> None:
    from conftest import halfcell_kit
    from test_ui_iterate_screens import Host

    with History(tmp_path / "h.sqlite3") as history:
        ids = [history.create_job(JobRequest(f"job {n}", "1024_1024")).id for n in range(40)]
        history.update(ids[5], starred=True)
        kit = halfcell_kit(tmp_path / "previews")
        app = Host(lambda: HistoryScreen(history, kit))
        async with app.run_test(size=(110, 24)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
            await settle(pilot)
            screen: HistoryScreen = app.screen  # type: ignore[assignment]
            table = screen.query_one(DataTable)
            assert table.row_count == 40

            await pilot.press("j", "j", "s")  # the third row: job 38
            await until(pilot, lambda: history.get(ids[37]).starred)
            await until(pilot, lambda: str(table.get_cell_at((2, 0))).startswith("★"))

            await pilot.press("asterisk")
            await until(pilot, lambda: screen.state_key == "starred")
            await settle(pilot)
            assert [job.id for job in screen.loaded] == [ids[37], ids[5]]
            assert table.row_count == 2

            # G / g: last and first row, kept on screen
            await pilot.press("asterisk")
            await until(pilot, lambda: screen.state_key == "all")
            await settle(pilot)
            await pilot.press("G")
            await pilot.pause()
            assert table.cursor_row == table.row_count - 1
            assert table.scroll_y == table.max_scroll_y > 0
            await pilot.press("g")
            await pilot.pause()
            assert table.cursor_row == 0 and table.scroll_y == 0


# ------------------------------------------------------------------ filters and keys


async def test_slash_filters_the_list_and_escape_clears_it(
    frozen_services: Any, family: dict[str, int]
) -> None:
    async with frozen_app(frozen_services, count=6) as (app, pilot):
        services = app.services
        await pilot.press("f3", "slash")
        field = app.main_screen.query_one(ListFilterInput)
        assert app.focused is field
        await pilot.press(*"water")  # typed letters stay text: no job command runs
        await until(pilot, lambda: shown_ids(app) == [family["cell1"]])
        assert field.value == "water"
        await pilot.press("escape")
        await until(pilot, lambda: len(shown_ids(app)) == 6)
        assert field.value == "" and not pool_of(app).filter.active
        assert isinstance(app.focused, JobList)
        assert services.history.get(family["queued"]).cancel_requested is False

        # Enter keeps the filter and goes back to the list, on a matching job
        await pilot.press("slash", *"LIGHTHOUSE", "enter")
        await until(pilot, lambda: len(shown_ids(app)) == 4)
        assert isinstance(app.focused, JobList)
        assert pool_of(app).selected_job_id in shown_ids(app)


async def test_lineage_and_sweep_filters_and_the_grid_of_an_older_sweep(
    frozen_services: Any, family: dict[str, int], app_home: Path
) -> None:
    # Forty newer jobs push the sweep off the first page of cards.
    with History(database(app_home), clock=lambda: T0 - 50) as history:
        for n in range(40):
            done(history, history.create_job(JobRequest(f"later {n}", "1024_1024")).id,
                 took=5, at=T0 - 10)
    async with frozen_app(frozen_services, count=46) as (app, pilot):
        pool = pool_of(app)
        assert pool.card_for(family["cell1"]) is None  # not mounted yet: an older page

        app.main_screen.select_job(family["cell2"])
        await until(pilot, lambda: pool.selected_job_id == family["cell2"])
        await pilot.press("f3", "W")
        await until(pilot, lambda: shown_ids(app) == [family["cell2"], family["cell1"]])
        await pilot.press("W")
        await until(pilot, lambda: len(shown_ids(app)) >= PAGE)

        pool.select(family["child"])
        await pilot.pause()
        await pilot.press("L")
        await until(pilot, lambda: shown_ids(app) == [family["child"], family["root"]])
        await pilot.press("L")
        await until(pilot, lambda: not pool.filter.active)

        pool.select(family["cell1"])
        await pilot.pause()
        await run_from_palette(pilot, "Open sweep grid")
        await until(pilot, lambda: isinstance(app.screen, SweepScreen))
        await settle(pilot)
        cells = app.screen.query(SweepCell)
        assert sorted(cell.job.id for cell in cells) == [family["cell1"], family["cell2"]]
        assert app.screen.sweep_id == "sweep-aaaa"  # type: ignore[attr-defined]
        await pilot.press("q")
        await until(pilot, lambda: app.screen is app.main_screen)
        await pilot.press("w")  # the key does the same
        await until(pilot, lambda: isinstance(app.screen, SweepScreen))


async def test_list_keys_move_and_keep_the_selection_on_screen(
    frozen_services: Any, app_home: Path
) -> None:
    with History(database(app_home), clock=lambda: T0 - 50) as history:
        for n in range(80):
            done(history, history.create_job(JobRequest(f"job {n}", "1024_1024")).id,
                 took=5, at=T0 - 10)
    async with frozen_app(frozen_services, count=80, size=(100, 30)) as (app, pilot):
        view = app.main_screen.query_one(JobList)
        pool = pool_of(app)
        assert pool.mounted_count == PAGE  # far fewer cards than jobs

        def on_screen(job_id: int) -> bool:
            region = card(app, job_id).region
            return bool(region) and view.region.contains_region(region)

        await pilot.press("f3")
        assert pool.selected_job_id == 80
        await pilot.press("j", "j", "k")
        assert pool.selected_job_id == 79
        await pilot.press("G")
        await until(pilot, lambda: pool.selected_job_id == 1)
        await until(pilot, lambda: on_screen(1))
        assert pool.mounted_count == 80  # every job in reach
        await pilot.press("g")
        await until(pilot, lambda: pool.selected_job_id == 80 and on_screen(80))
        await pilot.press("end")
        await until(pilot, lambda: pool.selected_job_id == 1 and on_screen(1))
        await pilot.press("home")
        await until(pilot, lambda: pool.selected_job_id == 80 and on_screen(80))
        for _ in range(20):
            await pilot.press("j")
        await until(pilot, lambda: pool.selected_job_id == 60 and on_screen(60))
        await pilot.resize_terminal(100, 18)  # a shorter list keeps its selection in view
        await until(pilot, lambda: on_screen(60))


async def test_ctrl_t_detaches_the_composer_from_its_parent(
    frozen_services: Any, family: dict[str, int]
) -> None:
    async with frozen_app(frozen_services, count=6) as (app, pilot):
        await pilot.press("f3")
        pool_of(app).select(family["root"])
        await pilot.pause()
        await pilot.press("i")  # iterate: the composer's parent is the root
        composer = app.main_screen.query_one(Composer)
        await until(pilot, lambda: composer.parent_id == family["root"])
        await pilot.press("ctrl+t")  # from inside the prompt editor
        await until(pilot, lambda: composer.parent_id is None)


# ------------------------------------------------------------------ the list stays cheap


class PoolApp(App[None]):
    """The pool alone, styled by the app's stylesheet."""

    CSS_PATH = [str(path) for path in STYLESHEETS]

    def __init__(self, events: list[JobEvent], durations: list[float]) -> None:
        super().__init__()
        self.events = events
        self.durations = durations

    def compose(self) -> ComposeResult:
        yield JobPool(id="pool")

    def on_mount(self) -> None:
        self.query_one(JobPool).load(self.events, now=T0, durations=self.durations)


class LatePoolApp(App[None]):
    """The pool alone, its jobs read only when the test says (the list focused before)."""

    CSS_PATH = PoolApp.CSS_PATH

    def compose(self) -> ComposeResult:
        yield JobPool(id="pool")


async def test_a_list_focused_before_its_jobs_were_read_highlights_the_newest() -> None:
    events = [JobEvent(_job(n, JobState.COMPLETED, files=("x.png",))) for n in range(3, 0, -1)]
    app = LatePoolApp()
    async with app.run_test(size=(60, 30)) as pilot:
        pool = app.query_one(JobPool)
        view = pool.query_one(JobList)
        pool.focus_list()  # f3 at start: the list has no jobs yet (only its "more" row)
        await pilot.pause()
        assert view.index is None and view.has_focus
        pool.load(events, now=T0)
        await until(pilot, lambda: pool.selected_job_id == 3)  # the newest, as if focused now
        assert view.has_focus


def _job(number: int, state: JobState, **fields: Any) -> Job:
    return Job(number, JobRequest(f"job {number}", "1024_1024"), state, T0 - 60, T0, **fields)


async def test_queued_cards_stand_still_and_the_timer_runs_only_for_running_ones() -> None:
    events = [JobEvent(_job(n, JobState.QUEUED, queue_position=n)) for n in range(1, 11)]
    app = PoolApp(events, durations=[])
    async with app.run_test(size=(60, 30)) as pilot:
        pool = app.query_one(JobPool)
        await until(pilot, lambda: pool.mounted_count == 10)
        bars = {c.job_id: str(c.query_one(".badge", Label).render()) for c in pool.query(JobCard)}
        assert all("╍╍╍" in bar for bar in bars.values())  # a still "waiting" bar
        assert not pool.animating  # nothing to animate: no timer at all
        await pilot.pause(1.2)
        assert {c.job_id: str(c.query_one(".badge", Label).render())
                for c in pool.query(JobCard)} == bars

        # A running job without an estimate moves (≤ 2 frames a second); the queued don't.
        running = JobEvent(_job(11, JobState.RUNNING, started_at=T0 - 5))
        pool.apply(running, now=T0)
        await until(pilot, lambda: pool.animating)
        runner = pool.card_for(11)
        assert runner is not None
        await until(pilot, lambda: runner.is_mounted and bool(runner.query(".badge")))
        first = str(runner.query_one(".badge", Label).render())
        await until(pilot, lambda: str(runner.query_one(".badge", Label).render()) != first)
        assert {c.job_id: str(c.query_one(".badge", Label).render())
                for c in pool.query(JobCard) if c.job_id != 11} == bars

        # When it finishes, the timer stops.
        pool.apply(JobEvent(_job(11, JobState.COMPLETED, started_at=T0 - 5, finished_at=T0,
                                 files=("x.png",))), now=T0)
        await until(pilot, lambda: not pool.animating)


async def test_only_cards_intersecting_the_viewport_are_drawn_and_pages_mount_on_demand() -> None:
    events = [JobEvent(_job(n, JobState.QUEUED, queue_position=n)) for n in range(200, 0, -1)]
    app = PoolApp(events, durations=[])
    async with app.run_test(size=(60, 21)) as pilot:  # the list: 20 rows, 10 cards
        pool = app.query_one(JobPool)
        view = app.query_one(JobList)
        await until(pilot, lambda: pool.mounted_count == PAGE)
        await pilot.pause()

        def intersecting() -> list[int]:
            visible = view.scrollable_content_region
            return [c.job_id for c in view.children
                    if isinstance(c, JobCard) and c.region.overlaps(visible)]

        assert [c.job_id for c in pool._cards_in_view()] == intersecting()
        assert len(intersecting()) == 10
        more = app.query_one(MoreJobs)
        assert more.display and "170 older jobs" in str(more.query_one(Label).render())
        view.scroll_to(y=3, animate=False)  # a card cut at the top and one at the bottom
        await pilot.pause()
        assert [c.job_id for c in pool._cards_in_view()] == intersecting()
        assert len(intersecting()) == 11

        # News for a card out of view is kept, not drawn, until it scrolls into view.
        below = pool.card_for(175)
        assert below is not None and below not in pool._cards_in_view()
        before = str(below.query_one(".card-status", Label).render())
        pool.apply(JobEvent(_job(175, JobState.RUNNING, started_at=T0)), now=T0)
        assert below.stale and str(below.query_one(".card-status", Label).render()) == before
        view.scroll_to(y=(200 - 175) * 2, animate=False)
        await until(pilot, lambda: not below.stale)
        assert "running" in str(below.query_one(".card-status", Label).render())

        # Reaching the end of the mounted cards mounts the next page; nothing is lost. (The
        # scroll above may have reached the end and mounted a page already: once the list is
        # laid out again, the end is further down.)
        await settle(pilot)
        mounted = pool.mounted_count
        view.scroll_end(animate=False)
        await until(pilot, lambda: pool.mounted_count == mounted + PAGE)
        assert len(pool.job_ids()) == 200
        # ... and so does moving onto the "older jobs" row with the keys
        view.focus()
        view.index = len(view.children) - 2  # the last card
        await pilot.pause()
        await pilot.press("down")
        await until(pilot, lambda: pool.mounted_count == mounted + 2 * PAGE)
        assert isinstance(view.highlighted_child, JobCard)
        assert view.highlighted_child.job_id == 200 - mounted - PAGE


async def test_a_tick_repaints_only_cards_in_view_whose_text_changed() -> None:
    # 30 queued jobs and one running at the top; the list shows 10 cards (each two rows).
    queued = [JobEvent(_job(n, JobState.QUEUED, queue_position=n)) for n in range(30, 0, -1)]
    running = JobEvent(_job(31, JobState.RUNNING, started_at=T0))
    app = PoolApp([running, *queued], durations=[])
    async with app.run_test(size=(60, 21)) as pilot:
        pool = app.query_one(JobPool)
        await until(pilot, lambda: pool.mounted_count == PAGE)
        await pilot.pause()
        in_view = {card.job_id for card in pool._cards_in_view()}
        assert len(in_view) == 10 and 31 in in_view

        updates: dict[int, int] = {card.job_id: 0 for card in pool.query(JobCard)}
        for each in pool.query(JobCard):
            for label in each.query(Label):
                def counted(*args: Any, _id: int = each.job_id, _update: Any = label.update,
                            **kwargs: Any) -> None:
                    updates[_id] += 1
                    _update(*args, **kwargs)
                label.update = counted  # type: ignore[method-assign]

        # Ticks within the first minute: only the running card's clock moves.
        for second in range(1, 60):
            pool.tick(T0 + second)
        assert updates[31] == 59
        assert {count for job_id, count in updates.items() if job_id != 31} == {0}
        assert str(pool.card_for(30).query_one(".card-status", Label).render()).endswith(  # type: ignore[union-attr]
            "queued <1 min · position 30")

        # The minute turns: each queued card in view repaints its line once; none out of view.
        updates[31] = 0
        pool.tick(T0 + 60)
        assert {job_id for job_id, count in updates.items() if count} == in_view
        assert set(updates[job_id] for job_id in in_view - {31}) == {1}
        assert "queued 1 min · position 30" in str(
            pool.card_for(30).query_one(".card-status", Label).render())  # type: ignore[union-attr]
