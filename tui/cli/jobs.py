"""Headless commands: run, status, result, cancel, history, resume, recipe.

Stdout carries JSON results, stderr carries progress, and the exit code follows the official
``runcomfy`` CLI (sysexits): 0 ok · 64 usage · 65 invalid input · 69 server 5xx · 75 timeout /
429 · 77 not signed in · 1 failed or other · 130 interrupted. Nothing here imports Textual.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any, TextIO

from ..config import Settings, load_settings, signin_help
from ..errors import GptImageError, InputError
from ..jobs import CancelOutcome, JobEvent
from ..models import Job, JobState, prepare_request
from ..services.graph import Services, open_services
from ..trust.sanitize import clean_text
from ..trust.urls import UnsafeUrl, check_download_url, validate_request_id
from .console import print_json, say, write_line

__all__ = ["EXIT_INTERRUPTED", "EXIT_NO_TOKEN", "EXIT_USAGE", "run_command"]

EXIT_USAGE = 64
EXIT_NO_TOKEN = 77
EXIT_INTERRUPTED = 130
# Headless runs stop following a job after this long without contact (it stays resumable).
HEADLESS_GIVE_UP_SECONDS = 300.0


class ProgressPrinter:
    """Writes one stderr line per meaningful change of a job — never a flood.

    A failed write (a closed pipe) is dropped: progress never takes a job down. A request id
    the history database refused is always printed, on its own line, for the user to keep.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._last: dict[int, tuple[Any, ...]] = {}
        self._announced: set[str] = set()

    def __call__(self, event: JobEvent) -> None:
        job = event.job
        rid = event.unsaved_request_id
        if rid and rid not in self._announced:
            self._announced.add(rid)
            say(f"request id {rid} (job {job.id}) — keep it: {event.message or ''}", self.stream)
        bucket = event.bytes_done // (256 * 1024) if job.state is JobState.DOWNLOADING else 0
        key = (job.state, job.queue_position, event.message, bucket, job.remote_status)
        if self._last.get(job.id) == key:
            return
        self._last[job.id] = key
        parts = [f"job {job.id}", job.state.value]
        if job.request_id:
            parts.insert(1, job.request_id[:12])
        if job.state is JobState.QUEUED and job.queue_position is not None:
            parts.append(f"position {job.queue_position}")
        if job.state is JobState.DOWNLOADING and event.bytes_done:
            parts.append(f"{event.bytes_done / 1024:.0f} kB")
        if event.message:
            parts.append(f"— {event.message}")
        if job.state is JobState.COMPLETED and job.files:
            parts.append("→ " + ", ".join(job.files))
        say(clean_text(" · ".join(parts)), self.stream)


def job_summary(job: Job) -> dict[str, Any]:
    """The JSON object the commands print for a job."""
    return {
        "job": job.id,
        "request_id": job.request_id,
        "status": job.state.value,
        "endpoint": job.endpoint.value,
        "size": job.request.size,
        "prompt": job.request.prompt,
        "output": list(job.output_urls),
        "files": list(job.files),
        "price_usd": None if job.price_usd is None else float(job.price_usd),
        "error": job.error,
        "parent": job.parent_id,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


def exit_code_for(job: Job) -> int:
    """The process exit code a job's final state calls for."""
    if job.state is JobState.COMPLETED:
        return 0
    if job.exit_code:
        return job.exit_code
    if job.state is JobState.STALLED:
        return 75
    return 1


def _print_json(value: Any, *, compact: bool) -> None:
    print_json(value, compact=compact)


def _explicit_output_dir(args: argparse.Namespace) -> Path | None:
    """The ``--output-dir`` the user gave on this command line (None: each job keeps its own)."""
    value = getattr(args, "output_dir", None)
    return Path(value).expanduser().absolute() if value else None


def _settings_for(args: argparse.Namespace) -> Settings:
    return load_settings(
        api_base=getattr(args, "api_base", None),
        output_dir=getattr(args, "output_dir", None),
        offline=bool(getattr(args, "offline", False)),
        poll_interval=getattr(args, "poll_interval", None),
        name_template=getattr(args, "name_template", None),
        download_outputs=not getattr(args, "no_download", False),
    )


def _require_backend(settings: Settings) -> None:
    """Headless commands never fall back to offline silently."""
    if not settings.offline and settings.token is None:
        raise _Exit(EXIT_NO_TOKEN, signin_help())


class _Exit(Exception):
    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        self.message = message


def run_command(args: argparse.Namespace) -> int:
    """Run one headless command; return its exit code. Errors are printed to stderr."""
    try:
        settings = _settings_for(args)
        if args.command != "history":  # history is local; everything else talks to a backend
            _require_backend(settings)
        return asyncio.run(_dispatch(args, settings))
    except _Exit as exc:
        if exc.message:
            say(exc.message)
        return exc.code
    except InputError as exc:
        for problem in exc.problems:
            say(f"invalid input — {problem.message}")
        return exc.exit_code
    except GptImageError as exc:
        say(f"error: {exc.message}")
        return exc.exit_code
    except sqlite3.Error as exc:  # storage translates these; this is the last safety net
        say(f"error: the history database failed: {clean_text(exc, limit=200)}")
        return 74
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    printer = ProgressPrinter()
    services = open_services(
        settings, on_event=printer, give_up_after=HEADLESS_GIVE_UP_SECONDS
    )
    try:
        handler = _HANDLERS[args.command]
        return await handler(args, services)
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
        raise _Exit(EXIT_INTERRUPTED)
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
        raise _Exit(EXIT_USAGE, f"not a job number or request id: {clean_text(ident, limit=80)}") from None
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


async def _cmd_history(args: argparse.Namespace, services: Services) -> int:
    jobs = services.history.list_jobs(limit=args.limit)
    if args.json:
        for job in jobs:
            _print_json(job_summary(job), compact=True)
        return 0
    for job in jobs:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at))
        prompt = clean_text(job.request.prompt, limit=50)
        rid = (job.request_id or "-")[:12]
        if not write_line(f"{job.id:>5}  {when}  {job.state.value:<11} {rid:<12}  {prompt}"):
            break
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


_HANDLERS = {
    "run": _cmd_run,
    "status": _cmd_status,
    "result": _cmd_result,
    "cancel": _cmd_cancel,
    "history": _cmd_history,
    "resume": _cmd_resume,
}


def recipe_command(path: str, *, as_json: bool = True) -> int:
    """Print the recipe stored in an image written by this app."""
    from ..iterate.recipe import read_recipe, runcomfy_command

    file = Path(path)
    if not file.is_file():
        say(f"no such file: {clean_text(path)}")
        return 65
    recipe = read_recipe(file)
    if recipe is None:
        say(f"{clean_text(path)} carries no gpt-image-tui recipe")
        return 1
    _print_json({**recipe.to_dict(), "runcomfy_command": runcomfy_command(recipe)}, compact=False)
    return 0
