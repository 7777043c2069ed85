"""``batch FILE``: a file of prompts through the same engine as ``run`` — priced, idempotent.

1. Every line is read and checked (:mod:`tui.cli.batchfile`); bad lines are reported with
   their number and reason and never stop the others (exit 65 at the end).
2. Lines this file already sent (same path, same content) are not sent again: finished ones are
   reported, unfinished ones followed to the end (:mod:`tui.storage.batches`).
3. The estimate (lines to send × the catalog price) is printed; ``--budget`` refuses before
   anything is recorded or sent when the estimate is above it — or unknown (exit 65).
4. Every line to send is recorded in history (a PENDING job, linked to its line), and only then
   are jobs sent, ``--concurrency`` at a time, each followed by the engine.
5. stdout gets one JSON line per input line as each finishes; stderr a progress line.
   Ctrl-C stops sending new lines (they become "not sent"; running the file again sends them),
   leaves the ones in flight resumable (`gpt-image-tui resume`), and exits 130.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from ..api.catalog import Price, format_usd
from ..jobs.outputs import describe_error
from ..models import Endpoint, Job, JobState
from ..services.graph import Services
from ..storage.batches import STDIN_SOURCE, BatchLines
from ..storage.owners import owner_alive, owner_pid
from ..trust.sanitize import clean_text
from .arguments import parse_budget
from .backend import open_backend, require_backend, settings_for
from .batch_report import BatchReport
from .batchfile import BatchLine, read_batch
from .exits import EXIT_INPUT, EXIT_INTERRUPTED, EXIT_USAGE, CommandExit

__all__ = ["MAX_BATCH_BYTES", "BatchRun", "batch_command", "parse_budget"]

MAX_BATCH_BYTES = 64 * 1024 * 1024


def _read_file(name: str) -> tuple[bytes, str]:
    """The file's bytes and its source for the idempotency keys (absolute path, or <stdin>)."""
    try:
        if name == "-":
            data = sys.stdin.buffer.read(MAX_BATCH_BYTES + 1)
            source = STDIN_SOURCE
        else:
            path = Path(name).expanduser().resolve()
            with path.open("rb") as handle:
                data = handle.read(MAX_BATCH_BYTES + 1)
            source = str(path)
    except OSError as exc:
        shown = clean_text(name, limit=120)
        raise CommandExit(EXIT_INPUT, f"can't read the batch file {shown}: {exc.strerror}") from None
    if len(data) > MAX_BATCH_BYTES:
        raise CommandExit(EXIT_INPUT, f"the batch file is larger than {MAX_BATCH_BYTES:,} bytes")
    return data, source


@dataclass(slots=True)
class _Item:
    """One valid line and the job that carries it (once there is one)."""

    line: BatchLine
    job_id: int | None = None
    already: bool = False  # sent by an earlier run of this file


@dataclass(slots=True)
class _Plan:
    invalid: list[BatchLine] = field(default_factory=list)
    report_now: list[tuple[_Item, str | None]] = field(default_factory=list)  # (item, note)
    follow: list[_Item] = field(default_factory=list)  # sent before, not finished: no new POST
    reuse: list[_Item] = field(default_factory=list)  # recorded before, never sent: send it
    new: list[_Item] = field(default_factory=list)  # never seen, or never sent: a new job

    @property
    def to_send(self) -> list[_Item]:
        return self.reuse + self.new


