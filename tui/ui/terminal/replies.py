"""What a terminal says back to the app's start-up queries — parsed, and kept out of the input.

Pure functions and one small state machine, no I/O: :func:`parse_replies` turns the bytes read
during the probe into :class:`TerminalReplies`; :class:`ReplyFilter` removes answers that arrive
*after* the probe gave up (a slow SSH link), so they never reach the prompt editor as keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...trust.sanitize import clean_text

__all__ = [
    "KITTY_QUERY_ID",
    "KITTY_TMUX_QUERY_ID",
    "ReplyFilter",
    "TerminalReplies",
    "parse_replies",
]

KITTY_QUERY_ID = 31  # the Kitty graphics query sent to the terminal itself
KITTY_TMUX_QUERY_ID = 32  # the same query sent through tmux's passthrough to the outer terminal

_DA1 = re.compile(rb"\x1b\[\?([\d;]*)c")
_KITTY = re.compile(rb"\x1b_Gi=(\d+)(?:,[^;\x1b]*)?;([^\x1b]*)\x1b\\")
_CELL = re.compile(rb"\x1b\[6;(\d{1,4});(\d{1,4})t")
_XTVERSION = re.compile(rb"\x1bP>\|([^\x1b]{0,120})\x1b\\")
_DECRQSS = re.compile(rb"\x1bP([01])\$r([^\x1b]{0,200})\x1b\\")
_XTGETTCAP = re.compile(rb"\x1bP([01])\+r([0-9A-Fa-f]*)(?:=[0-9A-Fa-f]*)?\x1b\\")
_DIRECT_SGR = re.compile(r"(?:^|;)38[:;]2[:;]")
_INDEXED_SGR = re.compile(r"(?:^|;)38[:;]5[:;]\d")
_RGB_CAPS = {b"524742", b"5463"}  # "RGB" and "Tc", hex-encoded as XTGETTCAP answers them


@dataclass(frozen=True, slots=True)
class TerminalReplies:
    """Everything the terminal (and tmux, and a terminal behind tmux) answered, in order.

    ``direct_colour`` and ``rgb_capability`` are None when the question went unanswered, so a
    decision can tell "said no" from "said nothing".
    """

    da1: tuple[tuple[str, ...], ...] = ()
    kitty_ok: frozenset[int] = frozenset()
    cell_size: tuple[int, int] | None = None
    versions: tuple[str, ...] = ()
    direct_colour: bool | None = None
    rgb_capability: bool | None = None
    palette_256: bool = False  # it answered the RGB colour with a 256-colour palette index
    typed: str = ""  # keys typed while the probe listened, answers removed

    @property
    def answered(self) -> bool:
        return bool(self.da1 or self.kitty_ok or self.cell_size or self.versions) or (
            self.direct_colour is not None or self.rgb_capability is not None
        )

    @property
    def sixel(self) -> bool:
        """The first DA1 answer (the terminal the app writes to) lists Sixel (attribute 4)."""
        return bool(self.da1) and "4" in self.da1[0]

    @property
    def tmux_version(self) -> str | None:
        """``3.3a`` when the terminal that answered first is tmux (ssh from inside tmux too)."""
        for version in self.versions[:1]:
            if version.startswith("tmux "):
                return version.removeprefix("tmux ").strip()
        return None

    @property
    def outer_version(self) -> str | None:
        """The version text of the terminal itself, or of the one behind tmux when it answered."""
        for version in self.versions:
            if not version.startswith("tmux "):
                return version
        return None


def parse_replies(data: bytes) -> TerminalReplies:
    """Parse the bytes read while probing; what is not an answer was typed, and is kept as such."""
    cell = _CELL.search(data)
    decrqss = [(ok, body.decode("ascii", "replace")) for ok, body in _DECRQSS.findall(data)]
    direct: bool | None = None
    palette_256 = False
    for ok, body in decrqss:
        direct = bool(direct) or (ok == b"1" and bool(_DIRECT_SGR.search(body)))
        palette_256 = palette_256 or (ok == b"1" and bool(_INDEXED_SGR.search(body)))
    tcap = _XTGETTCAP.findall(data)
    rgb: bool | None = None
    if tcap:
        rgb = any(ok == b"1" and name.upper() in _RGB_CAPS for ok, name in tcap)
    return TerminalReplies(
        da1=tuple(
            tuple(part for part in params.decode("ascii").split(";") if part)
            for params in _DA1.findall(data)
        ),
        kitty_ok=frozenset(
            int(ident) for ident, status in _KITTY.findall(data) if status == b"OK"
        ),
        cell_size=(int(cell.group(2)), int(cell.group(1)))
        if cell and int(cell.group(1)) and int(cell.group(2))
        else None,
        versions=tuple(
            clean_text(raw.decode("utf-8", "replace"), limit=60) for raw in _XTVERSION.findall(data)
        ),
        direct_colour=direct,
        rgb_capability=rgb,
        palette_256=palette_256,
        typed=typed_among(data),
    )


def typed_among(data: bytes) -> str:
    """The keys in bytes read while asking the terminal: everything that is not an answer."""
    answers = ReplyFilter()
    text = data.decode("utf-8", "replace")
    return answers.feed(text, 0.0) + answers.flush(float("inf"))


def count_da1(data: bytes) -> int:
    """How many DA1 answers ``data`` holds (the probe waits for as many as it asked)."""
    return len(_DA1.findall(data))


# --- late answers ----------------------------------------------------------------------------

# Complete answers to the queries this app sends. None of these is ever produced by a key.
_ANSWER = re.compile(
    r"\x1b\[\?[\d;]*c"  # DA1
    r"|\x1b\[6;\d+;\d+t"  # cell size in pixels
    r"|\x1b_G[^\x1b]*\x1b\\"  # Kitty graphics
    r"|\x1bP(?:>\||[01]\$r|[01]\+r)[^\x1b]*\x1b\\"  # XTVERSION, DECRQSS, XTGETTCAP
)
# The start of an answer that a read cut short. Two characters at least past ESC, so a lone
# Escape key press (or ESC [ of an arrow key) is never held back.
_PARTIAL = re.compile(
    r"\x1b(?:\[\?[\d;]*|\[6;[\d;]*|_G[^\x1b]*\x1b?|P(?:>\|?|[01][$+]?r?)[^\x1b]*\x1b?)\Z"
)
_MAX_HELD = 512


class ReplyFilter:
    """Removes terminal answers from keyboard input; holds a cut-off answer until it completes.

    Feed it every chunk read from the terminal; it returns the text to hand to the key parser.
    A held tail that doesn't complete within ``hold_seconds`` (it was typed, after all) is
    released by :meth:`flush`.
    """

    def __init__(self, hold_seconds: float = 0.3) -> None:
        self.hold_seconds = hold_seconds
        self._held = ""
        self._held_since = 0.0
        self.swallowed: list[str] = []  # what was removed (for logs and tests)

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def feed(self, text: str, now: float) -> str:
        """The keys in ``text`` (after anything held before it), answers removed."""
        if self._held:
            text = self._held + text
            self._held = ""
        else:
            self._held_since = now
        kept = _ANSWER.sub(self._swallow, text)
        start = kept.rfind("\x1b", max(0, len(kept) - _MAX_HELD))
        while start != -1:
            if _PARTIAL.match(kept, start):
                self._held = kept[start:]
                return kept[:start]
            start = kept.rfind("\x1b", max(0, len(kept) - _MAX_HELD), start)
        return kept

    def flush(self, now: float) -> str:
        """Release a held tail that has waited too long to be an answer."""
        if self._held and now - self._held_since >= self.hold_seconds:
            held, self._held = self._held, ""
            return held
        return ""

    def _swallow(self, match: re.Match[str]) -> str:
        self.swallowed.append(match.group(0))
        return ""
