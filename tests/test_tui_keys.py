"""Keys never surprise, nothing typed is lost: Escape, letters in text fields, loads that keep
what they replace, the whole composer as the draft. Pilot against the real offline backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import SLOW, app_for, run_from_palette, settle, until
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, Label, Select

from tui.iterate.draft import ComposerDraft
from tui.models import JobRequest, JobState
from tui.offline.server import OfflineServer
from tui.services.graph import Services
from tui.storage.history import History
from tui.ui.app import GptImageApp
from tui.ui.drafts import DraftKeeper
from tui.ui.keys import types_text
from tui.ui.screens import main as main_screen
from tui.ui.screens.history import HistoryScreen
from tui.ui.screens.main import DRAFT_KEY
from tui.ui.widgets.composer import Composer, PromptEditor, SizePicker
from tui.ui.widgets.job_pool import JobList, JobPool
from tui.ui.widgets.references import ReferenceList


def status(app: GptImageApp) -> str:
    return str(app.main_screen.query_one("#status", Label).render())


def notice(app: GptImageApp) -> str:
    return str(app.main_screen.query_one("#notice", Label).render())


async def queued_job(pilot: Pilot[Any], services: Services, prompt: str) -> int:
    """Submit ``prompt`` (the server is slow: it stays queued) and return its id."""
    app: Any = pilot.app
    editor = app.main_screen.query_one(PromptEditor)
    editor.focus()
    before = services.history.count()
    await pilot.press(*prompt)
    await pilot.press("ctrl+j")
    await until(pilot, lambda: services.history.count() == before + 1)
    job_id = services.history.list_jobs()[0].id
    await until(pilot, lambda: services.history.get(job_id).state is JobState.QUEUED)
    return job_id


def seeded_job(services: Services, prompt: str, size: str = "1024_1536") -> int:
    """A job in the history that was never sent (nothing to follow, nothing billed)."""
    job = services.history.create_job(JobRequest(prompt, size))
    services.history.update(job.id, state=JobState.NOT_SENT, error="not sent")
    return job.id


# ------------------------------------------------------------------ Escape


async def test_escape_with_the_size_dropdown_open_closes_it_and_cancels_nothing(
    services: Services, offline_server: OfflineServer
) -> None:
    offline_server.timing = SLOW
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        job_id = await queued_job(pilot, services, "keep me")
        select = app.main_screen.query_one("#size-select", Select)
        select.focus()
        await pilot.press("enter")
        await until(pilot, lambda: select.expanded)
        await pilot.press("escape")
        await pilot.pause()
        assert not select.expanded  # the dropdown closed …
        assert app.main_screen.composer in app.focused.ancestors_with_self  # type: ignore[union-attr]
        await settle(pilot)  # a cancel, had one been asked, would have reached the server
        assert services.history.get(job_id).state is JobState.QUEUED  # … and nothing else
        assert offline_server.stats.cancels == 0


async def test_escape_in_the_prompt_editor_leaves_it_and_never_cancels(
    services: Services, offline_server: OfflineServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline_server.timing = SLOW
    # However slow the machine, the two presses below count as one burst of Escapes.
    monkeypatch.setattr(main_screen, "ESCAPE_REPEAT", 3600.0)
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        job_id = await queued_job(pilot, services, "still wanted")
        assert isinstance(app.focused, PromptEditor)
        await pilot.press("escape")
        assert isinstance(app.focused, JobList)  # Escape left the editor for the job list
        await pilot.press("escape")  # the same burst of Escapes: still nothing cancelled
        await settle(pilot)
        assert services.history.get(job_id).state is JobState.QUEUED
        assert offline_server.stats.cancels == 0
        assert f"Esc again cancels #{job_id}" in status(app)
        monkeypatch.setattr(main_screen, "ESCAPE_REPEAT", 0.0)
        said: list[str] = []
        say = app.main_screen.say
        monkeypatch.setattr(app.main_screen, "say",
                            lambda text, **about: (said.append(text), say(text, **about)))
        await pilot.press("escape")  # a fresh Escape on the list cancels the highlighted job
        await until(pilot, lambda: services.history.get(job_id).state is JobState.CANCELLED)
        assert f"cancelling #{job_id} (still wanted)" in said  # named
        # … and once the cancel has been answered, the status line says how it ended
        await until(pilot, lambda: f"#{job_id}: cancelled" in status(app))
        assert "cancelling" not in status(app)


async def test_a_status_line_about_a_job_in_flight_says_how_it_ended(
    services: Services, offline_server: OfflineServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """"Esc again cancels #N" is no advice once #N has ended: the line then says it ended."""
    offline_server.timing = SLOW
    monkeypatch.setattr(main_screen, "ESCAPE_REPEAT", 3600.0)
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        job_id = await queued_job(pilot, services, "finishing anyway")
        await pilot.press("escape", "escape")  # one burst: the hint, no cancel
        assert f"Esc again cancels #{job_id}" in status(app)
        request_id = services.history.get(job_id).request_id
        assert request_id is not None
        offline_server.advance(request_id, "completed")
        await until(pilot, lambda: f"#{job_id}: completed" in status(app))
        assert "Esc again" not in status(app)
        assert offline_server.stats.cancels == 0


