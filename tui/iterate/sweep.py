"""``{a|b|c}`` sweeps: one prompt that fans out into one job per alternative.

``"a cat at {dawn|noon|dusk}"`` gives three prompts with everything else verbatim; several groups
give their cartesian product. ``\\{``, ``\\}`` and ``\\|`` write the literal characters, and a
``{...}`` without ``|`` is left as written. Braces do not nest.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from ..errors import InputError, InputProblem

__all__ = [
    "CONFIRM_THRESHOLD",
    "DEFAULT_LIMIT",
    "LABEL_SEPARATOR",
    "Sweep",
    "SweepError",
    "Variant",
    "count_variants",
    "expand",
    "has_sweep",
]

CONFIRM_THRESHOLD = 8  # the UI asks before submitting a sweep of more jobs than this
DEFAULT_LIMIT = 64
_ESCAPABLE = "{}|"
LABEL_SEPARATOR = " · "


class SweepError(InputError):
    """The sweep syntax is wrong or the sweep is too large; nothing was sent.

    ``position`` is the 0-based offset of the offending character, or None (too many variants).
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        self.position = position
        where = f" (at character {position + 1})" if position is not None else ""
        super().__init__([InputProblem("prompt", f"{message}{where}")])


@dataclass(frozen=True, slots=True)
class Variant:
    """One expanded prompt; ``label`` joins its ``choices`` with " · " (empty without groups)."""

    prompt: str
    label: str
    choices: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Sweep:
    """Every variant of a prompt, in order (the last group varies fastest)."""

    variants: tuple[Variant, ...]
    groups: tuple[tuple[str, ...], ...]

    @property
    def count(self) -> int:
        return len(self.variants)

    @property
    def is_sweep(self) -> bool:
        return bool(self.groups)


# A parsed prompt: literal text and groups of alternatives, in order.
_Segment = str | tuple[str, ...]


def _parse(prompt: str) -> list[_Segment]:
    """Split ``prompt`` into literal text and alternative groups, resolving escapes."""
    segments: list[_Segment] = []
    literal: list[str] = []
    index, length = 0, len(prompt)
    while index < length:
        char = prompt[index]
        if char == "\\" and index + 1 < length and prompt[index + 1] in _ESCAPABLE:
            literal.append(prompt[index + 1])
            index += 2
        elif char == "{":
            group, index = _parse_group(prompt, index)
            if isinstance(group, str):
                literal.append(group)
            else:
                if literal:
                    segments.append("".join(literal))
                    literal = []
                segments.append(group)
        else:
            literal.append(char)
            index += 1
    if literal:
        segments.append("".join(literal))
    return segments


def _parse_group(prompt: str, opening: int) -> tuple[_Segment, int]:
    """Read from the ``{`` at ``opening`` to its ``}``; return the group (or the literal text
    when it has no ``|``) and the index after the ``}``."""
    alternatives: list[tuple[str, int]] = []  # (text, start offset)
    current: list[str] = []
    start = opening + 1
    index, length = opening + 1, len(prompt)
    while index < length:
        char = prompt[index]
        if char == "\\" and index + 1 < length and prompt[index + 1] in _ESCAPABLE:
            current.append(prompt[index + 1])
            index += 2
            continue
        if char == "{":
            raise SweepError("braces cannot nest; write \\{ for a literal brace", position=index)
        if char == "|":
            alternatives.append(("".join(current), start))
            current, start = [], index + 1
        elif char == "}":
            if not alternatives:  # "{not a group}" stays as written
                return "{" + "".join(current) + "}", index + 1
            alternatives.append(("".join(current), start))
            for text, position in alternatives:
                if not text.strip():
                    raise SweepError("empty alternative in a {a|b} group", position=position)
            return tuple(text.strip() for text, _ in alternatives), index + 1
        else:
            current.append(char)
        index += 1
    raise SweepError("unclosed { — close it with } or write \\{", position=opening)


def _groups(segments: list[_Segment]) -> list[tuple[str, ...]]:
    return [segment for segment in segments if isinstance(segment, tuple)]


def count_variants(prompt: str) -> int:
    """How many prompts ``prompt`` expands to, without building them. Raises SweepError on bad
    syntax (the limit is not checked)."""
    return math.prod(len(group) for group in _groups(_parse(prompt)))


def has_sweep(prompt: str) -> bool:
    """True when ``prompt`` has a ``{a|b}`` group, or malformed sweep syntax that
    :func:`expand` would report; False for plain prompts."""
    try:
        return bool(_groups(_parse(prompt)))
    except SweepError:
        return True


def expand(prompt: str, *, limit: int = DEFAULT_LIMIT) -> Sweep:
    """Expand every ``{a|b|c}`` group; the cartesian product when there are several.

    A prompt without groups gives one variant: the prompt with its escapes resolved.
    Raises :class:`SweepError` for bad syntax or more than ``limit`` variants.
    """
    segments = _parse(prompt)
    groups = _groups(segments)
    count = math.prod(len(group) for group in groups)
    if count > limit:
        raise SweepError(f"this sweep makes {count} prompts; the limit is {limit}")
    variants = []
    for choices in itertools.product(*groups):
        picks = iter(choices)
        text = "".join(
            next(picks) if isinstance(segment, tuple) else segment for segment in segments
        )
        variants.append(Variant(text, LABEL_SEPARATOR.join(choices), tuple(choices)))
    return Sweep(tuple(variants), tuple(groups))
