"""Pilot tests of the app against the real offline backend on loopback and real SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SLOW, app_for, settle, until
from textual import events
from textual.pilot import Pilot
from textual.widgets import Label
from textual.widgets._footer import FooterKey

from tui.config import Settings, load_settings
from tui.iterate.draft import ComposerDraft
from tui.jobs.events import JobEvent
from tui.models import Job, JobRequest, JobState
from tui.offline.faults import Fault
from tui.offline.server import OfflineServer
from tui.services.graph import Services, open_services
from tui.ui.app import GptImageApp, Prefill
from tui.ui.cursor_rest import CursorRest
from tui.ui.idle_gc import YOUNG_THRESHOLD, IdleCollector
from tui.ui.screens.confirm import ConfirmQuit
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.main import MainScreen
from tui.ui.widgets.composer import PromptEditor, SizePicker
from tui.ui.widgets.job_card import JobCard
from tui.ui.widgets.job_pool import JobPool
from tui.ui.widgets.references import ReferenceItem


def card(app: GptImageApp, job_id: int) -> JobCard:
    return app.main_screen.query_one(f"#job-{job_id}", JobCard)


def card_status(app: GptImageApp, job_id: int) -> str:
    """The card's status line ("" while the card is mounted but its lines are not yet)."""
    lines = card(app, job_id).query(".card-status").results(Label)
    return next((str(line.render()) for line in lines), "")


def label_text(app: GptImageApp, selector: str) -> str:
    return str(app.main_screen.query_one(selector, Label).render())


def job_state(services: Services, job_id: int) -> JobState:
    return services.history.get(job_id).state


async def submit(pilot: Pilot, text: str) -> None:
    pilot.app.main_screen.query_one(PromptEditor).focus()
    await pilot.press(*text)
    await pilot.press("ctrl+j")
    await pilot.pause()


async def test_type_and_submit_with_ctrl_j_inside_the_editor(services: Services) -> None:
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.main_screen.query_one(PromptEditor)
        assert app.focused is editor
        await pilot.press(*"a red fox")
        assert editor.text == "a red fox"
        await pilot.press("ctrl+j")
        await until(pilot, lambda: services.history.count() == 1)
        job_id = services.history.list_jobs()[0].id
        await until(pilot, lambda: job_state(services, job_id) is JobState.COMPLETED)
        job = services.history.get(job_id)
        path = Path(job.files[0])
        assert path.is_file()
        # The card says the state and when (the file is in the details and behind `y`).
        await until(pilot, lambda: "\ndone · " in card_status(app, job_id))
        assert path.name not in card_status(app, job_id)
        assert editor.text == "a red fox"  # the prompt is kept across submits
        assert "DONE" in str(card(app, job_id).query_one(".badge", Label).render())


async def test_sizes_offer_auto_only_with_references(services: Services) -> None:
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.main_screen
        picker = screen.query_one(SizePicker)

        def offered() -> list[str]:
            return [str(prompt) for prompt, _ in picker.select._options]

        assert offered() == [
            "1:1 square · 1024×1024", "2:3 portrait · 1024×1536", "3:2 landscape · 1536×1024"
        ]
        assert picker.value == "1024_1024"
        assert "1:1 square" in str(picker.select.query_one("SelectCurrent Static").render())
        assert "text-to-image" in label_text(app, "#endpoint")
        screen.query_one("#ref-input").focus()
        await pilot.press(*"https://example.com/cat.png", "enter")
        await pilot.pause()
        assert "auto (keep input aspect)" in offered() and picker.value == "auto"
        assert "edit" in label_text(app, "#endpoint")
        screen.query_one("#ref-list").focus()
        await pilot.press("delete")
        await pilot.pause()
        assert "auto (keep input aspect)" not in offered() and picker.value == "1024_1024"
        assert "text-to-image" in label_text(app, "#endpoint")
        # The keyboard picks a size: open the list, move down, choose.
        picker.select.focus()
        await pilot.press("enter", "down", "enter")
        await pilot.pause()
        assert picker.value == "1024_1536"


