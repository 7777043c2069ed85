"""The job commands on a backend: run, status, result, cancel, resume (``history`` is local:
:mod:`tui.cli.history`).

Stdout carries JSON results, stderr carries progress (:mod:`tui.cli.job_report`); failures and
exit codes are :mod:`tui.cli.exits`'. Ctrl-C during ``run`` cancels the remote request honestly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ..errors import GptImageError
from ..jobs import CancelOutcome
from ..models import Job, JobState, prepare_request
from ..services.graph import Services
from ..trust.sanitize import clean_text
from ..trust.urls import UnsafeUrl, check_download_url, validate_request_id
from .backend import open_backend, require_backend, settings_for
from .console import print_json, say
from .exits import EXIT_INTERRUPTED, EXIT_USAGE, CommandExit
from .job_report import ProgressPrinter, exit_code_for, job_summary

__all__ = ["COMMANDS", "run_job_command"]

Command = Callable[[argparse.Namespace, Services], Awaitable[int]]


def _print_json(value: Any, *, compact: bool) -> None:
    print_json(value, compact=compact)


def _explicit_output_dir(args: argparse.Namespace) -> Path | None:
    """The ``--output-dir`` the user gave on this command line (None: each job keeps its own)."""
    value = getattr(args, "output_dir", None)
    return Path(value).expanduser().absolute() if value else None


async def run_job_command(args: argparse.Namespace) -> int:
    """Run ``args.command`` on the backend its flags name."""
    settings = settings_for(args, download_outputs=not getattr(args, "no_download", False))
    require_backend(settings)
    services = open_backend(settings, on_event=ProgressPrinter())
    try:
        return await COMMANDS[args.command](args, services)
    finally:
        await services.aclose()


# --------------------------------------------------------------------------- commands


async def _cmd_run(args: argparse.Namespace, services: Services) -> int:
    prepared = prepare_request(args.prompt, args.size, args.image or [])
    for notice in prepared.notices:
        say(f"note: {notice}")
    services.output_files.ensure()  # a folder that can't be written: say so, send nothing
    engine = services.engine
    job = engine.create(prepared.request)
    if args.no_wait:
        job = await _interruptible(engine.submit(job.id), services, job)
        _print_json(job_summary(job), compact=args.json)
        return 0 if job.request_id else exit_code_for(job)
    job = await _interruptible(engine.follow(job.id), services, job)
    _print_json(job_summary(job), compact=args.json)
    return exit_code_for(job)


async def _interruptible(work: Any, services: Services, job: Job) -> Job:
    """Run ``work``; on Ctrl-C cancel the remote request honestly and exit 130."""
    loop = asyncio.get_running_loop()
    interrupted = asyncio.Event()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, interrupted.set)
        loop.add_signal_handler(signal.SIGTERM, interrupted.set)
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(interrupted.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            finished: Job = task.result()
            return finished
        say("interrupted — cancelling the request…")
        outcome = await services.engine.cancel(job.id)
        if outcome in {CancelOutcome.CANCELLED, CancelOutcome.REQUESTED}:
            # Let the follower see the cancel land (and a late request_id be stored).
            with contextlib.suppress(TimeoutError, asyncio.CancelledError, GptImageError):
                await asyncio.wait_for(asyncio.shield(task), 15)
        current = services.history.get(job.id)
        if outcome is CancelOutcome.NOT_CANCELLABLE:
            say(
                "the request is already running: it can't be cancelled, will finish and be billed."
                " Run `gpt-image-tui resume` to save the image."
            )
        elif outcome is CancelOutcome.FAILED:
            say(
                "the cancel did not go through; the request is kept in history — "
                "`gpt-image-tui resume` follows it, `gpt-image-tui cancel "
                f"{current.request_id or current.id}` tries again."
            )
        else:
            say(f"job {current.id}: {current.state.value}")
        raise CommandExit(EXIT_INTERRUPTED)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
            loop.remove_signal_handler(signal.SIGTERM)


def _lookup(services: Services, ident: str) -> tuple[Job | None, str | None]:
    """A job by local number or request id; also the request id to use remotely."""
    if ident.isdigit():
        with contextlib.suppress(KeyError):
            job = services.history.get(int(ident))
            return job, job.request_id
    try:
        request_id = validate_request_id(ident)
    except UnsafeUrl:
        raise CommandExit(EXIT_USAGE, f"not a job number or request id: {clean_text(ident, limit=80)}") from None
    return services.history.find_by_request_id(request_id), request_id


async def _cmd_status(args: argparse.Namespace, services: Services) -> int:
    job, request_id = _lookup(services, args.id)
    if request_id is None:
        assert job is not None
        _print_json({**job_summary(job), "remote_status": None}, compact=args.json)
        return 0
    answer = await services.client.status(request_id)
    out: dict[str, Any] = {
        "request_id": request_id,
        "status": clean_text(answer.status),
        "queue_position": answer.queue_position,
    }
    if job is not None:
        out["job"] = job.id
        out["local_state"] = job.state.value
    _print_json(out, compact=args.json)
    return 0


async def _cmd_result(args: argparse.Namespace, services: Services) -> int:
    job, request_id = _lookup(services, args.id)
    if job is not None and job.request_id is not None:
        target = _explicit_output_dir(args)
        if target is not None:
            services.output_files.ensure(target)
        if not job.state.is_terminal:
            if target is not None:  # explicitly elsewhere than the job's own folder
                job = services.history.update(job.id, output_dir=str(target))
            job = await _interruptible(services.engine.follow(job.id), services, job)
        elif job.state is not JobState.COMPLETED or len(job.files) < 1:
            job = await services.engine.fetch_again(job.id, output_dir=target)
        _print_json(job_summary(job), compact=args.json)
        return exit_code_for(job)
    assert request_id is not None
    return await _result_without_history(args, services, request_id)


async def _result_without_history(args: argparse.Namespace, services: Services, request_id: str) -> int:
    """A request made elsewhere (the official CLI, say): fetch and save its outputs."""
    answer = await services.client.result(request_id)
    files: list[str] = []
    status = answer.status or "unknown"
    if status == "completed":
        folder = services.output_files.ensure()
        for url in answer.output_urls:
            try:
                check_download_url(url, api_base=services.client.base_url)
            except UnsafeUrl:
                say(f"not downloaded (untrusted host): {clean_text(url)}")
                continue
            name = services.output_files.url_file_name(url)
            path = await services.downloader.download(url, folder, name)
            files.append(str(path))
    _print_json(
        {"request_id": request_id, "status": clean_text(status), "output": answer.output_urls,
         "files": files},
        compact=args.json,
    )
    return 0 if status == "completed" else 1


async def _cmd_cancel(args: argparse.Namespace, services: Services) -> int:
    job, request_id = _lookup(services, args.id)
    if job is not None:
        outcome = await services.engine.cancel(job.id)
        job = services.history.get(job.id)
        message = services.engine.event_for(job).message
        _print_json({"job": job.id, "request_id": job.request_id, "outcome": outcome.value,
                     "message": message}, compact=args.json)
        return 0 if outcome in {CancelOutcome.CANCELLED, CancelOutcome.REQUESTED,
                                CancelOutcome.NOT_CANCELLABLE} else 1
    assert request_id is not None
    answer = await services.client.cancel(request_id)
    remote = "cancelled" if answer.accepted else "not_cancellable"
    _print_json({"request_id": request_id, "outcome": remote}, compact=args.json)
    return 0


async def _cmd_resume(args: argparse.Namespace, services: Services) -> int:
    target = _explicit_output_dir(args)
    if target is not None:
        services.output_files.ensure(target)
    jobs = services.engine.recover(output_dir=target)
    if not jobs:
        say("nothing to resume")
        return 0
    say(f"resuming {len(jobs)} job(s)")
    outcomes = await asyncio.gather(
        *(services.engine.follow(job.id) for job in jobs), return_exceptions=True
    )
    codes: list[int] = []
    for job, outcome in zip(jobs, outcomes, strict=True):
        if isinstance(outcome, GptImageError):
            say(f"job {job.id}: {outcome.message}")
            codes.append(outcome.exit_code)
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            _print_json(job_summary(outcome), compact=True)
            codes.append(exit_code_for(outcome))
    return max(codes, default=0)


COMMANDS: dict[str, Command] = {
    "run": _cmd_run,
    "status": _cmd_status,
    "result": _cmd_result,
    "cancel": _cmd_cancel,
    "resume": _cmd_resume,
}
