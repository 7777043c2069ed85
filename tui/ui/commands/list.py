"""Commands on the job list: star a result, narrow the list (typed text, starred jobs, one
lineage, one sweep), and reopen a sweep's grid from any of its jobs.

Reads and writes of the history run off the UI loop (``bench.read_then``); what they find is
handed to the pool, which shows it.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...models import Job
from ...trust.sanitize import clean_text
from .base import Command, JobCommand, Workbench

__all__ = [
    "FilterJobs",
    "LineageOnly",
    "OpenSweepGrid",
    "ShowAllJobs",
    "StarJob",
    "StarredOnly",
    "SweepOnly",
    "open_sweep_grid",
]


def _known(bench: Workbench, jobs: Iterable[Job]) -> None:
    """Give the pool the jobs it doesn't have yet (older than the rows it loaded)."""
    pool = bench.pool
    now = bench.clock()
    for job in jobs:
        if pool.event_for(job.id) is None:
            pool.apply(bench.jobs.event_for(job), now=now)


class StarJob(JobCommand):
    name = "star"
    title = "Star / unstar job"
    help = "Mark the selected job to find it again: ★ on its card, * shows starred only (s)"
    key = "s"
    footer = "Star"
    show = False

    def run_on(self, bench: Workbench, job: Job) -> None:
        starred = not job.starred

        def done(changed: Job) -> None:
            bench.pool.apply(bench.jobs.event_for(changed), now=bench.clock())
            bench.say(f"#{changed.id} {'starred ★' if changed.starred else 'unstarred'}")

        bench.read_then(lambda: bench.history.update(job.id, starred=starred), done)


class StarredOnly(Command):
    name = "starred_only"
    title = "Starred jobs only"
    help = "Show only starred jobs in the list, or every job again (*)"
    key = "asterisk"
    footer = "Starred"
    show = False

    def run(self, bench: Workbench) -> None:
        if not bench.pool.toggle_starred():
            bench.say("every job shown again")
            return

        def found(jobs: list[Job]) -> None:
            _known(bench, jobs)
            bench.say(f"{len(jobs)} starred job(s)" if jobs else "no starred jobs yet: s stars one")

        bench.read_then(lambda: bench.history.list_jobs(limit=500, starred=True), found)


class FilterJobs(Command):
    name = "filter_jobs"
    title = "Filter the job list"
    help = "Show jobs whose prompt or label contains some text; Escape clears (/)"
    key = "slash"
    footer = "Filter"
    show = False

    def run(self, bench: Workbench) -> None:
        bench.pool.open_filter()


class LineageOnly(JobCommand):
    name = "lineage_only"
    title = "This lineage only"
    help = "Show only the selected job's lineage (its root and every iteration), or all (L)"
    key = "L"
    footer = "Lineage only"
    show = False

    def run(self, bench: Workbench) -> None:
        if bench.pool.filter.lineage_of is not None:
            bench.pool.show_lineage(None)
            bench.say("every lineage shown again")
            return
        super().run(bench)

    def run_on(self, bench: Workbench, job: Job) -> None:
        def found(family: list[Job]) -> None:
            _known(bench, family)
            bench.pool.show_lineage(job.id, [member.id for member in family])
            bench.pool.select(job.id)
            bench.say(f"lineage of #{job.id}: {len(family)} job(s) · L shows every job again")

        bench.read_then(lambda: bench.history.family(job.id), found)


class SweepOnly(JobCommand):
    name = "sweep_only"
    title = "This sweep only"
    help = "Show only the jobs of the selected job's sweep, or all (W)"
    key = "W"
    footer = "Sweep only"
    show = False

    def run(self, bench: Workbench) -> None:
        if bench.pool.filter.sweep_id is not None:
            bench.pool.show_sweep(None)
            bench.say("every sweep shown again")
            return
        super().run(bench)

    def run_on(self, bench: Workbench, job: Job) -> None:
        sweep_id = job.sweep_id
        if not sweep_id:
            bench.say(f"#{job.id} is not part of a sweep")
            return

        def found(jobs: list[Job]) -> None:
            _known(bench, jobs)
            bench.pool.show_sweep(sweep_id)
            bench.pool.select(job.id)
            bench.say(f"the sweep of #{job.id}: {len(jobs)} job(s) · W shows every job again")

        bench.read_then(lambda: bench.history.sweep(sweep_id), found)


class ShowAllJobs(Command):
    name = "show_all_jobs"
    title = "Show every job"
    help = "Clear the job list's filters (text, starred, lineage, sweep)"

    def available(self, bench: Workbench) -> bool:
        return bench.pool.filter.active

    def run(self, bench: Workbench) -> None:
        bench.pool.clear_filter()
        bench.say("every job shown")


def open_sweep_grid(bench: Workbench, job: Job) -> None:
    """The live grid of ``job``'s sweep, read from the history (any sweep, however old)."""
    sweep_id = job.sweep_id
    if not sweep_id:
        bench.say(f"#{job.id} is not part of a sweep")
        return

    def found(jobs: list[Job]) -> None:
        if not jobs:
            bench.warn(f"the sweep of #{job.id} is no longer in the history")
            return
        from ..screens.sweep import (
            SweepScreen,  # the screen's module is loaded when it is first opened
        )

        screen = SweepScreen(sweep_id, jobs, bench.kit, feed=bench.feed)
        bench.open(screen)
        bench.say(f"sweep grid of #{job.id} ({len(jobs)} jobs: {clean_text(sweep_id, limit=16)})")

    bench.read_then(lambda: bench.history.sweep(sweep_id), found)


class OpenSweepGrid(JobCommand):
    name = "open_sweep_grid"
    title = "Open sweep grid"
    help = "The grid of the selected job's sweep, from any of its jobs (w)"
    key = "w"
    footer = "Sweep grid"
    show = False

    def run_on(self, bench: Workbench, job: Job) -> None:
        open_sweep_grid(bench, job)