async def test_references_add_remove_reorder_and_refuse_inline(services: Services) -> None:
    app = app_for(services)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = app.main_screen
        screen.query_one("#ref-input").focus()

        async def add(url: str) -> None:
            field = screen.query_one("#ref-input")
            field.value = url  # type: ignore[attr-defined]
            await pilot.press("enter")
            await pilot.pause()

        await add("http://example.com/a.png")
        assert "https" in label_text(app, "#ref-error")
        assert screen.query_one("#ref-error").has_class("-shown")
        for n in range(10):
            await add(f"https://example.com/{n}.png")
        assert not screen.query_one("#ref-error").has_class("-shown")
        await add("https://example.com/3.png")
        assert "already in the list as image 4" in label_text(app, "#ref-error")
        await add("https://example.com/eleventh.png")
        assert "at most 10" in label_text(app, "#ref-error")
        items = list(screen.query(ReferenceItem))
        assert len(items) == 10
        first = str(items[0].query_one(Label).render())
        assert first.startswith("image 1 (primary)") and first.endswith("0.png")
        # Move the second to the top, then remove the (new) first.
        view = screen.query_one("#ref-list")
        view.focus()
        view.index = 1  # type: ignore[attr-defined]
        await pilot.press("shift+up")
        await pilot.pause()
        items = list(screen.query(ReferenceItem))
        assert str(items[0].query_one(Label).render()) == "image 1 (primary)  https://example.com/1.png"
        assert str(items[1].query_one(Label).render()) == "image 2  https://example.com/0.png"
        await pilot.press("delete")
        await pilot.pause()
        urls = screen.query_one("#references").urls  # type: ignore[attr-defined]
        assert urls[0] == "https://example.com/0.png" and len(urls) == 9
        assert "edit (9 references)" in label_text(app, "#endpoint")


async def test_blank_prompt_is_refused_next_to_the_field_and_nothing_is_sent(
    services: Services, offline_server: OfflineServer
) -> None:
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(" ", " ", "ctrl+j")
        await pilot.pause()
        error = app.main_screen.query_one("#prompt-error", Label)
        assert error.has_class("-shown")
        assert "empty" in str(error.render())
        assert services.history.count() == 0
    assert offline_server.stats.submits == 0


async def test_escape_cancels_a_queued_job(services: Services, offline_server: OfflineServer) -> None:
    offline_server.timing = SLOW
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await submit(pilot, "never mind")
        job_id = services.history.list_jobs()[0].id
        await until(pilot, lambda: job_state(services, job_id) is JobState.QUEUED)
        await pilot.press("f3", "escape")  # Escape cancels the job highlighted in the list
        await until(pilot, lambda: job_state(services, job_id) is JobState.CANCELLED)
        await until(pilot, lambda: "CANCEL" in str(card(app, job_id).query_one(".badge", Label).render()))
        assert offline_server.stats.cancels == 1
        assert "cancel" in card_status(app, job_id)


async def test_escape_on_a_running_job_says_it_will_be_billed_and_still_saves(
    services: Services, offline_server: OfflineServer
) -> None:
    offline_server.timing = SLOW
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await submit(pilot, "too late to stop")
        job_id = services.history.list_jobs()[0].id
        await until(pilot, lambda: services.history.get(job_id).request_id is not None)
        request_id = services.history.get(job_id).request_id
        assert request_id is not None
        offline_server.advance(request_id, "in_progress")
        await until(pilot, lambda: job_state(services, job_id) is JobState.RUNNING)
        await pilot.press("f3", "escape")
        await until(pilot, lambda: "can't be cancelled" in card_status(app, job_id))
        assert "billed" in card_status(app, job_id)
        offline_server.advance(request_id, "completed")
        await until(pilot, lambda: job_state(services, job_id) is JobState.COMPLETED)
        assert Path(services.history.get(job_id).files[0]).is_file()


async def left_behind(tmp_path: Path, offline_server: OfflineServer) -> tuple[Settings, Job]:
    """A job an earlier session submitted and left queued; the settings to resume it with.

    Offline-backend jobs die with their server, so these settings talk to the loopback server
    as if it were the real API (plain http is allowed for loopback bases)."""
    settings = load_settings(
        api_base=offline_server.base_url, output_dir=tmp_path / "out", poll_interval=0.05
    )
    earlier = open_services(settings, offline_server=offline_server)
    request = JobRequest("left behind", "1024_1024")
    answer = await earlier.client.submit(request)
    job = earlier.history.create_job(request)
    earlier.history.update(job.id, state=JobState.SUBMITTING)
    earlier.history.update(job.id, state=JobState.QUEUED, request_id=answer.request_id)
    await earlier.aclose()
    return settings, job


