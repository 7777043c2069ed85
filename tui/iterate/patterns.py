"""Regular expressions compiled when first used, not when their module is imported.

The prompt diff and lint modules hold about a hundred case-insensitive word patterns; compiling
them all at import cost the app ~30 ms before its first frame (issue 9). A :class:`LazyPattern`
is a drop-in for the few :class:`re.Pattern` methods those modules call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["LazyPattern", "words"]


class LazyPattern:
    """``re.compile(pattern, flags)``, done on the first search."""

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self.flags)
        return self._compiled

    def search(self, text: str) -> re.Match[str] | None:
        return self.compiled.search(text)

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self.compiled.match(text, pos)

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self.compiled.fullmatch(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(text)

    def split(self, text: str) -> list[str]:
        return self.compiled.split(text)

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r}, {self.flags!r})"


def words(pattern: str) -> LazyPattern:
    """Whole words (not inside a longer word or hyphenated compound), any case."""
    return LazyPattern(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.IGNORECASE)
