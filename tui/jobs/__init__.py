"""The job engine: submit → persist → poll → result → download; cancel; resume. No Textual."""

from __future__ import annotations

from .engine import JobEngine
from .events import CancelOutcome, JobEvent

__all__ = ["CancelOutcome", "JobEngine", "JobEvent"]