async def test_jobs_from_an_earlier_session_are_resumed_and_marked(
    app_home: Path, tmp_path: Path, offline_server: OfflineServer
) -> None:
    settings, job = await left_behind(tmp_path, offline_server)
    services = open_services(settings, offline_server=offline_server)
    try:
        app = app_for(services)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert card(app, job.id).has_class("-resumed")
            await until(pilot, lambda: job_state(services, job.id) is JobState.COMPLETED)
            assert card(app, job.id).has_class("-resumed")
            assert Path(services.history.get(job.id).files[0]).is_file()
        assert offline_server.stats.submits == 1  # picked up, never resubmitted
    finally:
        await services.aclose()


async def test_draft_is_saved_while_typing_and_restored_at_start(services: Services) -> None:
    services.history.save_draft("composer", "a draft from before the crash")
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.main_screen.query_one(PromptEditor)
        assert editor.text == "a draft from before the crash"
        await pilot.press("!", "!")
        await until(
            pilot,
            lambda: ComposerDraft.from_text(services.history.load_draft("composer")).prompt
            == "a draft from before the crash!!",
        )


async def test_keys_typed_in_one_burst_with_ctrl_q_are_in_the_saved_draft(
    services: Services,
) -> None:
    """A paste or a fast typist over SSH: the keys and ctrl+q arrive together; the app quits
    with every key in the draft (ctrl+q is handled at once, the keys still queued)."""
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for key in [*"the last words", "ctrl+q"]:
            character = key if len(key) == 1 else None
            app.post_message(events.Key(key.replace(" ", "space"), character))
        await until(pilot, lambda: app.return_code is not None)
    draft = ComposerDraft.from_text(services.history.load_draft("composer"))
    assert draft.prompt == "the last words"


async def test_prefill_from_launch_flags(services: Services) -> None:
    services.history.save_draft("composer", "not this")
    prefill = Prefill("from the flag", "auto", ("https://example.com/ref.png",))
    app = app_for(services, prefill=prefill)
    async with app.run_test(size=(100, 30)):
        screen = app.main_screen
        assert screen.query_one(PromptEditor).text == "from the flag"
        assert screen.query_one(SizePicker).value == "auto"
        assert screen.query_one("#references").urls == ["https://example.com/ref.png"]  # type: ignore[attr-defined]


async def test_hostile_server_error_is_shown_sanitised_and_never_as_markup(
    services: Services, offline_server: OfflineServer
) -> None:
    offline_server.force("submit", Fault.HOSTILE_FAILURE)
    app = app_for(services)
    async with app.run_test(size=(140, 30)) as pilot:
        await submit(pilot, "anything")
        job_id = services.history.list_jobs()[0].id
        await until(pilot, lambda: job_state(services, job_id) is JobState.FAILED)
        await pilot.pause()
        shown = card_status(app, job_id)
        assert "\x1b" not in shown and "\x07" not in shown
        assert "[@click=app.quit]" in shown  # literal text, not a live action
        assert "[bold red]pwned" in shown
        details = str(app.main_screen.query_one("#details-text").render())
        assert "\x1b" not in details and "[@click=app.quit]" in details
        assert app.is_running


async def test_quit_with_jobs_in_flight_asks_and_cancels_nothing(
    services: Services, offline_server: OfflineServer
) -> None:
    offline_server.timing = SLOW
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await submit(pilot, "keep going")
        job_id = services.history.list_jobs()[0].id
        await until(pilot, lambda: job_state(services, job_id) is JobState.QUEUED)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmQuit)
        text = str(app.screen.query_one("#confirm-text", Label).render())
        assert "1 job in flight will be resumed next time — quit?" in text
        await pilot.press("n")
        await pilot.pause()
        assert app.is_running and not isinstance(app.screen, ConfirmQuit)
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert not app.is_running
    assert offline_server.stats.cancels == 0
    assert services.history.get(job_id).state is JobState.QUEUED


