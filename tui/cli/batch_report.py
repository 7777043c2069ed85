"""What ``batch`` tells the user: one JSON line per input line on stdout, progress on stderr.

Writing is best effort — a closed pipe or a full terminal never takes a job down; every line's
outcome is in history either way (``gpt-image-tui history``, or the same batch again).
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any, TextIO

from ..api.catalog import format_usd
from ..models import Job, JobState
from ..storage.spend import billed_cost
from ..trust.sanitize import clean_text
from .batchfile import BatchLine
from .console import dumps
from .job_report import exit_code_for

__all__ = ["BatchReport"]


class BatchReport:
    """Counts and prints a batch's results as they come."""

    def __init__(
        self,
        total: int,
        *,
        json_progress: bool = False,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.total = total
        self.json_progress = json_progress
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.done = 0
        self.running = 0
        self.failed = 0
        self.invalid = 0
        self.spent = Decimal(0)  # what this run's jobs cost (lines sent before: not counted)
        self.unpriced = 0
        self.exit_codes: list[int] = []
        self._last_progress: tuple[Any, ...] | None = None

    # ------------------------------------------------------------------ results

    def invalid_line(self, line: BatchLine) -> None:
        self.invalid += 1
        self._emit({"line": line.number, "id": line.line_id, "job": None, "request_id": None,
                    "status": "invalid", "files": [], "error": line.error, "already": False})

    def forgotten_line(self, line: BatchLine, note: str | None, *, already: bool) -> None:
        """A line whose job is gone from history: reported, never sent again."""
        self.failed += 1
        self._emit({"line": line.number, "id": line.line_id, "job": None, "request_id": None,
                    "status": "forgotten", "files": [], "error": note, "already": already})

    def job_line(self, line: BatchLine, job: Job, note: str | None, *, already: bool) -> None:
        completed = job.state is JobState.COMPLETED
        if completed and not already:
            cost = billed_cost(job)
            if cost is None and job.price_source != "offline":
                self.unpriced += 1
            self.spent += cost or 0
        if job.state.is_terminal and not completed:
            self.failed += 1
        self.exit_codes.append(exit_code_for(job) if job.state.is_terminal else 0)
        self._emit({
            "line": line.number,
            "id": line.line_id,
            "job": job.id,
            "request_id": job.request_id,
            "status": job.state.value,
            "files": list(job.files),
            "output": list(job.output_urls),
            "error": note or job.error,
            "price_usd": None if job.price_usd is None else float(job.price_usd),
            "already": already,
        })

    def started(self) -> None:
        self.running += 1
        self.progress()

    def stopped(self) -> None:
        self.running -= 1

    # ------------------------------------------------------------------ writing

    def say(self, text: str) -> None:
        if self.json_progress:
            self._write(self.err, dumps({"message": clean_text(text)}))
        else:
            self._write(self.err, clean_text(text))

    def progress(self) -> None:
        state = (self.done, self.running, self.failed, self.invalid, self.spent, self.unpriced)
        if state == self._last_progress:
            return
        self._last_progress = state
        if self.json_progress:
            self._write(self.err, dumps({
                "done": self.done, "total": self.total, "running": self.running,
                "failed": self.failed, "invalid": self.invalid, "spent_usd": float(self.spent),
                "unpriced": self.unpriced,
            }))
            return
        invalid = f" · {self.invalid} invalid" if self.invalid else ""
        unpriced = f" (+{self.unpriced} without a price)" if self.unpriced else ""
        self._write(
            self.err,
            f"batch {self.done}/{self.total} done · {self.running} running · "
            f"{self.failed} failed{invalid} · spent {format_usd(self.spent)}{unpriced}",
        )

    def _emit(self, value: dict[str, Any]) -> None:
        self.done += 1
        self._write(self.out, dumps(value))
        self.progress()

    @staticmethod
    def _write(stream: TextIO, text: str) -> None:
        try:
            print(text, file=stream, flush=True)
        except (OSError, ValueError):
            pass
