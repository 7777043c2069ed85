"""Prompt hints drawn from the GPT Image 2 prompting guide. Advice only, never errors.

Each rule is a small function registered with a stable id; :data:`RULES` maps ids to the
descriptions the help screen shows. :func:`lint` runs them all and returns :class:`Hint` s in
rule order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass

from ..models import MAX_PROMPT_CHARS, Endpoint
from ..trust.sanitize import clean_text
from .patterns import LazyPattern, words
from .vocab import SCRIPTS, QuotedSpan, find_quotes, find_style_anchors, scripts_in

__all__ = [
    "LENGTH_WARNING_RATIO",
    "LONG_QUOTE_CHARS",
    "LONG_QUOTE_WORDS",
    "RULES",
    "Hint",
    "lint",
]

LONG_QUOTE_CHARS = 60
LONG_QUOTE_WORDS = 12
LENGTH_WARNING_RATIO = 0.85
MAX_STYLE_ANCHORS = 2
_MASK = "\ue000"  # stands in for quoted passages so rules read only the instructions


@dataclass(frozen=True, slots=True)
class Hint:
    """One piece of advice. ``span`` is the ``(start, end)`` character range it is about."""

    rule: str
    title: str
    message: str
    span: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class _Context:
    prompt: str
    masked: str  # the prompt with every quoted passage (marks included) replaced by _MASK
    quotes: tuple[QuotedSpan, ...]
    endpoint: Endpoint
    reference_count: int
    max_chars: int


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    title: str
    description: str
    check: Callable[[_Context], Iterable[Hint]]


_REGISTRY: list[_Rule] = []


_Found = str | tuple[str, tuple[int, int] | None]
_Check = Callable[[_Context], Iterable[_Found]]


def _rule(rule_id: str, title: str, description: str) -> Callable[[_Check], _Check]:
    """Register a check under a stable id; the check yields messages or (message, span)."""

    def register(check: _Check) -> _Check:
        def run(ctx: _Context) -> Iterator[Hint]:
            for found in check(ctx):
                message, span = (found, None) if isinstance(found, str) else found
                yield Hint(rule_id, title, clean_text(message), span)

        _REGISTRY.append(_Rule(rule_id, title, description, run))
        return check

    return register


def _words(pattern: str) -> LazyPattern:
    return words(pattern)


def _excerpt(text: str, limit: int = 40) -> str:
    return clean_text(" ".join(text.split()), limit=limit)


# --- unquoted-text -----------------------------------------------------------------------------

_TEXT_VERB = _words(
    r"reads|reading|says|saying|spells(?: out)?|spelling(?: out)?|spelled(?: out)?"
    r"|inscribed with|emblazoned with|lettered with|printed with"
)
_TEXT_NOUN = _words(r"(?:the )?(?:words?|text|headline|title|heading|caption|tagline|slogan)")
_TEXT_BEARER = _words(
    r"signs?|signage|labels?|banners?|posters?|captions?|headlines?|titles?|text|plaques?"
    r"|boards?|(?:t-)?shirts?|cards?|covers?|screens?|logos?|badges?|stickers?|tags?|mugs?"
    r"|billboards?|placards?|neon|marquee|menus?|it|that|which|words|lettering|letters"
    r"|headings?|taglines?|slogans?|storefronts?|packag(?:e|ing)|box|book"
)
_RUN_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "in",
        "on",
        "at",
        "with",
        "and",
        "or",
        "above",
        "below",
        "under",
        "over",
        "across",
        "along",
        "written",
        "printed",
        "painted",
        "using",
        "for",
        "from",
        "near",
        "beside",
        "next",
        "to",
        "as",
        "while",
        "where",
        "which",
        "that",
        "set",
        "rendered",
        "typed",
        "lettered",
        "font",
        "letters",
        "style",
        "of",
        "is",
        "are",
        "was",
        "be",
    ]
)
_RUN_WORD = re.compile(r"[ \t]*([^\s,;.!?:()\"“”«»「」『』\ue000]+)")
_MAX_RUN_WORDS = 6


def _text_run(masked: str, position: int, *, any_case: bool) -> tuple[int, int] | None:
    """The unquoted words that follow a "reads"/"the word" trigger, or None when the text is
    quoted (directly, or after a few words such as "in bold")."""
    words: list[tuple[int, int]] = []
    index = position
    while len(words) < _MAX_RUN_WORDS:
        match = _RUN_WORD.match(masked, index)
        if not match:
            break
        word = match.group(1)
        if word.lower() in _RUN_STOP:
            break
        if not any_case and not (word[0].isupper() or word[0].isdigit()):
            break
        words.append(match.span(1))
        index = match.end()
    if not words or masked[index:].lstrip().startswith(_MASK):
        return None
    return words[0][0], words[-1][1]


@_rule(
    "unquoted-text",
    "Quote the text to render",
    'Text meant to appear in the image ("the sign reads Open") renders reliably only when the '
    "exact characters are in quotes.",
)
def _unquoted_text(ctx: _Context) -> Iterator[tuple[str, tuple[int, int]]]:
    seen: set[tuple[int, int]] = set()
    candidates: list[tuple[int, int]] = []
    for match in _TEXT_VERB.finditer(ctx.masked):
        before = ctx.masked[max(0, match.start() - 40) : match.start()].split()[-4:]
        bearer = any(_TEXT_BEARER.fullmatch(word.strip(",;:")) for word in before)
        run = _text_run(ctx.masked, match.end(), any_case=bearer)
        if run:
            candidates.append(run)
    for match in _TEXT_NOUN.finditer(ctx.masked):
        colon = re.match(r"[ \t]*:", ctx.masked[match.end() :])
        start = match.end() + (colon.end() if colon else 0)
        run = _text_run(ctx.masked, start, any_case=bool(colon))
        if run:
            candidates.append(run)
    for span in sorted(candidates):
        if span in seen or any(s[0] <= span[0] < s[1] for s in seen):
            continue
        seen.add(span)
        words = ctx.prompt[span[0] : span[1]]
        yield f'quote it: "{_excerpt(words)}" — the model renders quoted text exactly', span


# --- script-unnamed ----------------------------------------------------------------------------

_SCRIPT_NAMES = {script: _words(names) for script, (names, _) in SCRIPTS.items()}


@_rule(
    "script-unnamed",
    "Name the script",
    'Quoted text in a non-Latin script renders better when the prompt names it ("Japanese kana", '
    '"Cyrillic", "Arabic right-to-left").',
)
def _script_unnamed(ctx: _Context) -> Iterator[tuple[str, tuple[int, int]]]:
    for quote in ctx.quotes:
        missing = [s for s in scripts_in(quote.text) if not _SCRIPT_NAMES[s].search(ctx.prompt)]
        if missing:
            names = " and ".join(f'"{SCRIPTS[s][1]}"' for s in missing)
            yield (
                f'"{_excerpt(quote.text, 24)}" is in {" and ".join(missing)} script — '
                f"name it in the prompt, e.g. {names}",
                (quote.start, quote.end),
            )


# --- conflict-no-text --------------------------------------------------------------------------

_NO_TEXT = _words(
    r"(?:no|without(?: any)?|zero)(?: visible)? (?:text|words|lettering|typography|writing|captions?)"
    r"|text[- ]free|textless|no-text"
)


@_rule(
    "conflict-no-text",
    "Conflicting text instructions",
    'Asking for "no text" and for quoted text at once is incoherent: the model picks one.',
)
def _conflict_no_text(ctx: _Context) -> Iterator[tuple[str, tuple[int, int]]]:
    if not ctx.quotes:
        return
    match = _NO_TEXT.search(ctx.masked)
    if match:
        yield (
            f'"{match.group()}" conflicts with the quoted text "{_excerpt(ctx.quotes[0].text, 24)}"'
            ' — keep one (say "no other text" if you mean that)',
            match.span(),
        )


# --- style-pileup ------------------------------------------------------------------------------


@_rule(
    "style-pileup",
    "Too many styles",
    "More than two style anchors (ukiyo-e + watercolor + 8K + cinematic …) cancel out; "
    "pick one or two.",
)
def _style_pileup(ctx: _Context) -> Iterator[tuple[str, tuple[int, int]]]:
    anchors = find_style_anchors(ctx.masked)
    if len(anchors) > MAX_STYLE_ANCHORS:
        names = ", ".join(name for name, _, _ in anchors)
        span = (anchors[0][1], max(end for _, _, end in anchors))
        yield f"{len(anchors)} style anchors ({names}) — pick one or two", span


# --- long-quoted-text --------------------------------------------------------------------------


@_rule(
    "long-quoted-text",
    "Long quoted text",
    f"Quoted text over about {LONG_QUOTE_CHARS} characters or {LONG_QUOTE_WORDS} words "
    "renders less reliably; keep embedded text short.",
)
def _long_quoted_text(ctx: _Context) -> Iterator[tuple[str, tuple[int, int]]]:
    for quote in ctx.quotes:
        words = len(quote.text.split())
        if len(quote.text) > LONG_QUOTE_CHARS or words > LONG_QUOTE_WORDS:
            yield (
                f'"{_excerpt(quote.text, 24)}" is {len(quote.text)} characters, {words} words — '
                "long blocks of text degrade; shorten it or split it",
                (quote.start, quote.end),
            )


# --- edit rules --------------------------------------------------------------------------------

_PRESERVE = _words(
    r"keep(?:s|ing)?|kept|preserv(?:e|es|ed|ing)|unchanged|unaltered|maintain(?:s|ed|ing)?"
    r"|retain(?:s|ed|ing)?|intact|untouched|as it is|as is"
)
_NUMBERED = LazyPattern(
    r"(?<![\w-])(?:(?:images?|pictures?|photos?|refs?|references?|img)\s*#?\s*\d+"
    r"|(?:first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th|last|other)"
    r"\s+(?:image|picture|photo|reference|ref)s?)(?![\w-])",
    re.IGNORECASE,
)
_MOVE = _words(
    r"move[sd]?|moving|reposition(?:s|ed|ing)?|relocat(?:e|es|ed|ing)|shift(?:s|ed|ing)?"
    r"|(?<!in )plac(?:e|es|ed|ing)"
)
_DIRECTION = _words(
    r"left|right|top|bottom|cent(?:er|re)(?:ed)?|centred|middle|above|below|beneath|under"
    r"|underneath|upper|lower|corner|side|edge|behind|in front(?: of)?|next to|beside"
    r"|top-left|top-right|bottom-left|bottom-right|up|down|upward|downward|north|south|east|west"
)


def _is_edit(ctx: _Context) -> bool:
    return ctx.endpoint is Endpoint.EDIT


@_rule(
    "edit-no-preservation",
    "Say what to keep",
    'Edits work best when the prompt says what must not change ("keep the pose and face '
    'identity unchanged").',
)
def _edit_no_preservation(ctx: _Context) -> Iterator[str]:
    if _is_edit(ctx) and not _PRESERVE.search(ctx.masked):
        yield (
            "say what must not change, e.g. \"keep the person's pose and face identity "
            'unchanged" or "keep the overall framing"'
        )


@_rule(
    "refs-unnumbered",
    "Number the reference images",
    'With several references, name them in the prompt ("subject from image 1, lighting from '
    'image 2") so the model routes each cue.',
)
def _refs_unnumbered(ctx: _Context) -> Iterator[str]:
    if ctx.reference_count >= 2 and not _NUMBERED.search(ctx.masked):
        yield (
            f"{ctx.reference_count} references but the prompt never says which is which — "
            'e.g. "subject from image 1, lighting and background from image 2"'
        )


@_rule(
    "spatial-no-direction",
    "Give the direction",
    'Spatial edits need directions: "move the headline from top-right to bottom-center", '
    'not "reposition the headline".',
)
def _spatial_no_direction(ctx: _Context) -> Iterator[tuple[str, tuple[int, int]]]:
    if not _is_edit(ctx):
        return
    match = _MOVE.search(ctx.masked)
    if match and not _DIRECTION.search(ctx.masked):
        yield (
            f'"{match.group()}" without a direction — say where, e.g. "from top-right to '
            'bottom-center"',
            match.span(),
        )


# --- near-length-limit -------------------------------------------------------------------------


@_rule(
    "near-length-limit",
    "Close to the length limit",
    f"The prompt is at {int(LENGTH_WARNING_RATIO * 100)}% or more of the length limit; "
    "long prompts lose detail.",
)
def _near_length_limit(ctx: _Context) -> Iterator[str]:
    length = len(ctx.prompt)
    if ctx.max_chars > 0 and length >= LENGTH_WARNING_RATIO * ctx.max_chars:
        yield (f"{length:,} of {ctx.max_chars:,} characters — trim what does not steer the image")


RULES: dict[str, str] = {rule.id: rule.description for rule in _REGISTRY}


def _mask(prompt: str, quotes: Iterable[QuotedSpan]) -> str:
    chars = list(prompt)
    for quote in quotes:
        chars[quote.start : quote.end] = _MASK * (quote.end - quote.start)
    return "".join(chars)


def lint(
    prompt: str,
    *,
    endpoint: Endpoint | str,
    reference_count: int = 0,
    max_chars: int = MAX_PROMPT_CHARS,
    disabled: Collection[str] = (),
) -> list[Hint]:
    """Advice for ``prompt`` from every rule not in ``disabled``, in rule order."""
    quotes = tuple(find_quotes(prompt))
    ctx = _Context(
        prompt=prompt,
        masked=_mask(prompt, quotes),
        quotes=quotes,
        endpoint=Endpoint(endpoint),
        reference_count=reference_count,
        max_chars=max_chars,
    )
    hints: list[Hint] = []
    for rule in _REGISTRY:
        if rule.id not in disabled:
            hints.extend(rule.check(ctx))
    return hints