async def test_help_lists_keys_and_graphics_mode(services: Services) -> None:
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for key in ("ctrl+j", "escape", "ctrl+q", "graphics:", "RUNCOMFY_TOKEN"):
            assert key in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_everything_is_visible_at_80x24(services: Services) -> None:
    app = app_for(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await submit(pilot, "small terminal")
        job_id = services.history.list_jobs()[0].id
        await until(pilot, lambda: job_state(services, job_id) is JobState.COMPLETED)
        await pilot.pause()
        screen = app.main_screen
        assert screen.has_class("-narrow")
        for selector in ("#offline-badge", "#prompt", "#char-count", "#endpoint", "#size",
                         "#ref-input", "#pool-title", f"#job-{job_id}", "#details", "Footer"):
            widget = screen.query_one(selector)
            region = widget.region
            assert region.area > 0, selector
            assert screen.region.contains_region(region), selector
            hit, _ = screen.get_widget_at(region.x, region.y)
            assert hit is widget or widget in hit.ancestors_with_self, selector
        assert screen.region.contains_region(screen.query_one("#size-select").region)


async def test_a_second_window_sees_another_process_jobs_without_following_them(
    services: Services, offline_server: OfflineServer, tmp_path: Path
) -> None:
    import os

    from conftest import Rig

    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        other = Rig(offline_server, tmp_path / "other", pid=os.getppid(),
                    database=services.history.path, backend=services.engine.backend)
        try:
            job = await other.engine.follow(other.job("made in another window"))
            assert job.state is JobState.COMPLETED
            await until(pilot, lambda: bool(app.main_screen.query(f"#job-{job.id}")))
            await until(pilot, lambda: card(app, job.id).event.job.state is JobState.COMPLETED)
            await until(pilot, lambda: "done · " in card_status(app, job.id))
            assert not services.engine.is_following(job.id)
            assert offline_server.stats.submits == 1
        finally:
            await other.aclose()


async def test_a_request_id_history_refused_is_shown_to_the_user(
    services: Services, offline_server: OfflineServer
) -> None:
    from test_nothing_lost import Locker

    services.engine.request_id_patience = 0.2
    lockers: list[Locker] = []

    def lock_once_submitting(event) -> None:  # type: ignore[no-untyped-def]
        if event.job.state is JobState.SUBMITTING and not lockers:
            lockers.append(Locker(services.history.path))

    services.engine.subscribe(lock_once_submitting)
    app = app_for(services)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await submit(pilot, "locked out")
            await until(pilot, lambda: bool(lockers) and any(
                "keep it" in str(n.message) for n in app._notifications
            ), seconds=30)
            (shown,) = [str(n.message) for n in app._notifications if "keep it" in str(n.message)]
            request_id = shown.split("request id ")[1].split(" ")[0]
            assert request_id == offline_server.request_ids()[0]
            assert request_id in label_text(app, "#status")
    finally:
        for locker in lockers:
            locker.release()


async def test_text_typed_just_before_ctrl_j_is_in_the_job(services: Services) -> None:
    """Keys and ctrl+j arriving in one burst (a paste over SSH, tmux send-keys)."""
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.main_screen.query_one(PromptEditor)
        editor.focus()
        for key in ["a", "space", "b", "ctrl+j"]:  # posted together: nothing runs in between
            app.post_message(events.Key(key, {"space": " "}.get(key, key if len(key) == 1 else None)))
        await until(pilot, lambda: services.history.count() == 1)
        assert services.history.list_jobs()[0].request.prompt == "a b"


async def test_prices_known_before_the_start_reach_the_composer(services: Services) -> None:
    """Prices already in memory arrive before the main screen is composed; they wait for it."""
    from tui.services.account import fetch_prices
    from tui.ui.widgets.composer import Composer

    await fetch_prices(services)  # now every lookup answers at once
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        # The prices worker starts after the first refresh and its answer is handed to the
        # screen through its queue: wait for the composer to have it (settle can return before
        # that worker even started, on a loaded machine).
        composer = app.main_screen.query_one(Composer)
        await until(pilot, lambda: composer.price() is not None)
        assert label_text(app, "#price") == "Price offline · $0, nothing billed"


async def test_the_cursor_stops_blinking_when_nobody_types_and_a_key_wakes_it(
    services: Services,
) -> None:
    now = [0.0]  # the time since the last input is read from this hand-turned clock
    app = app_for(services)
    app.cursor_rest = CursorRest(app, 10.0, clock=lambda: now[0], check_every=0.02)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.main_screen.query_one(PromptEditor)
        assert app.focused is editor
        await pilot.pause(0.2)  # many checks, but no time has passed on the clock
        assert editor.cursor_blink and not app.cursor_rest.resting
        now[0] = 10.5
        await until(pilot, lambda: app.cursor_rest.resting)
        assert editor.cursor_blink is False
        assert editor._cursor_visible  # shown solid, not hidden mid-blink
        await pilot.press("x")
        assert editor.cursor_blink is True and not app.cursor_rest.resting
        assert editor.text.endswith("x")  # the key that woke it was typed, not swallowed
        # With nothing focused that has a cursor, resting stops the checks all the same, and
        # the next input starts them again.
        app.set_focus(None)
        now[0] = 30.0
        await until(pilot, lambda: app.cursor_rest.resting)
        editor.focus()
        await pilot.click(PromptEditor)
        assert not app.cursor_rest.resting
        now[0] = 50.0
        await until(pilot, lambda: app.cursor_rest.resting)
        assert editor.cursor_blink is False


async def test_a_cursor_that_was_not_blinking_is_left_alone(services: Services) -> None:
    now = [0.0]
    app = app_for(services)
    app.cursor_rest = CursorRest(app, 10.0, clock=lambda: now[0], check_every=0.02)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.main_screen.query_one(PromptEditor)
        editor.cursor_blink = False  # someone else's choice (a setting, a snapshot)
        now[0] = 11.0
        await until(pilot, lambda: app.cursor_rest.resting)
        await pilot.press("y")
        assert editor.cursor_blink is False  # not turned on by waking


async def test_quick_start_draws_the_composer_first_and_loses_nothing_that_came_meanwhile(
    app_home: Path, tmp_path: Path, offline_server: OfflineServer
) -> None:
    """The launch's quick start: the first frame has the composer alone; the job list comes
    right after, with the job resumed at start (its news came before the list did)."""
    settings, job = await left_behind(tmp_path, offline_server)
    services = open_services(settings, offline_server=offline_server)
    try:
        app = app_for(services)
        app.quick_start = True
        first_frame: list[bool] = []  # was the job list there in the first frame?
        display = app._display

        def probe(screen: object, renderable: object) -> None:
            if not first_frame and renderable is not None:
                first_frame.append(bool(app.main_screen.query(JobPool)))
                # news that only an event carries, sent before the job list is there; kept
                # with the job's live numbers, as the engine keeps it, so the job's later news
                # carries it too (a newer event replaces an older one waiting in the feed)
                services.engine.book.live(job.id).unsaved_request_id = "rid-kept-for-you"
                app.feed.publish(JobEvent(job=services.history.get(job.id),
                                          unsaved_request_id="rid-kept-for-you"))
            display(screen, renderable)  # type: ignore[arg-type]

        app._display = probe  # type: ignore[method-assign]
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: bool(first_frame) and app.main_screen.job_side_ready)
            assert first_frame == [False]
            await settle(pilot)
            assert card(app, job.id).has_class("-resumed")  # resumed before the list existed
            assert "rid-kept-for-you" in label_text(app, "#status")
            await pilot.press(*"abc")
            assert app.main_screen.query_one(PromptEditor).text.endswith("abc")
            await until(pilot, lambda: job_state(services, job.id) is JobState.COMPLETED)
            await until(pilot, lambda: "DONE" in str(card(app, job.id).query_one(".badge", Label).render()))
        assert offline_server.stats.submits == 1
    finally:
        await services.aclose()


