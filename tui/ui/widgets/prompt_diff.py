"""A live word diff of the prompt against its parent, one summary line, and gentle advice.

Added words are green and underlined with a ``+`` marker, removed words red and struck through
with a ``−`` marker, so the diff reads the same in 16 colours or with NO_COLOR. Long unchanged
stretches are folded to a few words either side. Advice ("2 knobs changed: …") is never a block.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import Static

from ...iterate.diff import ChangeSummary, DiffSpan, RequestLike, diff_words, summarise_change
from ...trust.sanitize import clean_text

__all__ = ["ADDED_STYLE", "REMOVED_STYLE", "PromptDiff", "diff_text"]

ADDED_STYLE = "bold green underline"
REMOVED_STYLE = "red strike"
MARKER_STYLE = "bold"
CONTEXT_WORDS = 4  # unchanged words kept either side of a change when folding


def _fold(text: str, *, first: bool, last: bool) -> str:
    """Keep up to CONTEXT_WORDS words at the ends of an unchanged run that touch a change."""
    words = text.split()
    keep = 2 * CONTEXT_WORDS + 1
    if len(words) <= keep:
        return text
    lead = " " if text.startswith(" ") else ""
    tail = " " if text.endswith(" ") else ""
    if first:
        return f"{lead}… {' '.join(words[-CONTEXT_WORDS:])}{tail}"
    if last:
        return f"{lead}{' '.join(words[:CONTEXT_WORDS])} …"
    return f"{lead}{' '.join(words[:CONTEXT_WORDS])} … {' '.join(words[-CONTEXT_WORDS:])}{tail}"


def diff_text(spans: list[DiffSpan], *, fold: bool = True) -> Text:
    """The spans as rich Text: plain words, ``+added`` and ``−removed`` runs."""
    text = Text(no_wrap=False, end="")
    for index, span in enumerate(spans):
        body = clean_text(span.text)
        if span.kind == "same":
            if fold:
                body = _fold(body, first=index == 0, last=index == len(spans) - 1)
            text.append(body)
            continue
        lead = " " if body.startswith(" ") or (index and not text.plain.endswith(" ")) else ""
        style, mark = (ADDED_STYLE, "+") if span.kind == "added" else (REMOVED_STYLE, "−")
        text.append(lead)
        text.append(mark, MARKER_STYLE)
        text.append(body.strip(), style)
    return text


class PromptDiff(Widget):
    """Shows how the current request differs from its parent (hidden when there is none)."""

    DEFAULT_CSS = """
    PromptDiff {
        height: auto;
        max-height: 8;
        display: none;
    }
    PromptDiff.-has-parent { display: block; }
    PromptDiff > #diff-words { height: auto; max-height: 5; overflow-y: auto; }
    PromptDiff > #diff-summary { height: auto; color: $text-muted; }
    PromptDiff > #diff-advice { height: auto; color: $text-warning; display: none; }
    PromptDiff.-advice > #diff-advice { display: block; }
    """

    parent_request: var[RequestLike | None] = var(None)
    """What the diff is against (None: a fresh prompt, nothing shown)."""
    current: var[RequestLike | None] = var(None)
    """The request as the composer holds it now."""

    def __init__(
        self,
        parent: RequestLike | None = None,
        *,
        fold: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.fold = fold
        self.summary: ChangeSummary | None = None
        self.spans: list[DiffSpan] = []
        self.parent_request = parent

    def compose(self) -> ComposeResult:
        yield Static(id="diff-words")
        yield Static(id="diff-summary")
        yield Static(id="diff-advice")

    def set_parent(self, request: RequestLike | None) -> None:
        """Compare against ``request`` from now on (None: a fresh prompt, nothing shown)."""
        self.parent_request = request

    def update_current(self, request: RequestLike | None) -> None:
        """Recompute against the parent; nothing happens when nothing relevant changed."""
        self.current = request

    @property
    def plain(self) -> str:
        """The diff line as plain text with its ``+``/``−`` markers (for tests and copying)."""
        return diff_text(self.spans, fold=self.fold).plain

    def on_mount(self) -> None:
        self._show()

    def watch_parent_request(self) -> None:
        self._diff()

    def watch_current(self) -> None:
        self._diff()

    def _diff(self) -> None:
        parent, current = self.parent_request, self.current
        if parent is not None and current is not None:
            self.spans = diff_words(parent.prompt, current.prompt)
            self.summary = summarise_change(parent, current)
        else:
            self.spans, self.summary = [], None
        self.set_class(parent is not None, "-has-parent")
        # Watchers run as soon as a reactive is set, mounted or not: the first draw is at mount.
        if self.is_mounted:
            self._show()

    def _show(self) -> None:
        summary = self.summary
        words = self.query_one("#diff-words", Static)
        if summary is None:
            words.update(Text("iterating: edit the prompt to see what changes"))
        elif not any(span.kind != "same" for span in self.spans):
            words.update(Text("prompt unchanged"))
        else:
            words.update(diff_text(self.spans, fold=self.fold))
        self.query_one("#diff-summary", Static).update(Text(_summary_line(summary)))
        advice = summary.advice if summary else None
        self.set_class(advice is not None, "-advice")
        hint = f"{advice} — one change per step makes results easier to compare" if advice else ""
        self.query_one("#diff-advice", Static).update(Text(hint))


def _key(request: RequestLike) -> tuple[object, ...]:
    return (request.prompt, request.size, tuple(request.images))


def _summary_line(summary: ChangeSummary | None) -> str:
    if summary is None:
        return ""
    parts = []
    labels = list(dict.fromkeys(region.label for region in summary.regions))
    if labels:
        parts.append("prompt: " + ", ".join(labels))
    parts.extend(summary.other_changes)
    return clean_text(" · ".join(parts) or "no change from the parent")
