"""Reading the Model API's answers: JSON bodies and the parts of an error answer.

Error bodies carry a message and, when available, a numeric ``error_code`` (some clients see
``code``), sometimes a ``detail`` (a 422 lists validation problems). The message is read from
``error_message``, then ``message``, then ``error``, then ``detail`` when it is a string.
"""

from __future__ import annotations

import json as jsonlib
from http import HTTPStatus
from typing import Any

__all__ = ["code", "json_or_none", "message", "plain_body", "reason", "summarise_detail", "text"]

def json_or_none(body: bytes) -> tuple[Any, bool]:
    if not body.strip():
        return None, False
    try:
        return jsonlib.loads(body), True
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, False


def text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def summarise_detail(detail: Any) -> str | None:
    """A 422 ``detail`` list (pydantic/FastAPI style) as ``field: problem; …``."""
    if not isinstance(detail, list) or not detail:
        return None
    items: list[str] = []
    for entry in detail[:3]:
        if isinstance(entry, dict):
            loc = entry.get("loc")
            where = ".".join(str(p) for p in loc if p != "body") if isinstance(loc, list) else ""
            msg = entry.get("msg") or entry.get("message") or "invalid"
            items.append(f"{where}: {msg}" if where else str(msg))
        else:
            items.append(str(entry))
    more = f" (+{len(detail) - 3} more)" if len(detail) > 3 else ""
    return "; ".join(items) + more


def message(data: dict[str, Any]) -> str | None:
    found = None
    for key in ("error_message", "message", "error", "detail"):
        found = text(data.get(key))
        if found:
            break
    if found is None and isinstance(data.get("error"), dict):
        found = message(data["error"])
    summary = summarise_detail(data.get("detail"))
    if summary:
        return f"{found}: {summary}" if found else summary
    return found


def plain_body(raw: bytes) -> str | None:
    text = raw[:300].decode("utf-8", errors="replace").strip()
    if not text or text.startswith("<"):  # an HTML error page says nothing useful
        return None
    return text


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"