async def test_quick_start_shows_the_prompt_first_then_the_whole_composer_as_it_was_left(
    services: Services,
) -> None:
    """The quick start's first frame is the prompt editor alone; what was left in the composer
    (the size, the references, the parent being iterated on) and the price are all there once
    the rest of it is built, and the first frame's values were those too."""
    parent = services.history.create_job(JobRequest("a fox at dawn", "1024_1024"))
    draft = ComposerDraft("a fox at dusk", "auto", ("https://example.com/fox.png",), parent.id)
    services.history.save_draft("composer", draft.to_json())
    app = app_for(services)
    app.quick_start = True
    first_frame: list[tuple[bool, tuple[str, str, list[str]]]] = []
    display = app._display

    def probe(screen: object, renderable: object) -> None:
        if not first_frame and renderable is not None:
            composer = app.main_screen.composer
            first_frame.append((bool(app.main_screen.query(SizePicker)), composer.values()))
        display(screen, renderable)  # type: ignore[arg-type]

    app._display = probe  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: bool(first_frame) and app.main_screen.job_side_ready)
        await settle(pilot)
        assert first_frame == [
            (False, ("a fox at dusk", "auto", ["https://example.com/fox.png"]))
        ]
        screen = app.main_screen
        assert screen.composer.values() == ("a fox at dusk", "auto", ["https://example.com/fox.png"])
        assert screen.composer.parent_id == parent.id
        assert f"child of #{parent.id}" in label_text(app, "#parent-line")
        await until(pilot, lambda: "$" in label_text(app, "#price"))  # the catalog's price
        assert label_text(app, "#char-count") == "13/12,000"
        await pilot.press("!")
        assert screen.composer.values()[0] == "a fox at dusk!"


