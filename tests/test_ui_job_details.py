"""The details panel redraws its text in place while a job's news only changes a line's words,
and lays the screen out again when the text takes another number of lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import settle
from textual.app import App, ComposeResult
from textual.widgets import Static

from tui.jobs.events import JobEvent
from tui.models import JobRequest, JobState
from tui.storage.history import History
from tui.ui.widgets.job_details import JobDetails


class DetailsHost(App[None]):
    """The details panel alone, as the main screen holds it (no preview)."""

    def compose(self) -> ComposeResult:
        yield JobDetails(id="details")


def shown(app: App[Any]) -> str:
    return str(app.query_one("#details-text", Static).render())


async def test_news_that_keeps_the_lines_redraws_without_a_layout_and_more_lines_lay_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = History(tmp_path / "history.sqlite3")
    job = history.create_job(JobRequest("a lighthouse at dusk", "1024_1024"))
    for state in (JobState.SUBMITTING, JobState.QUEUED, JobState.RUNNING):
        job = history.update(job.id, state=state, request_id="rid-1")
    layouts: list[int] = []
    app = DetailsHost()
    async with app.run_test(size=(80, 24)) as pilot:
        screen_type = type(app.screen)
        lay_out = screen_type._refresh_layout

        def counted(screen: Any, *args: Any, **kwargs: Any) -> None:
            layouts.append(1)
            lay_out(screen, *args, **kwargs)

        monkeypatch.setattr(screen_type, "_refresh_layout", counted)
        details = app.query_one(JobDetails)
        details.show(JobEvent(job=job, elapsed=3.0))
        await settle(pilot)
        assert "0:03" in shown(app)
        layouts.clear()
        for second in (4.0, 5.0, 6.0):  # the elapsed time ticks: the same lines, new words
            details.show(JobEvent(job=job, elapsed=second))
            await settle(pilot)
        assert "0:06" in shown(app)
        assert layouts == []
        details.show(JobEvent(job=job, elapsed=6.0))  # the very same text: nothing to redraw
        await settle(pilot)
        assert layouts == []
        failed = history.update(job.id, state=JobState.FAILED, error="the server said no")
        details.show(JobEvent(job=failed, elapsed=7.0))  # an error row: one line more
        await settle(pilot)
        assert "the server said no" in shown(app)
        assert layouts != []
    history.close()
