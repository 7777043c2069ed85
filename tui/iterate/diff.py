"""Word-level diff of two prompts, and a guess at which "knobs" a refinement moved.

The prompting guide says: change one attribute per iteration (lighting OR background OR pose OR
text) and keep the rest verbatim. :func:`summarise_change` names what moved so the app can say
so, gently, when more than one thing did.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from ..models import SIZE_LABELS
from ..trust.sanitize import clean_text, shorten
from .patterns import LazyPattern, words
from .vocab import KNOB_WORDS, find_quotes

__all__ = [
    "STEP_LABEL_MAX",
    "ChangeSummary",
    "DiffSpan",
    "Region",
    "RequestLike",
    "changed_regions",
    "diff_words",
    "summarise_change",
]

STEP_LABEL_MAX = 60
_EXACT_DIFF_TOKENS = 600  # longer changed middles let SequenceMatcher skip very common tokens
_MERGE_GAP_WORDS = 2  # changes separated by at most this many unchanged words form one region

SpanKind = Literal["same", "added", "removed"]


class RequestLike(Protocol):
    """Anything with a prompt, a size and reference images, such as ``tui.models.JobRequest``."""

    @property
    def prompt(self) -> str: ...
    @property
    def size(self) -> str: ...
    @property
    def images(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class DiffSpan:
    """A run of tokens that is the same in both prompts, only in the new one, or only in the old.

    ``text`` starts with a single space when the run followed whitespace, so joining the
    ``same`` and ``added`` spans gives the new prompt with its whitespace collapsed.
    """

    kind: SpanKind
    text: str


@dataclass(frozen=True, slots=True)
class Region:
    """One separate change: what was removed, what was added, and which knob it probably is.

    ``old_span``/``new_span`` are character offsets into the old and new prompts.
    """

    removed: str
    added: str
    label: str
    old_span: tuple[int, int]
    new_span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class ChangeSummary:
    """What moved between two requests. ``advice`` is None unless more than one knob moved.

    ``rewrite`` is set when most of the prompt changed (a new prompt, not a refinement): then
    ``knobs`` lists every knob the changed words touch, and ``knob_count`` is at least 2.
    ``words_changed``/``words_total`` say how much of the prompt moved.
    """

    regions: tuple[Region, ...]
    knobs: tuple[str, ...]
    knob_count: int
    advice: str | None
    other_changes: tuple[str, ...]
    step_label: str
    rewrite: bool = False
    words_changed: int = 0
    words_total: int = 0


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: int
    end: int
    space_before: bool
    newline_before: bool

    @property
    def is_word(self) -> bool:
        return any(ch.isalnum() for ch in self.text)


_OPENERS = "\"'“‘«„「『([{<"
_CLOSERS = "\"'”’»」』)]}>.,;:!?…"
_CLAUSE_BREAK = re.compile(r"[,;.:!?…]")
_EDGES = re.compile(rf"^([{re.escape(_OPENERS)}]*)(.*?)([{re.escape(_CLOSERS)}]*)$", re.DOTALL)


def _tokenise(text: str) -> list[_Token]:
    """Whitespace-separated words, with leading and trailing punctuation split off as tokens.

    ``"Open",`` becomes ``"`` ``Open`` ``"`` ``,`` so a change of the word inside quotes, or of the
    comma after it, is a change of that token alone. Inner punctuation (``top-right``, ``AQUA+``,
    ``person's``) stays attached.
    """
    tokens: list[_Token] = []
    previous_end = 0
    for match in re.finditer(r"\S+", text):
        gap = text[previous_end : match.start()]
        previous_end = match.end()
        space = bool(tokens) and bool(gap)
        newline = bool(tokens) and "\n" in gap
        edges = _EDGES.match(match.group())
        assert edges is not None  # the pattern matches every string
        offset = match.start()
        lead, core, trail = edges.groups()
        # Each edge punctuation mark is its own token, so '"HELLO",' changing to '"HELLO", and'
        # is an insertion after the comma rather than a replaced '",' token.
        for part in (*(lead or ""), core, *(trail or "")):
            if part:
                tokens.append(_Token(part, offset, offset + len(part), space, newline))
                space = newline = False
                offset += len(part)
    return tokens


def _render(tokens: Sequence[_Token], *, lead: bool = True) -> str:
    parts = []
    for index, token in enumerate(tokens):
        if token.space_before and (lead or index):
            parts.append(" ")
        parts.append(token.text)
    return "".join(parts)


def _opcodes(old: list[_Token], new: list[_Token]) -> list[tuple[str, int, int, int, int]]:
    """SequenceMatcher opcodes over token texts, fast for the usual small edit of a long prompt.

    The common head and tail are matched first; only a long middle (a rewrite, not a
    refinement) lets SequenceMatcher treat very common tokens as junk to stay quick.
    """
    a, b = [t.text for t in old], [t.text for t in new]
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    middle_a, middle_b = a[head : len(a) - tail], b[head : len(b) - tail]
    autojunk = max(len(middle_a), len(middle_b)) > _EXACT_DIFF_TOKENS
    matcher = difflib.SequenceMatcher(None, middle_a, middle_b, autojunk=autojunk)
    codes: list[tuple[str, int, int, int, int]] = []
    if head:
        codes.append(("equal", 0, head, 0, head))
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        codes.append((tag, i1 + head, i2 + head, j1 + head, j2 + head))
    if tail:
        codes.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    return _merge_equal(codes)


def _merge_equal(
    codes: list[tuple[str, int, int, int, int]],
) -> list[tuple[str, int, int, int, int]]:
    """Join adjacent opcodes of the same tag (the head/tail seams) and drop empty ones."""
    merged: list[tuple[str, int, int, int, int]] = []
    for code in codes:
        if code[1] == code[2] and code[3] == code[4]:
            continue
        if merged and merged[-1][0] == code[0] == "equal":
            last = merged[-1]
            merged[-1] = ("equal", last[1], code[2], last[3], code[4])
        else:
            merged.append(code)
    return merged


def diff_words(old: str, new: str) -> list[DiffSpan]:
    """Word diff of two prompts, ignoring differences of whitespace only.

    A replaced run gives a ``removed`` span followed by an ``added`` one.
    """
    old_tokens, new_tokens = _tokenise(old), _tokenise(new)
    spans: list[DiffSpan] = []

    def emit(kind: SpanKind, tokens: Sequence[_Token]) -> None:
        if not tokens:
            return
        text = _render(tokens)
        if not spans and text.startswith(" "):
            text = text[1:]
        if spans and spans[-1].kind == kind:
            spans[-1] = DiffSpan(kind, spans[-1].text + text)
        else:
            spans.append(DiffSpan(kind, text))

    for tag, i1, i2, j1, j2 in _opcodes(old_tokens, new_tokens):
        if tag == "equal":
            run = new_tokens[j1:j2]
            if spans and run and not run[0].space_before and old_tokens[i1].space_before:
                # Whitespace on either side keeps an unchanged run apart from the change before
                # it: "a soft" → "soft" shows "−a soft", never "−asoft".
                run = [replace(run[0], space_before=True), *run[1:]]
            emit("same", run)
        else:
            emit("removed", old_tokens[i1:i2])
            emit("added", new_tokens[j1:j2])
    return spans


def _is_boundary(gap: Sequence[_Token]) -> bool:
    """Unchanged tokens that keep two changes apart: > 2 words, or a clause break between."""
    words = sum(1 for t in gap if t.is_word)
    if words > _MERGE_GAP_WORDS:
        return True
    return any(_CLAUSE_BREAK.search(t.text) or t.newline_before for t in gap)


def changed_regions(old: str, new: str) -> list[Region]:
    """Separate changed regions, each labelled with the knob it most likely moved.

    Changes separated by at most two unchanged words merge into one region, unless a clause
    break (comma, full stop, line break …) lies between them: "red car, soft light" →
    "blue car, hard light" is a colour change and a lighting change, not one region.
    """
    old_tokens, new_tokens = _tokenise(old), _tokenise(new)
    groups: list[list[tuple[int, int, int, int]]] = []
    pending_gap: tuple[int, int] | None = None
    for tag, i1, i2, j1, j2 in _opcodes(old_tokens, new_tokens):
        if tag == "equal":
            pending_gap = (j1, j2)
            continue
        merge = (
            groups
            and pending_gap is not None
            and not _is_boundary(new_tokens[pending_gap[0] : pending_gap[1]])
            and not (j1 < len(new_tokens) and new_tokens[j1].newline_before)
        )
        if merge:
            groups[-1].append((i1, i2, j1, j2))
        else:
            groups.append([(i1, i2, j1, j2)])
        pending_gap = None

    regions: list[Region] = []
    for group in groups:
        i1, j1 = group[0][0], group[0][2]
        i2, j2 = group[-1][1], group[-1][3]
        old_span = _char_span(old_tokens, i1, i2)
        new_span = _char_span(new_tokens, j1, j2)
        removed = _render(old_tokens[i1:i2], lead=False)
        added = _render(new_tokens[j1:j2], lead=False)
        label = _label(old, new, old_tokens, new_tokens, (i1, i2, j1, j2), old_span, new_span)
        regions.append(Region(removed, added, label, old_span, new_span))
    return regions


def _char_span(tokens: Sequence[_Token], lo: int, hi: int) -> tuple[int, int]:
    if lo < hi:
        return tokens[lo].start, tokens[hi - 1].end
    if lo < len(tokens):
        return tokens[lo].start, tokens[lo].start
    end = tokens[-1].end if tokens else 0
    return end, end


# --- knob labels -------------------------------------------------------------------------------

_KNOB_PATTERNS = tuple((name, words(pattern)) for name, pattern in KNOB_WORDS)
_PRIMARY_KNOBS = tuple(k for k in _KNOB_PATTERNS if k[0] in {"lighting", "background", "pose"})
_SECONDARY_KNOBS = tuple(k for k in _KNOB_PATTERNS if k not in _PRIMARY_KNOBS)
_HEADLINE_WORDS = re.compile(
    r"(?<!\w)(?:headline|title|heading|tagline|slogan)s?(?!\w)", re.IGNORECASE
)
_CONTEXT_WORDS = 2


def _label(
    old: str,
    new: str,
    old_tokens: Sequence[_Token],
    new_tokens: Sequence[_Token],
    indices: tuple[int, int, int, int],
    old_span: tuple[int, int],
    new_span: tuple[int, int],
) -> str:
    """Guess the knob a region moved: quoted text first, then the vocabulary, then its words."""
    i1, i2, j1, j2 = indices
    for text, span in ((new, new_span), (old, old_span)):
        kind = _quote_kind(text, span)
        if kind:
            return kind
    changed = " ".join(t.text for t in (*old_tokens[i1:i2], *new_tokens[j1:j2]))
    if any(ch in changed for ch in '"“”«»「」『』'):
        return "text"
    # A change that opens (or closes) with a clause break starts (or ends) a clause of its own.
    edge_tokens = new_tokens[j1:j2] or old_tokens[i1:i2]
    skip = {
        "skip_left": bool(edge_tokens) and bool(_CLAUSE_BREAK.match(edge_tokens[0].text)),
        "skip_right": bool(edge_tokens) and bool(_CLAUSE_BREAK.match(edge_tokens[-1].text)),
    }
    context = _context(new_tokens, j1, j2, **skip) + " " + _context(old_tokens, i1, i2, **skip)
    # The guide's own knobs first, from the changed words, then from the words around them
    # ("white background" → "forest background" moved the background, not a colour).
    for knobs in (_PRIMARY_KNOBS, _SECONDARY_KNOBS):
        for text in (changed, context):
            knob = _match_knob(text, knobs)
            if knob:
                return knob
    words = [t.text for t in new_tokens[j1:j2] if t.is_word] or [
        t.text for t in old_tokens[i1:i2] if t.is_word
    ]
    return clean_text(" ".join(words[:3])) or "punctuation"


def _match_knob(text: str, knobs: Sequence[tuple[str, LazyPattern]]) -> str | None:
    for name, pattern in knobs:
        if pattern.search(text):
            return name
    return None


def _quote_kind(text: str, span: tuple[int, int]) -> str | None:
    """ "headline" or "text" when ``span`` lies inside quoted text of ``text``."""
    start, end = span
    for quote in find_quotes(text):
        lo, hi = quote.inner
        if lo <= start and end <= hi and (start < end or lo < start):
            lead_in = text[max(0, quote.start - 40) : quote.start]
            lead_in = _CLAUSE_BREAK.split(lead_in)[-1]
            return "headline" if _HEADLINE_WORDS.search(lead_in) else "text"
    return None


def _context(
    tokens: Sequence[_Token], lo: int, hi: int, *, skip_left: bool = False, skip_right: bool = False
) -> str:
    """Up to two unchanged words either side of a change, within its clause."""
    words: list[str] = []
    for step, index in ((-1, lo - 1), (1, hi)):
        if (step < 0 and skip_left) or (step > 0 and skip_right):
            continue
        taken = 0
        while 0 <= index < len(tokens) and taken < _CONTEXT_WORDS:
            token = tokens[index]
            if _CLAUSE_BREAK.search(token.text):
                break
            if token.is_word:
                words.append(token.text)
                taken += 1
            index += step
    return " ".join(words)


# --- request summaries -------------------------------------------------------------------------


def _size_label(size: str) -> str:
    return SIZE_LABELS.get(size, size)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _reference_changes(old: Sequence[str], new: Sequence[str]) -> list[str]:
    added = [url for url in new if url not in old]
    removed = [url for url in old if url not in new]
    changes = []
    if added:
        changes.append("+" + _plural(len(added), "reference"))
    if removed:
        changes.append("−" + _plural(len(removed), "reference"))
    kept_old = [url for url in old if url in new]
    kept_new = [url for url in new if url in old]
    if kept_old != kept_new:
        changes.append("references reordered")
    return changes


def _region_step(region: Region) -> str:
    parts = []
    for sign, text in (("+", region.added), ("−", region.removed)):
        words = " ".join(text.split()).strip(",;:. ")  # "+, wide shot" reads "+wide shot"
        if words:
            parts.append(sign + shorten(words, 28))
    return " ".join(parts)


def _truncate(text: str, limit: int) -> str:
    """Cut at a word boundary where one is close enough, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,") + "…"


# A prompt counts as rewritten when fewer than half of its old words stayed (it had at least
# REWRITE_MIN_WORDS): "a cat on a sofa" → "a neon city at night" is not one knob, while adding
# a long clause to a short prompt is still a refinement of it.
REWRITE_KEPT_SHARE = 0.5
REWRITE_MIN_WORDS = 3


def _word_counts(old: str, new: str) -> tuple[int, int, int]:
    """(words kept, words in the old prompt, words in the new one), word tokens only."""
    old_tokens, new_tokens = _tokenise(old), _tokenise(new)
    kept = sum(
        1
        for tag, _i1, _i2, j1, j2 in _opcodes(old_tokens, new_tokens)
        if tag == "equal"
        for token in new_tokens[j1:j2]
        if token.is_word
    )
    return (
        kept,
        sum(1 for t in old_tokens if t.is_word),
        sum(1 for t in new_tokens if t.is_word),
    )


def _knobs_touched(regions: Sequence[Region]) -> list[str]:
    """Every knob of the vocabulary the changed words of ``regions`` mention, in order."""
    changed = " ".join(f"{r.removed} {r.added}" for r in regions)
    found = [name for name, pattern in _KNOB_PATTERNS if pattern.search(changed)]
    if any(r.label in {"text", "headline"} for r in regions) and "text" not in found:
        found.insert(0, "text")
    return found


def summarise_change(old_request: RequestLike, new_request: RequestLike) -> ChangeSummary:
    """What moved between two requests: prompt regions, size and references.

    Each distinct region label is a knob, and so are "size" and "references" when they change.
    A rewrite (most words changed) is not one knob: it counts every knob its words touch, and
    never fewer than two.
    """
    regions = tuple(changed_regions(old_request.prompt, new_request.prompt))
    kept, old_words, new_words = _word_counts(old_request.prompt, new_request.prompt)
    rewrite = old_words >= REWRITE_MIN_WORDS and kept < REWRITE_KEPT_SHARE * old_words
    total = max(old_words, new_words)
    changed = total - kept
    knobs: list[str] = []
    if rewrite:
        knobs = _knobs_touched(regions) or ["subject"]
    else:
        for region in regions:
            if region.label not in knobs:
                knobs.append(region.label)

    other: list[str] = []
    if old_request.size != new_request.size:
        other.append(f"size {_size_label(old_request.size)} → {_size_label(new_request.size)}")
        knobs.append("size")
    reference_changes = _reference_changes(
        tuple(getattr(old_request, "images", ()) or ()),
        tuple(getattr(new_request, "images", ()) or ()),
    )
    if reference_changes:
        other.extend(reference_changes)
        knobs.append("references")

    knob_count = max(len(knobs), 2) if rewrite else len(knobs)
    if rewrite:
        advice: str | None = (
            f"rewritten: {changed} of {total} words changed ({', '.join(knobs)}) — "
            "a new prompt rather than one knob"
        )
        steps = [f"rewrite ({changed} of {total} words)"]
    else:
        advice = f"{len(knobs)} knobs changed: {', '.join(knobs)}" if len(knobs) > 1 else None
        steps = [step for step in (_region_step(r) for r in regions) if step]
    step_label = ", ".join(steps + other) or "no change"
    return ChangeSummary(
        regions=regions,
        knobs=tuple(knobs),
        knob_count=knob_count,
        advice=clean_text(advice) if advice else None,
        other_changes=tuple(other),
        step_label=clean_text(_truncate(step_label, STEP_LABEL_MAX)),
        rewrite=rewrite,
        words_changed=changed,
        words_total=total,
    )
