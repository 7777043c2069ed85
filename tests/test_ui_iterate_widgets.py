"""Pilot and unit tests of the iterate widgets and pure helpers: prompt diff, lint hints,
clipboard texts, the copy menu and "edit this result"."""

from __future__ import annotations

import json
import shlex

from textual.app import App, ComposeResult
from textual.widgets import Button, OptionList, Static

from tui.iterate.loads import OFFLINE_EDIT_REASON, edit_request_from, iterate_request_from
from tui.models import Job, JobRequest, JobState
from tui.ui.commands.copy import command_text, copy_choices, prompt_text
from tui.ui.screens.copy_menu import CopyMenu
from tui.ui.widgets.lint_hints import HintRow, LintHints
from tui.ui.widgets.prompt_diff import PromptDiff


def make_job(**changes: object) -> Job:
    base = Job(
        id=7,
        request=JobRequest("a cat on a sofa, soft window light", "1024_1024"),
        state=JobState.COMPLETED,
        created_at=1_700_000_000.0,
        updated_at=1_700_000_000.0,
        request_id="req_abc-123",
        output_urls=("https://cdn.runcomfy.net/out/cat.png",),
        files=("/tmp/out/cat.png",),
    )
    return base.evolve(**changes)


class Host(App[None]):
    def __init__(self, widget: object) -> None:
        super().__init__()
        self.widget = widget
        self.dismissed: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.widget  # type: ignore[misc]

    def on_lint_hints_dismissed(self, message: LintHints.Dismissed) -> None:
        self.dismissed.append(message.rule)


def text_of(widget: Static) -> str:
    return str(widget.render())


# --- PromptDiff -------------------------------------------------------------------------------


async def test_prompt_diff_shows_added_and_removed_words_and_advice() -> None:
    parent = JobRequest('a poster, soft window light, headline "Open Late"', "1024_1024")
    diff = PromptDiff()
    async with Host(diff).run_test(size=(100, 20)) as pilot:
        assert not diff.display  # no parent: nothing shown
        diff.set_parent(parent)
        diff.update_current(
            JobRequest('a poster, golden hour light, headline "Open Now"', "1024_1024")
        )
        await pilot.pause()
        assert diff.display
        plain = diff.plain
        assert "+golden hour" in plain and "−soft window" in plain
        assert "+Now" in plain and "−Late" in plain
        assert diff.summary is not None and diff.summary.knob_count == 2
        advice = text_of(diff.query_one("#diff-advice", Static))
        assert advice.startswith("2 knobs changed: lighting, headline")
        assert diff.has_class("-advice")
        # styles carry the meaning beyond colour: underline for added, strike for removed
        rendered = diff.query_one("#diff-words", Static).render()
        styles = {str(span.style) for span in rendered.spans}  # type: ignore[union-attr]
        assert any("underline" in s for s in styles) and any("strike" in s for s in styles)

        # one knob only: no advice; summary mentions the size change
        diff.update_current(JobRequest('a poster, soft window light, headline "Open Late"', "1536_1024"))
        await pilot.pause()
        assert not diff.has_class("-advice")
        assert "size" in text_of(diff.query_one("#diff-summary", Static))
        assert text_of(diff.query_one("#diff-words", Static)) == "prompt unchanged"


async def test_prompt_diff_keeps_hostile_text_plain() -> None:
    diff = PromptDiff(JobRequest("a cat", "1024_1024"))
    async with Host(diff).run_test(size=(80, 10)) as pilot:
        diff.update_current(JobRequest("a cat [@click=app.quit]x[/] \x1b]52;c;AAAA\x07", "1024_1024"))
        await pilot.pause()
        shown = text_of(diff.query_one("#diff-words", Static))
        assert "[@click=app.quit]x[/]" in shown and "\x1b" not in shown
        assert pilot.app.is_running


def test_long_unchanged_runs_are_folded() -> None:
    words = " ".join(f"w{i}" for i in range(40))
    diff = PromptDiff(JobRequest(words + " red", "1024_1024"))
    diff.update_current(JobRequest(words + " blue", "1024_1024"))
    assert diff.plain.startswith("… w36 w37 w38 w39")
    assert diff.plain.endswith("−red +blue")


# --- LintHints -------------------------------------------------------------------------------


