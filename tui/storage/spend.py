"""What was spent: the recorded price of every job the server ran to completion.

A job counts as *billed* when the server said it completed — the job completed, or it completed
remotely and only saving the image failed, or its cancel was refused and it went on to complete.
It costs the catalog price it was submitted at, one image per request. A billed job with no
recorded price is counted apart ("unpriced"), never guessed; a job whose submit had an unknown
outcome may have been billed and is counted apart too. Offline jobs cost nothing and are left out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from ..models import Job, JobState
from .history import History

__all__ = [
    "SpendLine",
    "SpendReport",
    "billed_cost",
    "history_spend",
    "is_billed",
    "is_offline",
    "spend_report",
]


def is_offline(job: Job) -> bool:
    backend = job.extra.get("backend") if job.extra else None
    return job.price_source == "offline" or backend == "offline"


def is_billed(job: Job) -> bool:
    """True when the server ran the job to completion (so it was billed), offline jobs aside."""
    if is_offline(job):
        return False
    return job.state is JobState.COMPLETED or job.remote_status == "completed"


def billed_cost(job: Job) -> Decimal | None:
    """What a billed job cost at its recorded per-image price; None when the price is unknown."""
    if job.price_usd is None or (job.price_unit or "").strip().lower() != "image":
        return None
    return job.price_usd


@dataclass(slots=True)
class SpendLine:
    """One day or month: billed jobs, their cost, and how many had no price."""

    period: str
    jobs: int = 0
    usd: Decimal = field(default_factory=Decimal)
    unpriced: int = 0

    def add(self, cost: Decimal | None) -> None:
        self.jobs += 1
        if cost is None:
            self.unpriced += 1
        else:
            self.usd += cost


@dataclass(slots=True)
class SpendReport:
    days: list[SpendLine]
    months: list[SpendLine]
    total: SpendLine
    maybe_billed: int  # submits with an unknown outcome: may have run and been billed


def spend_report(
    jobs: Iterable[Job], *, since: float | None = None, maybe_billed: int = 0
) -> SpendReport:
    """Sum billed jobs by local day and month of when they finished (newest first)."""
    days: dict[str, SpendLine] = {}
    months: dict[str, SpendLine] = {}
    total = SpendLine("total")
    for job in jobs:
        if not is_billed(job):
            continue
        when = job.finished_at or job.updated_at or job.created_at
        if since is not None and when < since:
            continue
        local = time.localtime(when)
        day, month = time.strftime("%Y-%m-%d", local), time.strftime("%Y-%m", local)
        cost = billed_cost(job)
        days.setdefault(day, SpendLine(day)).add(cost)
        months.setdefault(month, SpendLine(month)).add(cost)
        total.add(cost)
    return SpendReport(
        days=[days[k] for k in sorted(days, reverse=True)],
        months=[months[k] for k in sorted(months, reverse=True)],
        total=total,
        maybe_billed=maybe_billed,
    )


def history_spend(history: History, *, since: float | None = None) -> SpendReport:
    """:func:`spend_report` over the whole history."""
    jobs = history.list_jobs(limit=10_000_000)
    unknown = sum(
        1 for job in jobs
        if job.state is JobState.UNKNOWN and not is_offline(job)
        and (since is None or job.created_at >= since)
    )
    return spend_report(jobs, since=since, maybe_billed=unknown)
