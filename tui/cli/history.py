"""``history [--limit N] [--json] [--starred]``: past jobs (only starred ones with ``--starred``),
newest first, read from the local database.

Local only, like ``spend``: the database is opened directly and synchronously — no backend, no
HTTP client, no event loop — so listing costs what one SELECT does. The backend flags the
command accepts (``--offline``, ``--api-base``, …) don't change what it lists: there is one
history whichever backend made the jobs.
"""

from __future__ import annotations

import argparse
import time

from ..locations import Locations
from ..storage.history import History
from ..trust.sanitize import clean_text
from .console import print_json, write_line
from .job_report import job_summary

__all__ = ["history_command"]


def history_command(args: argparse.Namespace) -> int:
    """Print the newest ``args.limit`` jobs: one line each, or one JSON object per line."""
    locations = Locations.default()
    locations.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with History(locations.history_db) as history:
        jobs = history.list_jobs(limit=args.limit, starred=True if args.starred else None)
    if args.json:
        for job in jobs:
            if not print_json(job_summary(job), compact=True):
                break
        return 0
    for job in jobs:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at))
        prompt = clean_text(job.request.prompt, limit=50)
        rid = (job.request_id or "-")[:12]
        star = "★" if job.starred else " "
        if not write_line(f"{star}{job.id:>5}  {when}  {job.state.value:<11} {rid:<12}  {prompt}"):
            break
    return 0
