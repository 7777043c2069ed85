"""The composer: prompt editor, what changed against the parent, prompt hints, size, references.

It can hold a *parent* job: then the prompt is diffed live against the parent's request and the
next submission records that parent. Sweep groups (``{a|b|c}``) are counted live in the bar.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Label, Select, TextArea

from ...api.catalog import Price
from ...errors import InputError
from ...iterate.draft import ComposerDraft
from ...iterate.sweep import CONFIRM_THRESHOLD, SweepError, count_variants, has_sweep
from ...jobs.pricing import estimate_text
from ...models import (
    DEFAULT_EDIT_SIZE,
    DEFAULT_SIZE,
    MAX_PROMPT_CHARS,
    SIZE_LABELS,
    SIZES,
    Endpoint,
    Job,
    JobRequest,
)
from ...trust.sanitize import clean_text
from ..messages import DraftChanged
from ..styles import COMPOSER_CSS, read_styles

if TYPE_CHECKING:  # loaded with the rest of the composer, after the first frame
    from .lint_hints import LintHints
    from .prompt_diff import PromptDiff
from .references import ReferenceList

__all__ = [
    "Composer",
    "PromptEditor",
    "SizePicker",
    "price_text",
    "size_option_label",
    "sweep_text",
]


class PromptEditor(TextArea):
    """Multi-line prompt with soft wrap; Tab moves focus on (it is not an indent key here).

    ctrl+z undoes typing as usual; past the last load (iterate, re-run, a recipe, a new prompt)
    it brings back the whole draft that load replaced.
    """

    class UndoLoad(Message):
        """ctrl+z with nothing typed since a load: the composer may bring back what it replaced."""

        def __init__(self) -> None:
            super().__init__()
            self.done = False

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(
            text,
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            id=id,
        )

    def action_undo(self) -> None:
        composer = next((a for a in self.ancestors if isinstance(a, Composer)), None)
        if composer is not None and composer.undo_load():
            return
        super().action_undo()


def size_option_label(size: str) -> str:
    """``1:1 square · 1024×1024`` — the shape spelled out, so the choice reads without colour."""
    shape = SIZE_LABELS.get(size, size)
    return shape if size == "auto" else f"{shape} · {size.replace('_', '×')}"


class SizePicker(Horizontal):
    """One line: ``Size [2:3 portrait · 1024×1536 ▾]``; ``auto`` only while references exist."""

    def __init__(self, size: str | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._auto = size == "auto"
        self._initial = size if size in (*SIZES, "auto") else DEFAULT_SIZE

    def compose(self) -> ComposeResult:
        yield Label("Size", id="size-title")
        yield Select(
            self._options(),
            value=self._initial,
            allow_blank=False,
            compact=True,
            id="size-select",
        )

    def _options(self) -> list[tuple[str, str]]:
        sizes = [*SIZES, "auto"] if self._auto else list(SIZES)
        return [(size_option_label(size), size) for size in sizes]

    @property
    def select(self) -> Select[str]:
        return self.query_one("#size-select", Select)

    @property
    def value(self) -> str:
        value = self.select.value
        return value if isinstance(value, str) else DEFAULT_SIZE

    @property
    def auto_available(self) -> bool:
        return self._auto

    def choose(self, size: str) -> None:
        """Pick ``size`` (``auto`` makes auto available; unknown sizes are ignored)."""
        if size == "auto" and not self._auto:
            self._auto = True
            self.select.set_options(self._options())
        if size in (*SIZES, "auto"):
            self.select.value = size

    def set_auto_available(self, available: bool, *, keep: bool = False) -> None:
        """Offer ``auto`` while references exist (and make it the size, unless ``keep``); drop
        it otherwise (an ``auto`` size falls back to the default)."""
        if available == self._auto:
            return
        current = self.value
        self._auto = available
        self.select.set_options(self._options())
        if available:
            self.select.value = current if keep else DEFAULT_EDIT_SIZE
        else:
            self.select.value = current if current in SIZES else DEFAULT_SIZE


def endpoint_text(references: int) -> str:
    if references:
        noun = "reference" if references == 1 else "references"
        return f"→ {Endpoint.EDIT.value} ({references} {noun})"
    return f"→ {Endpoint.TEXT_TO_IMAGE.value}"


def price_text(price: Price | None) -> str:
    """``Price ≈ $0.04 per image`` under the size: what one submit of this request costs."""
    return f"Price {price.describe()}" if price is not None else "Price: asking the catalog…"


def sweep_text(prompt: str, price: Price | None = None) -> str:
    """``sweep: 3 jobs ≈ $0.12`` while the prompt has ``{a|b}`` groups; the syntax problem
    otherwise."""
    if not has_sweep(prompt):
        return ""
    try:
        count = count_variants(prompt)
    except SweepError as exc:
        return "sweep: " + "; ".join(exc.for_field("prompt"))
    noun = "job" if count == 1 else "jobs"
    jobs = estimate_text(count, price) if price is not None else f"{count} {noun}"
    ask = " (asks first)" if count > CONFIRM_THRESHOLD else ""
    return f"sweep: {jobs}{ask} · one per {{a|b}} alternative; \\{{ for a literal brace"


class Composer(Vertical):
    """Everything that makes a request. The app reads :meth:`values` and reports problems back.

    A load (:meth:`load_request`) that replaces a draft keeps it: ctrl+z in the prompt before
    anything else is typed brings it back (:meth:`undo_load`).

    ``quick``: compose only the prompt bar and the editor (the first frame shows them sooner);
    :meth:`build_rest` adds the rest (diff, hints, size, price, references) just after. Until
    then :meth:`values` reads the sizes and references it was given.
    """

    def __init__(
        self,
        prompt: str = "",
        size: str | None = None,
        images: list[str] | None = None,
        *,
        dismissed_hints: tuple[str, ...] = (),
        quick: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.built = not quick  # everything below the editor is there
        self._initial_prompt = prompt
        self._initial_images = list(images or [])
        self._initial_size = size or (DEFAULT_EDIT_SIZE if self._initial_images else DEFAULT_SIZE)
        self._dismissed_hints = dismissed_hints
        self.parent_job: Job | None = None
        self._sweep_line = ""
        self._errors_shown: dict[str, str] = {}  # the field errors on screen, by selector
        self._prices: dict[Endpoint, Price] = {}
        self._replaced: tuple[ComposerDraft, Job | None] | None = None  # what the last load replaced
        self._loaded_prompt = ""  # the prompt that load put in
        self._size_chosen = size is not None  # the user (or the draft) picked a size
        self._size_set = self._initial_size  # the size the composer itself set last

    def compose(self) -> ComposeResult:
        with Horizontal(id="prompt-bar"):
            yield Label("Prompt", id="prompt-title")
            yield Label("", id="char-count")
            yield Label(endpoint_text(len(self._initial_images)), id="endpoint", markup=False)
        yield PromptEditor(self._initial_prompt, id="prompt")
        if self.built:
            read_styles(self.app, COMPOSER_CSS)
            yield from self._rest()

    def _rest(self) -> Iterable[Widget]:
        from .lint_hints import LintHints
        from .prompt_diff import PromptDiff

        yield Label("", id="prompt-error", classes="field-error", markup=False)
        yield Label("", id="sweep-count", markup=False)
        yield Label("", id="parent-line", markup=False)
        yield PromptDiff(id="diff")
        yield LintHints(dismissed=self._dismissed_hints, id="hints")
        yield SizePicker(self._initial_size, id="size")
        yield Label("", id="size-error", classes="field-error", markup=False)
        yield Label(price_text(None), id="price", markup=False)
        yield ReferenceList(self._initial_images, id="references")
        yield Label("", id="notice", markup=False)

    def on_mount(self) -> None:
        self.set_class(bool(self._initial_images), "-edit")
        self._prompt_changed(self.prompt)

    async def build_rest(self) -> None:
        """(``quick``) Add everything below the editor, as :meth:`compose` would have."""
        if self.built:
            return
        read_styles(self.app, COMPOSER_CSS)
        await self.mount_all(self._rest(), after=self.query_one(PromptEditor))
        self.built = True
        self._refresh_price()
        self._prompt_changed(self.prompt)

    # ------------------------------------------------------------------ reading

    def values(self) -> tuple[str, str, list[str]]:
        """(prompt, size, references) as the user has them now."""
        if not self.built:
            return self.prompt, self._initial_size, list(self._initial_images)
        return (
            self.query_one(PromptEditor).text,
            self.query_one(SizePicker).value,
            self.query_one(ReferenceList).urls,
        )

    @property
    def prompt(self) -> str:
        return self.query_one(PromptEditor).text

    @property
    def parent_id(self) -> int | None:
        return self.parent_job.id if self.parent_job is not None else None

    def draft(self) -> ComposerDraft:
        """Everything unsent: prompt, size, references and the parent."""
        prompt, size, images = self.values()
        return ComposerDraft(prompt, size if self._size_chosen else None, tuple(images),
                             self.parent_id)

    def current_request(self) -> JobRequest:
        prompt, size, images = self.values()
        return JobRequest(prompt, size, tuple(images))

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint.EDIT if self.values()[2] else Endpoint.TEXT_TO_IMAGE

    def price(self, endpoint: Endpoint | None = None) -> Price | None:
        """The catalog price of one image (of the current endpoint); None before it is known."""
        return self._prices.get(endpoint or self.endpoint)

    def set_prices(self, prices: dict[Endpoint, Price]) -> None:
        """Show what one image (and a sweep) costs, from now on."""
        self._prices = dict(prices)
        if self.built:
            self._refresh_price()
            self._refresh_sweep(self.prompt)

    def _refresh_price(self) -> None:
        if not self.built:
            return  # build_rest shows it
        price = self.price()
        label = self.query_one("#price", Label)
        label.update(price_text(price))
        label.set_class(price is not None and price.offline, "-offline")
        label.set_class(price is not None and not price.offline and not price.is_known, "-unknown")

    # ------------------------------------------------------------------ loading

    def load_request(
        self, request: JobRequest, *, parent: Job | None, note: str = "", size_chosen: bool = True
    ) -> bool:
        """Put ``request`` in the composer; with ``parent`` the next submission is its child.

        ``size_chosen``: the request's size was someone's choice (a past job's), not a default.
        Returns whether a draft was replaced (it is kept: :meth:`undo_load` brings it back).
        """
        before = self.draft()
        after = ComposerDraft(request.prompt, request.size, request.images,
                              parent.id if parent else None)
        kept = not before.is_empty and _differs(before, after)
        self._replaced = (before, self.parent_job) if kept else None
        self._put(request, parent)
        self._size_chosen = size_chosen
        self._loaded_prompt = request.prompt
        if kept:
            note = (note + " · " if note else "") + "ctrl+z brings back what was here"
        self.show_notice(note or None)
        return kept

    def undo_load(self) -> bool:
        """Bring back the draft the last load replaced, if nothing was typed since (True: done)."""
        if self._replaced is None or self.prompt != self._loaded_prompt:
            return False
        (draft, parent), self._replaced = self._replaced, None
        default = DEFAULT_EDIT_SIZE if draft.images else DEFAULT_SIZE
        self._put(JobRequest(draft.prompt, draft.size or default, draft.images), parent)
        self._size_chosen = draft.size is not None
        self.show_notice("brought back the draft the load replaced")
        return True

    def _put(self, request: JobRequest, parent: Job | None) -> None:
        editor = self.query_one(PromptEditor)
        editor.load_text(request.prompt)
        editor.move_cursor(editor.document.end)
        self.query_one(ReferenceList).set_urls(list(request.images))
        picker = self.query_one(SizePicker)
        picker.set_auto_available(bool(request.images))
        picker.choose(request.size)
        self._size_set = picker.value
        self.set_parent(parent)
        self.clear_problems()
        self._prompt_changed(request.prompt)
        self.post_message(DraftChanged(request.prompt))

    def choose_size(self, size: str) -> None:
        """Pick ``size`` as the user would (``auto`` only with references)."""
        picker = self.query_one(SizePicker)
        if size == "auto" and not picker.auto_available:
            return
        picker.choose(size)

    def focus_reference_field(self) -> None:
        self.query_one("#ref-input").focus()

    def set_references(self, urls: list[str]) -> None:
        self.query_one(ReferenceList).set_urls(urls)

    def replace_prompt(self, text: str) -> None:
        """Replace the prompt as one edit of the editor (ctrl+z undoes it)."""
        editor = self.query_one(PromptEditor)
        editor.replace(text, (0, 0), editor.document.end)
        editor.move_cursor(editor.document.end)

    def set_parent(self, parent: Job | None) -> None:
        """Diff against ``parent`` from now on (None: a fresh prompt)."""
        self.parent_job = parent
        line = self.query_one("#parent-line", Label)
        if parent is None:
            line.update("")
        else:
            what = clean_text(parent.sweep_label or parent.request.prompt, limit=60)
            line.update(f"child of #{parent.id} ({what})")
        # The line is cut to its width; the whole parent prompt is a hover away.
        line.tooltip = clean_text(parent.request.prompt, limit=600) if parent else None
        line.set_class(parent is not None, "-shown")
        self.set_class(parent is not None, "-iterating")
        self._diff.set_parent(parent.request if parent else None)
        self._refresh_diff()
        self.post_message(DraftChanged(self.prompt))

    # ------------------------------------------------------------------ showing problems

    def show_problems(self, error: InputError) -> None:
        """Put each problem next to its field."""
        self._field_error("#prompt-error", error.for_field("prompt"))
        self._field_error("#size-error", error.for_field("size"))
        references = self.query_one(ReferenceList)
        problems = error.for_field("images")
        references.show_error("; ".join(problems) if problems else None)

    def clear_problems(self) -> None:
        self._field_error("#prompt-error", [])
        self._field_error("#size-error", [])
        self.query_one(ReferenceList).show_error(None)

    def show_notice(self, text: str | None) -> None:
        """A plain one-line note under the composer (e.g. duplicates removed, iterating)."""
        label = self.query_one("#notice", Label)
        label.update(clean_text(text or "", limit=300))
        label.set_class(bool(text), "-shown")

    def _field_error(self, selector: str, messages: list[str]) -> None:
        text = clean_text("; ".join(messages))
        if self._errors_shown.get(selector, "") == text:
            return  # cleared on every keystroke: an update lays the whole screen out again
        self._errors_shown[selector] = text
        label = self.query_one(selector, Label)
        label.update(text)
        label.set_class(bool(messages), "-shown")

    # ------------------------------------------------------------------ reacting

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        text = event.text_area.text
        self._prompt_changed(text)
        if self.built:
            self._field_error("#prompt-error", [])
        self.post_message(DraftChanged(text))

    def on_reference_list_changed(self, event: ReferenceList.Changed) -> None:
        event.stop()
        self._offer_auto(bool(event.urls))
        self.query_one("#endpoint", Label).update(endpoint_text(len(event.urls)))
        self._refresh_price()  # the endpoint, so the price, may have changed
        self._refresh_sweep(self.prompt)
        self.set_class(bool(event.urls), "-edit")
        self._refresh_hints()
        self._refresh_diff()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value != self._size_set:  # the user's pick, not one the composer made
            self._size_chosen = True
            self._size_set = self.query_one(SizePicker).value
        self._field_error("#size-error", [])
        self._refresh_diff()
        self.post_message(DraftChanged(self.prompt))

    def _offer_auto(self, references: bool) -> None:
        """Offer ``auto`` while there are references, and say what that did to the size.

        A size the user picked is kept; the untouched default becomes ``auto`` (the output
        follows image 1's shape, what an edit usually wants). Either way the notice says so.
        """
        picker = self.query_one(SizePicker)
        if references == picker.auto_available:
            return
        before = picker.value
        picker.set_auto_available(references, keep=self._size_chosen)
        after = self._size_set = picker.value
        if references and after == "auto":
            self.show_notice("size → auto: the image follows image 1's shape (pick a size to fix it)")
        elif references:
            self.show_notice(f"size kept at {size_option_label(after)}; auto (follows image 1) is offered")
        elif before != after:
            self.show_notice(f"size → {size_option_label(after)}: auto needs a reference image")

    def _prompt_changed(self, text: str) -> None:
        # Runs on every keystroke: touch only what changed, and never relayout for the count.
        label = self.query_one("#char-count", Label)
        label.update(f"{len(text):,}/{MAX_PROMPT_CHARS:,}", layout=False)
        label.set_class(len(text) > MAX_PROMPT_CHARS, "-over")
        if not self.built:
            return  # build_rest brings the rest up to date
        self._refresh_sweep(text)
        self._refresh_hints()
        self._refresh_diff()

    def _refresh_sweep(self, text: str) -> None:
        sweep_line = sweep_text(text, self.price()) if "{" in text else ""
        if sweep_line != self._sweep_line:
            self._sweep_line = sweep_line
            sweep = self.query_one("#sweep-count", Label)
            sweep.update(sweep_line)
            sweep.set_class(bool(sweep_line), "-shown")

    def _refresh_hints(self) -> None:
        prompt, _, images = self.values()
        endpoint = Endpoint.EDIT if images else Endpoint.TEXT_TO_IMAGE
        hints: LintHints = self.query_one("#hints")  # type: ignore[assignment]
        hints.update_hints(prompt, endpoint, len(images))

    @property
    def _diff(self) -> PromptDiff:
        return self.query_one("#diff")  # type: ignore[return-value]

    def _refresh_diff(self) -> None:
        diff = self._diff
        diff.update_current(self.current_request() if self.parent_job is not None else None)


def _differs(before: ComposerDraft, after: ComposerDraft) -> bool:
    return (before.prompt, before.images, before.parent_id) != (
        after.prompt, after.images, after.parent_id
    ) or (before.size != after.size and bool(before.images) == bool(after.images))
