"""Output file names from a template: ``{date}-{time}_{slug}_{rid8}`` and friends.

A template is checked once (:func:`check_template`), when the settings are read, so a typo is a
clear error before anything is sent. :func:`render_name` fills it in for one image of one job;
the caller (:meth:`tui.storage.files.OutputFiles.name_for`) then reduces the result to one safe
file name component, so no template — ``../x``, ``/etc/{slug}``, ``{slug}\\..`` — can name a
file outside the output directory, and the downloader de-duplicates a name already taken.
"""

from __future__ import annotations

import re
import string
import time
import unicodedata
from typing import Any

from ..models import Job, JobRequest, JobState

__all__ = [
    "DEFAULT_TEMPLATE",
    "PLACEHOLDERS",
    "TemplateError",
    "check_template",
    "render_name",
    "slug",
]

PLACEHOLDERS: dict[str, str] = {
    "date": "the job's creation date, YYYYmmdd (local time)",
    "time": "its time, HHMMSS",
    "slug": "the prompt's first words, lower-case ASCII joined by -",
    "rid8": "the first 8 characters of the request id (job<N> before there is one)",
    "job": "the local job number",
    "size": "the size, e.g. 1024x1536 or auto",
    "sweep": "the sweep alternative's words (empty outside a sweep)",
    "n": "the image's number within its job, from 1",
}
# Today's names: readable, sortable by time, traceable to the request.
DEFAULT_TEMPLATE = "{date}-{time}_{slug}_{rid8}"
MAX_TEMPLATE_CHARS = 200
_MAX_SLUG_CHARS = 40
_SAMPLE = Job(1, JobRequest("sample", "1024_1024"), JobState.PENDING, 0.0, 0.0, "sample-rid")


class TemplateError(ValueError):
    """A name template that can't be used; ``str()`` says why in one sentence."""


def slug(text: str, limit: int = _MAX_SLUG_CHARS) -> str:
    """The first words of ``text`` as lower-case ASCII joined by ``-`` ("" when none)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    result = ""
    for word in re.findall(r"[a-z0-9]+", ascii_text.lower()):
        candidate = f"{result}-{word}" if result else word
        if len(candidate) > limit:
            if not result:
                result = word[:limit]
            break
        result = candidate
    return result


def _fields(template: str) -> list[tuple[str, str]]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"the name template {template!r} is malformed: {exc}") from None
    found: list[tuple[str, str]] = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + key + "}" for key in PLACEHOLDERS)
            raise TemplateError(f"unknown placeholder {{{name}}} in the name template; use {known}")
        if conversion:
            raise TemplateError(f"{{{name}!{conversion}}}: conversions are not supported")
        found.append((name, spec or ""))
    return found


def check_template(template: str) -> str:
    """Return ``template`` if it can be used; raise :class:`TemplateError` saying why not."""
    if not isinstance(template, str) or not template.strip():
        raise TemplateError("the name template is empty")
    if len(template) > MAX_TEMPLATE_CHARS:
        raise TemplateError(f"the name template is longer than {MAX_TEMPLATE_CHARS} characters")
    _fields(template)
    try:
        render_name(template, _SAMPLE, 1, "png")
    except (ValueError, TypeError) as exc:
        raise TemplateError(f"the name template {template!r} can't be filled in: {exc}") from None
    return template


def _values(job: Job, index: int) -> dict[str, Any]:
    local = time.localtime(job.created_at)
    return {
        "date": time.strftime("%Y%m%d", local),
        "time": time.strftime("%H%M%S", local),
        "slug": slug(job.request.prompt) or "image",
        "rid8": (job.request_id or f"job{job.id}")[:8],
        "job": job.id,
        "size": job.request.size.replace("_", "x"),
        "sweep": slug(job.sweep_label or ""),
        "n": index + 1,
    }


def render_name(template: str, job: Job, index: int, ext: str) -> str:
    """The file name ``template`` gives image ``index`` (0-based) of ``job``, with ``ext``.

    Without ``{n}`` in the template, images after the first get ``_2``, ``_3``… so one job's
    images never share a name. The result is *not* yet safe: pass it through
    :func:`tui.storage.files.safe_component`.
    """
    stem = template.format_map(_values(job, index))
    if index > 0 and "n" not in {name for name, _ in _fields(template)}:
        stem += f"_{index + 1}"
    if not stem.strip(" ._-"):
        stem = "image"
    extension = re.sub(r"[^a-z0-9]", "", str(ext).lower().lstrip(".")) or "png"
    return f"{stem}.{extension}"
