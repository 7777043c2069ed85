"""Loads of the composer from a past job: what "iterate", "edit this result" and "re-run" put
in it, and why one is not possible. No Textual, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import DEFAULT_EDIT_SIZE, Job, JobRequest, JobState
from ..trust.sanitize import clean_text
from ..trust.urls import UnsafeUrl, check_reference_url

__all__ = [
    "OFFLINE_EDIT_REASON",
    "ComposerLoad",
    "edit_request_from",
    "iterate_request_from",
    "rerun_request_from",
]

OFFLINE_EDIT_REASON = (
    "the offline backend's images live on this machine; the RunComfy server can't fetch them"
)


@dataclass(frozen=True, slots=True)
class ComposerLoad:
    """What a load puts in the composer: a request to refine, the job it comes from (its
    parent-to-be), and a note saying what happened."""

    request: JobRequest
    parent_id: int | None
    note: str = ""


def _is_loopback_url(url: str) -> bool:
    lowered = url.lower()
    return lowered.startswith(("http://127.", "http://localhost", "http://[::1]"))


def edit_request_from(job: Job) -> tuple[ComposerLoad | None, str]:
    """An edit whose image 1 is ``job``'s output URL, or None and a plain reason why not.

    Only an output URL that the RunComfy server may fetch (:func:`check_reference_url`) is used;
    the offline backend's ``http://127.0.0.1`` URLs are refused with a clear reason.
    """
    if job.state is not JobState.COMPLETED or not job.output_urls:
        return None, "this job has no finished image to edit yet"
    refusal = ""
    for url in job.output_urls:
        try:
            check_reference_url(url)
        except UnsafeUrl as exc:
            if _is_loopback_url(url):
                refusal = OFFLINE_EDIT_REASON
            elif not refusal:
                refusal = clean_text(f"the image URL can't be used as a reference: {exc}")
            continue
        request = JobRequest(job.request.prompt, DEFAULT_EDIT_SIZE, (url,))
        return ComposerLoad(request, job.id, "editing the result: image 1 is its output"), ""
    return None, refusal


def iterate_request_from(job: Job) -> ComposerLoad:
    """The same request as ``job``, to change one thing; the new job's parent is ``job``."""
    return ComposerLoad(job.request, job.id, "iterating: change one thing at a time")


def rerun_request_from(job: Job) -> ComposerLoad:
    """The same request again as a new, separately billed job (no parent link)."""
    return ComposerLoad(job.request, None, "re-run: the same request is sent again and billed again")