async def test_lint_hints_show_and_dismiss_a_rule() -> None:
    hints = LintHints()
    async with Host(hints).run_test(size=(80, 24)) as pilot:
        hints.update_hints("a poster with the headline Open Late in bold", "text-to-image", 0)
        await pilot.pause()
        assert hints.display and hints.hints
        rule = hints.hints[0].rule
        rows = list(hints.query(HintRow))
        assert rows and rule in str(rows[0].query_one(".hint-text", Static).render())
        await pilot.click(rows[0].query_one(Button))
        await pilot.pause()
        assert rule in hints.dismissed and rule not in hints.rules_shown
        assert pilot.app.dismissed == [rule]  # bubbled to the app
        # stays dismissed while typing goes on
        hints.update_hints("a poster with the headline Open Late in bold red", "text-to-image", 0)
        await pilot.pause()
        assert rule not in hints.rules_shown
        # collapsing keeps one header line
        hints.toggle()
        await pilot.pause()
        assert hints.collapsed and not hints.query_one("#hints-rows").display
        hints.restore_all()
        assert rule in hints.rules_shown


async def test_lint_hints_hidden_without_hints() -> None:
    hints = LintHints()
    async with Host(hints).run_test(size=(80, 24)) as pilot:
        hints.update_hints("a quiet lake at dawn", "text-to-image", 0)
        await pilot.pause()
        assert not hints.hints and not hints.display


# --- clipboard ---------------------------------------------------------------------------------


def test_clipboard_texts() -> None:
    job = make_job(request=JobRequest("it's a \"test\"\nline two", "1024_1536"))
    choices = {c.key: c.text for c in copy_choices(job)}
    assert choices["path"] == "/tmp/out/cat.png"
    assert choices["url"] == "https://cdn.runcomfy.net/out/cat.png"
    assert choices["request_id"] == "req_abc-123"
    assert choices["prompt"] == prompt_text(job) == "it's a \"test\"\nline two"
    argv = shlex.split(choices["command"])
    assert argv[:3] == ["runcomfy", "run", "openai/gpt-image-2/text-to-image"]
    assert argv[3] == "--input"
    assert json.loads(argv[4]) == {"prompt": "it's a \"test\"\nline two", "size": "1024_1536"}


def test_clipboard_edit_command_and_missing_values() -> None:
    job = make_job(
        request=JobRequest("swap the sky", "auto", ("https://example.com/a.png",)),
        request_id=None,
        files=(),
        output_urls=(),
        state=JobState.PENDING,
    )
    keys = [c.key for c in copy_choices(job)]
    assert keys == ["prompt", "command"]
    argv = shlex.split(command_text(job))
    assert argv[2] == "openai/gpt-image-2/edit"
    assert json.loads(argv[4])["images"] == ["https://example.com/a.png"]


async def test_copy_menu_dismisses_with_the_chosen_text() -> None:
    results: list[str | None] = []

    class MenuApp(App[None]):
        def on_mount(self) -> None:
            self.push_screen(CopyMenu(copy_choices(make_job())), results.append)

    async with MenuApp().run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(pilot.app.screen, CopyMenu)
        assert pilot.app.screen.query_one(OptionList).option_count == 5
        await pilot.press("down", "enter")
        await pilot.pause()
    assert results == ["https://cdn.runcomfy.net/out/cat.png"]


# --- edit this result --------------------------------------------------------------------------


def test_edit_request_from_https_output() -> None:
    draft, reason = edit_request_from(make_job())
    assert draft is not None and reason == ""
    assert draft.request.images == ("https://cdn.runcomfy.net/out/cat.png",)
    assert draft.request.size == "auto" and draft.parent_id == 7
    assert draft.request.prompt == make_job().request.prompt


def test_edit_request_from_offline_output_is_refused_with_reason() -> None:
    job = make_job(output_urls=("http://127.0.0.1:8123/files/abc.png",))
    draft, reason = edit_request_from(job)
    assert draft is None and reason == OFFLINE_EDIT_REASON
    draft, reason = edit_request_from(make_job(state=JobState.RUNNING, output_urls=()))
    assert draft is None and "no finished image" in reason


def test_iterate_keeps_the_request_and_links_the_parent() -> None:
    draft = iterate_request_from(make_job())
    assert draft.request == make_job().request and draft.parent_id == 7