class BatchRun:
    """One run of one batch file against one set of services."""

    def __init__(
        self,
        services: Services,
        lines: list[BatchLine],
        source: str,
        *,
        concurrency: int,
        budget: Decimal | None,
        json_progress: bool = False,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.services = services
        self.engine = services.engine
        self.history = services.history
        self.book = BatchLines(services.history)
        self.lines = lines
        self.source = source
        self.concurrency = max(1, concurrency)
        self.budget = budget
        self.report = BatchReport(len(lines), json_progress=json_progress, out=out, err=err)
        self._interrupted = asyncio.Event()

    # ------------------------------------------------------------------ planning

    def plan(self) -> _Plan:
        """Sort the lines by what has to happen to them; nothing is sent or recorded here."""
        plan = _Plan()
        valid = [line for line in self.lines if line.request is not None]
        plan.invalid = [line for line in self.lines if line.request is None]
        records = self.book.find(line.key for line in valid)
        me = self.engine.owner
        for line in valid:
            record = records.get(line.key)
            item = _Item(line)
            if record is None:
                plan.new.append(item)
                continue
            if record.job_id is None:
                item.already = True
                plan.report_now.append(
                    (item, "its job was deleted from history; not sent again")
                )
                continue
            job = self.history.get(record.job_id)
            item.job_id, item.already = job.id, True
            owner = owner_pid(job.owner)
            elsewhere = job.owner not in (None, me) and owner_alive(job.owner)
            sent = job.request_id is not None or job.state in {JobState.SUBMITTING, JobState.UNKNOWN}
            if job.state is JobState.PENDING:
                if elsewhere:
                    plan.report_now.append((item, f"being sent by process {owner}"))
                else:
                    item.already = False
                    plan.reuse.append(item)
            elif job.state is JobState.SUBMITTING and job.request_id is None:
                plan.report_now.append(
                    (item, f"being sent by process {owner}" if elsewhere else
                     "the process sending it stopped: it may have run and been billed")
                )
            elif not sent:  # not sent, cancelled before sending, refused: nothing was billed
                item.job_id, item.already = None, False
                plan.new.append(item)
            elif job.state.is_terminal:
                plan.report_now.append((item, None))
            elif elsewhere:
                plan.report_now.append((item, f"followed by process {owner}"))
            else:
                plan.follow.append(item)
        return plan

    async def prices(self, items: list[_Item]) -> dict[Endpoint, Price]:
        endpoints = {item.line.request.endpoint for item in items if item.line.request}
        return {endpoint: await self.services.prices.price(endpoint) for endpoint in endpoints}

    # ------------------------------------------------------------------ running

    async def run(self) -> int:
        plan = self.plan()
        for line in plan.invalid:
            self.report.say(f"line {line.number}: {line.error}")
        prices = await self.prices(plan.to_send)
        estimate = self._estimate(plan.to_send, prices)
        self.report.say(self._summary(plan, prices, estimate))
        if self.budget is not None and plan.to_send:
            self._check_budget(estimate, len(plan.to_send))
        for line in plan.invalid:
            self.report.invalid_line(line)
        for item, note in plan.report_now:
            self._report(item, note)
        self._record(plan)
        work = plan.follow + plan.to_send
        if work:
            await self._run_jobs(work)
        if self._interrupted.is_set():
            return EXIT_INTERRUPTED
        if plan.invalid:
            return EXIT_INPUT
        return max(self.report.exit_codes, default=0)

    def _record(self, plan: _Plan) -> None:
        """Every line to send is in history, linked to its line, before anything is sent."""
        now = time.time()
        for item in plan.follow + plan.reuse:  # left by a run that died: this process takes over
            assert item.job_id is not None
            claimed = self.history.claim(
                item.job_id, self.engine.owner, stale=lambda owner: not owner_alive(owner)
            )
            if claimed is None:  # another process took it a moment ago: it follows it
                (plan.follow if item in plan.follow else plan.reuse).remove(item)
                self._report(item, "followed by another process")
        for item in plan.new:
            assert item.line.request is not None
            job = self.engine.create(item.line.request)
            self.book.link(item.line.key, job.id, path=self.source, line=item.line.number,
                           line_id=item.line.line_id, now=now)
            item.job_id = job.id

    async def _run_jobs(self, items: list[_Item]) -> None:
        loop = asyncio.get_running_loop()
        slots = asyncio.Semaphore(self.concurrency)
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, self._interrupted.set)
            loop.add_signal_handler(signal.SIGTERM, self._interrupted.set)
        tasks = [asyncio.ensure_future(self._one(item, slots)) for item in items]
        stop = asyncio.ensure_future(self._interrupted.wait())
        try:
            pending: set[asyncio.Future[Any]] = set(tasks)
            while pending and not self._interrupted.is_set():
                _, pending = await asyncio.wait(
                    pending | {stop}, return_when=asyncio.FIRST_COMPLETED
                )
                pending.discard(stop)
            if self._interrupted.is_set():
                await self._stop(items, tasks)
        finally:
            stop.cancel()
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)
                loop.remove_signal_handler(signal.SIGTERM)

    async def _one(self, item: _Item, slots: asyncio.Semaphore) -> None:
        assert item.job_id is not None
        async with slots:
            if self._interrupted.is_set():
                return
            self.report.started()
            try:
                job = await self.engine.follow(item.job_id)
            except Exception as exc:  # the line is reported either way; the job stays in history
                self._report(item, f"stopped following: {describe_error(exc)}")
                return
            finally:
                self.report.stopped()
        self._report(item, None, job)

    async def _stop(self, items: list[_Item], tasks: Sequence[asyncio.Future[Any]]) -> None:
        """Ctrl-C: let submits in flight land their request id, leave the rest unsent."""
        self.report.say("interrupted — no new lines are sent; waiting for submits in flight to land…")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        kept = not_sent = 0
        for item in items:
            if item.job_id is None:
                continue
            job = self.history.get(item.job_id)
            if job.state is JobState.PENDING:
                self.history.update(
                    job.id, state=JobState.NOT_SENT,
                    error="not sent: the batch was interrupted; run the batch again to send it",
                )
                not_sent += 1
            elif not job.state.is_terminal:
                kept += 1
        parts = []
        if kept:
            parts.append(f"{kept} in flight kept: `gpt-image-tui resume` finishes them")
        if not_sent:
            parts.append(f"{not_sent} not sent (nothing billed): run the batch again to send them")
        self.report.say("; ".join(parts) or "nothing was in flight")

    # ------------------------------------------------------------------ money

    @staticmethod
    def _estimate(items: list[_Item], prices: dict[Endpoint, Price]) -> Decimal | None:
        total = Decimal(0)
        for item in items:
            assert item.line.request is not None
            per_image = prices[item.line.request.endpoint].per_image
            if per_image is None:
                return None
            total += per_image
        return total

    def _summary(self, plan: _Plan, prices: dict[Endpoint, Price], estimate: Decimal | None) -> str:
        count, total = len(plan.to_send), len(self.lines)
        parts = [f"batch: {total} line{'s' if total != 1 else ''}", f"{count} to send"]
        earlier = len(plan.follow) + len(plan.report_now)
        if earlier:
            parts.append(f"{earlier} sent before (not sent again)")
        if plan.invalid:
            parts.append(f"{len(plan.invalid)} invalid")
        if count:
            if prices and all(price.offline for price in prices.values()):
                parts.append("offline: nothing billed")
            elif estimate is None:
                parts.append("price unknown: no estimate")
            else:
                described = {endpoint: price.describe() for endpoint, price in prices.items()}
                each = (
                    next(iter(described.values()))
                    if len(set(described.values())) == 1
                    else ", ".join(f"{endpoint.value} {text}" for endpoint, text in described.items())
                )
                parts.append(f"≈ {format_usd(estimate)} ({each})")
        return " · ".join(parts)

    def _check_budget(self, estimate: Decimal | None, count: int) -> None:
        assert self.budget is not None
        budget = format_usd(self.budget)
        if estimate is None:
            raise CommandExit(
                EXIT_INPUT,
                f"the price is unknown, so the estimate for {count} image(s) can't be checked "
                f"against the budget {budget}; nothing was sent",
            )
        if estimate > self.budget:
            raise CommandExit(
                EXIT_INPUT,
                f"the estimate {format_usd(estimate)} for {count} image(s) is above the budget "
                f"{budget}; nothing was sent",
            )

    def _report(self, item: _Item, note: str | None, job: Job | None = None) -> None:
        if job is None and item.job_id is not None:
            job = self.history.get(item.job_id)
        if job is None:
            self.report.forgotten_line(item.line, note, already=item.already)
        else:
            self.report.job_line(item.line, job, note, already=item.already)


async def _batch(args: argparse.Namespace) -> int:
    data, source = _read_file(args.file)
    lines = read_batch(data, source)
    if not lines:
        raise CommandExit(EXIT_INPUT, "the batch file has no lines to send")
    settings = settings_for(args, max_concurrent_submissions=min(args.concurrency, 64))
    require_backend(settings)
    services = open_backend(settings)
    try:
        run = BatchRun(
            services,
            lines,
            source,
            concurrency=args.concurrency,
            budget=args.budget,
            json_progress=args.json,
        )
        return await run.run()
    finally:
        await services.aclose()


async def batch_command(args: argparse.Namespace) -> int:
    """``batch FILE``: check every line, record the ones to send, then send and follow them."""
    if not 1 <= args.concurrency <= 64:
        raise CommandExit(EXIT_USAGE, "--concurrency must be between 1 and 64")
    return await _batch(args)