async def test_escape_on_a_finished_job_says_so_and_cancels_nothing_else(
    services: Services, offline_server: OfflineServer
) -> None:
    offline_server.timing = SLOW
    done = seeded_job(services, "an old one")
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        active = await queued_job(pilot, services, "running along")
        pool = app.main_screen.query_one(JobPool)
        await pilot.press("f3")
        pool.select(done)
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert f"#{done} (an old one) is not_sent: nothing to cancel" in status(app)
        assert services.history.get(active).state is JobState.QUEUED  # never "the newest active"
        assert offline_server.stats.cancels == 0


# ------------------------------------------------------------------ letters typed are text


async def test_h_typed_in_the_reference_field_stays_text(services: Services) -> None:
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        field = app.main_screen.query_one("#ref-input", Input)
        field.focus()
        await pilot.press(*"https://h.example/hills.png")
        await pilot.pause()
        assert field.value == "https://h.example/hills.png"
        assert app.screen is app.main_screen


async def test_letters_anywhere_in_the_composer_run_no_job_command(services: Services) -> None:
    seeded_job(services, "a job to act on")
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.main_screen
        for widget in (screen.query_one("#size-select", Select), screen.query_one(ReferenceList)):
            widget.focus()
            await pilot.press("h", "l", "i", "y", "c")
            await pilot.pause()
            assert app.screen is screen
            assert screen.composer.prompt == ""  # `i` did not load the job
        # The footer offers the letter keys only where they act: on the job list.
        assert "h" not in screen.active_bindings
        await pilot.press("f3")
        await pilot.pause()
        assert "h" in screen.active_bindings
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))


async def test_red_typed_in_history_search_runs_nothing_and_escape_q_go_back(
    services: Services,
) -> None:
    seeded_job(services, "a red kite")
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await run_from_palette(pilot, "History browser")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        history = app.screen
        await settle(pilot)
        await pilot.press("slash", *"red")
        await pilot.pause()
        assert history.query_one("#history-search", Input).value == "red"
        assert app.screen is history and services.history.count() == 1
        assert app.main_screen.composer.prompt == ""  # `r` re-ran nothing, `e` edited nothing
        await pilot.press("escape")  # leaves the search field first …
        assert app.screen is history and not isinstance(app.focused, Input)
        await pilot.press("q")  # … and q closes the browser, as everywhere
        await until(pilot, lambda: app.screen is app.main_screen)


# ------------------------------------------------------------------ nothing typed is lost


async def test_ctrl_z_after_iterate_brings_back_the_replaced_draft(services: Services) -> None:
    job_id = seeded_job(services, "a lighthouse at dawn")
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        composer = app.main_screen.query_one(Composer)
        await pilot.press(*"my unsent words")
        app.main_screen.query_one(JobPool).select(job_id)
        await pilot.press("f3", "i")
        await pilot.pause()
        assert composer.prompt == "a lighthouse at dawn" and composer.parent_id == job_id
        assert "ctrl+z" in status(app) and "ctrl+z" in notice(app)
        assert isinstance(app.focused, PromptEditor)
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert composer.prompt == "my unsent words"
        assert composer.parent_id is None
        assert "brought back" in notice(app)


