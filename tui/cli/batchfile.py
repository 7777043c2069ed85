"""Reading a batch file: JSONL, one request per line, every line checked before anything is sent.

Each line is a JSON object ``{"prompt": …, "size"?: …, "images"?: […], "id"?: …}``; blank lines
and lines starting with ``#`` are skipped. A line that is not valid JSON, has a field this app
does not know, or fails the same checks as the composer and ``run`` (:func:`prepare_request`)
is reported with its line number and reason; it never stops the other lines.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..models import JobRequest, prepare_request
from ..storage.batches import line_key
from ..trust.sanitize import clean_text

__all__ = ["FIELDS", "BatchLine", "read_batch"]

FIELDS = ("prompt", "size", "images", "id")
MAX_ID_CHARS = 200


@dataclass(frozen=True, slots=True)
class BatchLine:
    """One non-blank line: its number (from 1), its idempotency key, and its request or error."""

    number: int
    key: str
    line_id: str | None = None
    request: JobRequest | None = None
    error: str | None = None
    notices: tuple[str, ...] = ()


def _line_id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError('"id" must be a string or a number')
    return clean_text(str(value), limit=MAX_ID_CHARS)


def _parse(text: str) -> tuple[JobRequest, str | None, tuple[str, ...]]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not valid JSON ({clean_text(exc, limit=100)})") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        names = ", ".join(repr(clean_text(name, limit=30)) for name in unknown[:5])
        raise ValueError(f"unknown field {names} (a line has {', '.join(FIELDS)})")
    line_id = _line_id(data.get("id"))
    prompt, size, images = data.get("prompt"), data.get("size"), data.get("images", [])
    if not isinstance(prompt, str):
        raise ValueError('"prompt" (a string) is required')
    if size is not None and not isinstance(size, str):
        raise ValueError('"size" must be a string')
    if not isinstance(images, list) or not all(isinstance(url, str) for url in images):
        raise ValueError('"images" must be a list of URL strings')
    try:
        prepared = prepare_request(prompt, size, images)
    except InputError as exc:
        raise ValueError("; ".join(p.message for p in exc.problems)) from None
    return prepared.request, line_id, prepared.notices


def _id_of_bad_line(content: str) -> str | None:
    """The ``id`` of a line that failed, when it can still be read (so it can be reported)."""
    try:
        data = json.loads(content)
        return _line_id(data.get("id")) if isinstance(data, dict) else None
    except (ValueError, RecursionError):
        return None


def read_batch(data: bytes, source: str) -> list[BatchLine]:
    """Every non-blank, non-comment line of ``data``, parsed and keyed for ``source``."""
    seen: Counter[str] = Counter()
    lines: list[BatchLine] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
            valid = False
        else:
            valid = True
        content = text.strip()
        if not content or content.startswith("#"):
            continue
        seen[content] += 1
        key = line_key(source, content, seen[content])
        if not valid:
            lines.append(BatchLine(number, key, error="not UTF-8 text"))
            continue
        try:
            request, line_id, notices = _parse(content)
        except ValueError as exc:
            lines.append(
                BatchLine(number, key, _id_of_bad_line(content), error=clean_text(exc, limit=400))
            )
            continue
        lines.append(BatchLine(number, key, line_id, request, notices=notices))
    return lines
