"""The composer's unsent work as one value: prompt, size, references and the parent job.

A :class:`ComposerDraft` is what survives a restart (saved as JSON in the history's drafts
table) and what a load that replaces edited text keeps, so it can be brought back. Reading is
forgiving: an old plain-text draft (earlier versions kept only the prompt) or a damaged value
gives a draft with what could be read, never an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..models import SIZES

__all__ = ["DRAFT_VERSION", "ComposerDraft"]

DRAFT_VERSION = 1
_SIZES = (*SIZES, "auto")
_MAX_REFERENCES = 50  # far above the API's 10: a draft may hold a list still being trimmed


@dataclass(frozen=True, slots=True)
class ComposerDraft:
    """Everything the composer holds before it is sent."""

    prompt: str = ""
    size: str | None = None  # None: the default for the request kind
    images: tuple[str, ...] = ()
    parent_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # fields a newer version wrote

    @property
    def is_empty(self) -> bool:
        return not self.prompt.strip() and not self.images and self.parent_id is None

    def to_json(self) -> str:
        return json.dumps(
            {
                **self.extra,
                "version": DRAFT_VERSION,
                "prompt": self.prompt,
                "size": self.size,
                "images": list(self.images),
                "parent_id": self.parent_id,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_text(cls, text: str | None) -> ComposerDraft:
        """A draft from what was saved: JSON of any version, or an old plain-text prompt."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
        except ValueError:
            return cls(prompt=text)
        if not isinstance(data, dict) or "prompt" not in data:
            return cls(prompt=text)  # a prompt that happens to be valid JSON ("42", "[1]")
        prompt = data.get("prompt")
        size = data.get("size")
        images = data.get("images")
        parent = data.get("parent_id")
        known = {"version", "prompt", "size", "images", "parent_id"}
        return cls(
            prompt=prompt if isinstance(prompt, str) else "",
            size=size if size in _SIZES else None,
            images=tuple(
                str(url) for url in (images if isinstance(images, list) else [])
                if isinstance(url, str)
            )[:_MAX_REFERENCES],
            parent_id=parent if isinstance(parent, int) and not isinstance(parent, bool) else None,
            extra={k: v for k, v in data.items() if k not in known},
        )