async def test_ctrl_z_undoes_typing_first_then_the_load(services: Services) -> None:
    job_id = seeded_job(services, "a fox")
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        composer = app.main_screen.query_one(Composer)
        await pilot.press(*"draft one")
        app.main_screen.run_command("iterate", services.history.get(job_id))
        await pilot.pause()
        await pilot.press("end", *" in snow")
        assert composer.prompt == "a fox in snow"
        for _ in range(10):  # undo the typing, then past the load
            await pilot.press("ctrl+z")
        await pilot.pause()
        assert composer.prompt == "draft one"


async def test_new_prompt_clears_into_a_fresh_draft_and_keeps_the_old_one(
    services: Services,
) -> None:
    job_id = seeded_job(services, "a cat on a wall")
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        composer = app.main_screen.query_one(Composer)
        app.main_screen.run_command("iterate", services.history.get(job_id))
        await pilot.pause()
        await pilot.press("end", *", at night")
        await pilot.press("ctrl+n")  # from inside the editor
        await pilot.pause()
        assert composer.prompt == "" and composer.parent_id is None
        assert composer.query_one(SizePicker).value == "1024_1024"
        assert "ctrl+z" in status(app)
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert composer.prompt == "a cat on a wall, at night" and composer.parent_id == job_id
        assert composer.query_one(SizePicker).value == "1024_1536"
        await run_from_palette(pilot, "New prompt")
        await until(pilot, lambda: composer.prompt == "")


async def test_the_whole_composer_survives_a_restart(services: Services) -> None:
    parent_id = seeded_job(services, "a harbour at noon")
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.main_screen
        screen.run_command("iterate", services.history.get(parent_id))
        await pilot.pause()
        await pilot.press("end", *", at dusk")
        screen.query_one("#size-select", Select).value = "1536_1024"
        field = screen.query_one("#ref-input", Input)
        field.focus()
        await pilot.press(*"https://example.com/boat.png", "enter")
        await pilot.pause()
        assert screen.query_one(SizePicker).value == "1536_1024"  # a picked size is kept
        await until(pilot, lambda: ComposerDraft.from_text(
            services.history.load_draft(DRAFT_KEY)).images == ("https://example.com/boat.png",))

    again = app_for(services)
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        composer = again.main_screen.query_one(Composer)
        assert composer.prompt == "a harbour at noon, at dusk"
        assert composer.query_one(SizePicker).value == "1536_1024"  # not back to 1:1
        assert composer.query_one(ReferenceList).urls == ["https://example.com/boat.png"]
        await until(pilot, lambda: composer.parent_id == parent_id)


async def test_adding_a_reference_says_what_it_did_to_the_size(services: Services) -> None:
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.main_screen
        picker = screen.query_one(SizePicker)
        field = screen.query_one("#ref-input", Input)
        field.focus()
        await pilot.press(*"https://example.com/a.png", "enter")
        await pilot.pause()
        assert picker.value == "auto"  # the untouched default follows the reference …
        assert "size → auto" in notice(app)  # … and says so
        screen.query_one(ReferenceList).remove_at(0)
        await pilot.pause()
        assert picker.value == "1024_1024" and "auto needs a reference" in notice(app)
        picker.select.value = "1024_1536"  # a size the user picked …
        await pilot.pause()
        field.focus()
        await pilot.press(*"https://example.com/b.png", "enter")
        await pilot.pause()
        assert picker.value == "1024_1536"  # … is kept
        assert "size kept at 2:3 portrait" in notice(app)


# ------------------------------------------------------------------ the draft off the UI loop


