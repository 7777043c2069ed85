"""The engine→UI bridge: a frame's engine events reach each reader as one message, newest
state of each job, against the real engine of the offline services."""

from __future__ import annotations

import threading

from conftest import until
from textual.app import App, ComposeResult
from textual.widgets import Static

from tui.jobs.events import JobEvent
from tui.models import JobRequest, JobState
from tui.services.graph import Services
from tui.ui.bridge import JobFeed
from tui.ui.messages import JobsUpdated


class Reader(App[None]):
    """Reads a feed and keeps every batch it is handed."""

    def __init__(self, feed: JobFeed) -> None:
        super().__init__()
        self.feed = feed
        self.batches: list[tuple[JobEvent, ...]] = []

    def compose(self) -> ComposeResult:
        yield Static("reading")

    def on_mount(self) -> None:
        self.feed.read(self)

    def on_jobs_updated(self, message: JobsUpdated) -> None:
        self.batches.append(message.events)


async def test_a_hundred_engine_events_are_one_handler_call_with_the_newest_states(
    services: Services,
) -> None:
    feed = JobFeed()
    app = Reader(feed)
    engine = services.engine
    async with app.run_test() as pilot:
        feed.watch(engine)
        requests = [JobRequest(f"a lighthouse, take {n}", "1024_1024") for n in range(100)]
        jobs = engine.create_many(requests, labels=[None] * 100)  # 100 events, one per job
        engine.book.say(jobs[5], "first words")
        cancelled = engine.history.update(jobs[7].id, state=JobState.NOT_SENT)
        engine.publish([cancelled])
        engine.book.say(jobs[5], "last words")  # job 5 changed three times: the last counts
        await until(pilot, lambda: bool(app.batches))
        await pilot.pause(0.1)
        assert len(app.batches) == 1
        (batch,) = app.batches
        assert len(batch) == 100 and len({event.job.id for event in batch}) == 100
        by_id = {event.job.id: event for event in batch}
        assert by_id[jobs[5].id].message == "last words"
        assert by_id[jobs[7].id].job.state is JobState.NOT_SENT
        # In the order of their latest changes: job 7, then job 5 last.
        assert [event.job.id for event in batch[-2:]] == [jobs[7].id, jobs[5].id]
        feed.close()


async def test_events_from_a_thread_are_delivered_on_the_loop(services: Services) -> None:
    feed = JobFeed()
    app = Reader(feed)
    async with app.run_test() as pilot:
        feed.watch(services.engine)
        job = services.history.create_job(JobRequest("a quiet pier", "1024_1024"))
        thread = threading.Thread(target=lambda: services.engine.publish([job]))
        thread.start()
        thread.join()
        await until(pilot, lambda: bool(app.batches))
        assert [event.job.id for event in app.batches[0]] == [job.id]
        feed.close()


def test_a_waiting_batch_takes_the_older_ones_news_along(services: Services) -> None:
    first = services.history.create_job(JobRequest("one", "1024_1024"))
    second = services.history.create_job(JobRequest("two", "1024_1024"))
    older = JobsUpdated([JobEvent(first, message="old"), JobEvent(second, message="old")])
    newer = JobsUpdated([JobEvent(second, message="new")])
    assert older.can_replace(newer)
    assert [(e.job.id, e.message) for e in newer.events] == [
        (first.id, "old"), (second.id, "new")
    ]