async def test_quick_start_draws_the_footer_keys_before_building_the_job_side(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The footer's keys come with the frame after the first, not behind the ~100 ms of the
    job side being built (a screen with its keys looks ready; the job list comes a frame
    later)."""
    app = app_for(services)
    app.quick_start = True
    keys_when_built: list[int] = []  # footer keys drawn when the job side's build began
    drawn: list[int] = [0]
    display = app._display

    def probe(screen: object, renderable: object) -> None:
        if renderable is not None:
            drawn[0] = len(app.main_screen.query(FooterKey))
        display(screen, renderable)  # type: ignore[arg-type]

    app._display = probe  # type: ignore[method-assign]
    build = MainScreen._build_job_side

    async def watched(screen: MainScreen) -> None:
        keys_when_built.append(drawn[0])
        await build(screen)

    monkeypatch.setattr(MainScreen, "_build_job_side", watched)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.main_screen.job_side_ready)
        assert keys_when_built and keys_when_built[0] > 0


async def test_full_collections_wait_for_quiet_input_and_the_collector_is_given_back(
    services: Services,
) -> None:
    """The launch's idle collector: no automatic full collection while the app runs (what the
    start built is frozen); one is made when input has been quiet for a second and ten seconds
    have passed since the last, never while keys are coming; the collector's settings are put
    back when the app stops."""
    import gc

    before = gc.get_threshold()
    now = [0.0]
    made: list[float] = []
    app = app_for(services)
    app.idle_gc = IdleCollector(
        app, clock=lambda: now[0], collect=lambda: made.append(now[0]), check_every=0.02,
        due_after=0,
    )
    gc.disable()  # as the entry point does: no collections at all until the collector starts
    assert not gc.isenabled()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.idle_gc is not None and app.idle_gc.running)
        assert gc.isenabled()  # young collections run again once the start is over
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD and gc.get_threshold()[2] > 100_000
        assert gc.get_freeze_count() > 0
        # The clock only moves where no check can land between the move and the key.
        now[0] = 9.5
        await pilot.press("a")  # a key: the quiet second starts again (not ten seconds yet)
        now[0] = 10.2
        await pilot.pause(0.2)
        assert made == []  # ten seconds since the last, but a key 0.7 s ago
        now[0] = 10.6
        await until(pilot, lambda: made == [10.6])  # quiet for a second: collected
        now[0] = 15.0
        await pilot.pause(0.2)
        assert made == [10.6]  # and not again for ten seconds
        for moment in (30.0, 50.0, 70.0, 72.0):  # a key at every moment: never quiet ...
            now[0] = moment
            app.idle_gc.saw(events.Key("b", "b"))
            await pilot.pause(0.1)
        await until(pilot, lambda: len(made) > 1)
        assert made[1:] == [72.0]  # ... yet one within 60 s of the last, and only then
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()
