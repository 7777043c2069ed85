"""The job engine: submit → persist → poll → result → download; cancel; resume. No Textual."""

from __future__ import annotations

from .engine import JobEngine, JobFollowedElsewhere
from .events import CancelOutcome, JobEvent

__all__ = ["CancelOutcome", "JobEngine", "JobEvent", "JobFollowedElsewhere"]
