"""How a job differs, in a few words, for the place people look first (its card).

A child says what changed against its parent (``+golden hour −soft window light``), a sweep cell
its alternative, a first job the head of its prompt. Plain, sanitised text; no I/O.
"""

from __future__ import annotations

from ..models import Job
from ..trust.sanitize import clean_text

__all__ = ["difference_label", "prompt_head"]

_HEAD_CHARS = 60


def prompt_head(prompt: str, limit: int = _HEAD_CHARS) -> str:
    """The first words of a prompt, cut at a word boundary."""
    text = " ".join(clean_text(prompt).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space >= limit // 2 else cut).rstrip(" ,;:") + "…"


def difference_label(job: Job, parent: Job | None = None) -> str:
    """What sets ``job`` apart: its sweep alternative, its change against ``parent`` (its
    parent job, when known), else the head of its prompt."""
    if job.sweep_id and job.sweep_label:
        return clean_text(job.sweep_label, limit=_HEAD_CHARS)
    if parent is not None:
        from .diff import summarise_change  # the word differ loads with the first child shown

        summary = summarise_change(parent.request, job.request)
        # A rewrite reads best as its own words; a refinement as what it changed.
        return prompt_head(job.request.prompt) if summary.rewrite else summary.step_label
    return prompt_head(job.request.prompt)