def test_draft_keeper_writes_the_newest_draft_once(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as history:
        keeper = DraftKeeper(history, "composer")
        keeper.put(ComposerDraft("one"))
        keeper.put(ComposerDraft("two", "1024_1536"))
        assert keeper.pending
        assert keeper.flush() is True
        assert ComposerDraft.from_text(history.load_draft("composer")) == ComposerDraft(
            "two", "1024_1536"
        )
        keeper.put(ComposerDraft("two", "1024_1536"))
        assert keeper.flush() is False and not keeper.pending  # unchanged: not written again


def test_a_failed_draft_write_keeps_the_draft_pending(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    keeper = DraftKeeper(history, "composer")
    keeper.put(ComposerDraft("unsaved"))
    history.close()
    with pytest.raises(Exception):  # noqa: B017 - whatever sqlite raises on a closed database
        keeper.flush()
    assert keeper.pending


@pytest.mark.parametrize(
    ("keys", "typed"),
    [("h", True), ("question_mark", True), ("space", True), ("d,x", True),
     ("escape", False), ("escape,q", False), ("ctrl+j", False), ("f3", False), ("d,delete", False)],
)
def test_which_bindings_wait_while_typing(keys: str, typed: bool) -> None:
    assert types_text(keys) is typed


# ------------------------------------------------------------------ stale lines clear themselves


async def test_a_refusal_clears_when_the_field_is_edited_and_paths_say_file_not_found(
    services: Services, tmp_path: Path
) -> None:
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        error = app.main_screen.query_one("#ref-error", Label)
        field = app.main_screen.query_one("#ref-input", Input)
        field.focus()
        await pilot.press(*"not a url", "enter")
        await pilot.pause()
        assert "refused" in str(error.render()) and error.has_class("-shown")
        await pilot.press("ctrl+u")  # the field is cleared: the refusal goes with it
        await pilot.pause()
        assert not error.has_class("-shown")
        missing = tmp_path / "nowhere" / "old.png"
        await pilot.press(*str(missing), "enter")
        await pilot.pause()
        assert f"file not found: {missing}" in str(error.render())


async def test_status_lines_clear_themselves(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(main_screen, "STATUS_SECONDS", 1.0)
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        # Every line the status bar is given, seen however late this test looks (on a busy
        # machine the line may be gone again before the first look).
        label = app.main_screen.query_one("#status", Label)
        given: list[str] = []
        update = label.update

        def record(content: Any = "", *args: Any, **kwargs: Any) -> None:
            given.append(str(content))
            update(content, *args, **kwargs)

        label.update = record  # type: ignore[method-assign]
        await pilot.press(*"a fox", "ctrl+j")
        await until(pilot, lambda: any("created" in line for line in given))
        await until(pilot, lambda: status(app) == "")  # cleared by itself …
        assert given[-1] == "" and any("created" in line for line in given[:-1])  # … after it


async def test_typing_in_the_prompt_lays_nothing_out_again(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key typed in the prompt redraws what it changed (the text, the count), never the
    layout of the whole screen: a field error cleared on every keystroke used to. A prompt
    error, once shown, still goes with the next key."""
    layouts: list[str] = []
    lay_out = main_screen.MainScreen._refresh_layout

    def counted(screen: Any, *args: Any, **kwargs: Any) -> None:
        layouts.append(type(screen).__name__)
        lay_out(screen, *args, **kwargs)

    monkeypatch.setattr(main_screen.MainScreen, "_refresh_layout", counted)
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        layouts.clear()
        await pilot.press(*"a fox in fog")
        await settle(pilot)
        assert layouts == []
        await pilot.press("ctrl+a", "ctrl+k", "ctrl+j")  # an empty prompt: its error shows
        await until(pilot, lambda: "prompt" in str(app.main_screen.query_one("#prompt-error", Label).render()).lower())
        await pilot.press("x")
        await until(pilot, lambda: str(app.main_screen.query_one("#prompt-error", Label).render()) == "")


# ------------------------------------------------------------------ keys just before a submit


@pytest.mark.parametrize("keys", [("x", "backspace"), ("x", "y", "backspace"), ("ctrl+w",)])
async def test_a_submit_sends_the_prompt_as_the_keys_just_before_it_left_it(
    services: Services, keys: tuple[str, ...]
) -> None:
    """Keys that arrive in one burst with ctrl+j — as tmux, a paste or a fast typist sends
    them — are all in the prompt sent, editing keys too: Textual runs the editor's bindings
    (backspace, ctrl+w) only once the key has bubbled back up to the app, well after ctrl+j,
    a priority binding, ran."""
    app = app_for(services)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.main_screen.query_one(PromptEditor)
        await pilot.press(*"a red fox")
        for key in (*keys, "ctrl+j"):  # one burst: nothing handled in between
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        await until(pilot, lambda: bool(services.history.list_jobs(limit=1)))
        sent = services.history.list_jobs(limit=1)[0].request.prompt
        assert sent == editor.text.strip()  # (a prompt is sent trimmed)
