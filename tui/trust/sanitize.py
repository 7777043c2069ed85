"""The one sanitiser for untrusted text shown in a terminal.

Server messages, status strings, URLs, file names and prompts replayed from history may carry
escape sequences (OSC 52 clipboard writes, OSC 8 links, Kitty APC, Sixel DCS, C1 CSI) that a
terminal would obey, or bidi overrides that make text read differently than it is. Everything
untrusted goes through :func:`clean_text` before any widget, log line or stderr message shows
it. Markup is a separate concern: widgets show the result as plain content, never as markup.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["clean_prompt", "clean_text", "json_text", "shorten"]

# ESC-introduced sequences: CSI (ESC [ ... final), OSC/DCS/APC/PM/SOS strings (ESC ] ... BEL|ST),
# and any other two-byte ESC x sequence. C1 equivalents (0x9b CSI, 0x9d OSC, 0x90 DCS, 0x9f APC,
# 0x9e PM, 0x98 SOS) are handled the same way.
_ESCAPE_SEQUENCE = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?            # CSI
    | (?:\x1b[\]P_^X]|[\x90\x98\x9d\x9e\x9f])     # OSC DCS APC PM SOS ...
      [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?       # ... up to BEL or ST (or end)
    | \x1b[ -/]*[0-~]?                            # other ESC sequences, or a lone ESC
    """,
    re.VERBOSE,
)
# C0 controls other than TAB/LF, DEL, C1 controls, bidi embeddings/overrides/isolates, and other
# invisible format characters that can disguise text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def clean_text(value: object, *, keep_newlines: bool = False, limit: int | None = None) -> str:
    """Return ``value`` as text that is safe to put in front of a terminal.

    Escape sequences are removed whole, remaining control characters dropped, CR/LF folded to
    spaces (unless ``keep_newlines``) and tabs to spaces. ``limit`` shortens with an ellipsis.
    """
    text = value if isinstance(value, str) else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = text.replace("\t", " ")
    if not keep_newlines:
        text = text.replace("\n", " ")
    text = _CONTROL.sub("", text)
    if limit is not None:
        text = shorten(text, limit)
    return text


def clean_prompt(value: str) -> str:
    """Strip NUL and control characters from a prompt, keeping newlines and tabs; trim ends."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", "", text)
    return text.strip()


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, marking the cut with an ellipsis."""
    if limit <= 0:
        return ""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


# Characters json.dumps(ensure_ascii=False) leaves raw that a terminal may act on or that hide
# text: DEL, the C1 controls (U+0080-U+009F: 0x9B is a CSI on its own), line/paragraph
# separators, bidi and other invisible format characters. (C0 controls it escapes already.)
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def json_text(value: Any, *, compact: bool = False) -> str:
    """``value`` as JSON that is safe to write to a terminal: every control character escaped.

    Non-ASCII text stays readable; only the characters above become ``\\uXXXX`` escapes (they
    can only occur inside JSON strings, so escaping them never changes the value).
    """
    text = json.dumps(
        value,
        ensure_ascii=False,
        separators=(",", ":") if compact else None,
        indent=None if compact else 2,
    )
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
