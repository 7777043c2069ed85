"""The composer: prompt editor, size picker, reference list, and the reasons input is refused."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, RadioButton, RadioSet, TextArea

from ..api.errors import InputError
from ..messages import DraftChanged
from ..models import (
    DEFAULT_EDIT_SIZE,
    DEFAULT_SIZE,
    MAX_PROMPT_CHARS,
    SIZE_LABELS,
    SIZES,
    Endpoint,
)
from ..sanitize import clean_text
from .references import ReferenceList

__all__ = ["Composer", "PromptEditor", "SizePicker"]


class PromptEditor(TextArea):
    """Multi-line prompt with soft wrap; Tab moves focus on (it is not an indent key here)."""

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(
            text,
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            id=id,
        )


class SizePicker(RadioSet):
    """The three sizes with their shapes spelled out; ``auto`` only while references exist."""

    def __init__(self, size: str | None = None, *, id: str | None = None) -> None:
        chosen = size if size in (*SIZES, "auto") else DEFAULT_SIZE
        buttons = [
            RadioButton(SIZE_LABELS[name], value=name == chosen, id=f"size-{name}", name=name)
            for name in SIZES
        ]
        auto = RadioButton(
            "auto", value=chosen == "auto", id="size-auto", name="auto", disabled=chosen != "auto"
        )
        super().__init__(*buttons, auto, id=id, compact=True)

    @property
    def value(self) -> str:
        button = self.pressed_button
        return button.name if button is not None and button.name else DEFAULT_SIZE

    def choose(self, size: str) -> None:
        """Press the button for ``size`` (ignored when unknown)."""
        for button in self.query(RadioButton):
            if button.name == size:
                button.value = True

    def set_auto_available(self, available: bool) -> None:
        """Show ``auto`` (and make it the default) while references exist; hide it otherwise."""
        auto = self.query_one("#size-auto", RadioButton)
        if available == (not auto.disabled):
            return
        auto.disabled = not available
        self.set_class(available, "-with-auto")
        if available:
            self.choose(DEFAULT_EDIT_SIZE)
        elif self.value == "auto":
            self.choose(DEFAULT_SIZE)


def endpoint_text(references: int) -> str:
    if references:
        noun = "reference" if references == 1 else "references"
        return f"→ {Endpoint.EDIT.value} ({references} {noun})"
    return f"→ {Endpoint.TEXT_TO_IMAGE.value}"


class Composer(Vertical):
    """Everything that makes a request. The app reads :meth:`values` and reports problems back."""

    def __init__(
        self,
        prompt: str = "",
        size: str | None = None,
        images: list[str] | None = None,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._initial_prompt = prompt
        self._initial_images = list(images or [])
        self._initial_size = size or (DEFAULT_EDIT_SIZE if self._initial_images else DEFAULT_SIZE)

    def compose(self) -> ComposeResult:
        with Horizontal(id="prompt-bar"):
            yield Label("Prompt", id="prompt-title")
            yield Label("", id="char-count")
            yield Label(endpoint_text(len(self._initial_images)), id="endpoint", markup=False)
        yield PromptEditor(self._initial_prompt, id="prompt")
        yield Label("", id="prompt-error", classes="field-error", markup=False)
        yield SizePicker(self._initial_size, id="size")
        yield Label("", id="size-error", classes="field-error", markup=False)
        yield ReferenceList(self._initial_images, id="references")
        yield Label("", id="notice", markup=False)

    def on_mount(self) -> None:
        self.query_one(SizePicker).set_class(bool(self._initial_images), "-with-auto")
        self._count(self._initial_prompt)

    # ------------------------------------------------------------------ reading

    def values(self) -> tuple[str, str, list[str]]:
        """(prompt, size, references) as the user has them now."""
        return (
            self.query_one(PromptEditor).text,
            self.query_one(SizePicker).value,
            self.query_one(ReferenceList).urls,
        )

    @property
    def prompt(self) -> str:
        return self.query_one(PromptEditor).text

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
        """A plain note under the composer (e.g. duplicates removed, last submit)."""
        label = self.query_one("#notice", Label)
        label.update(clean_text(text or "", limit=300))
        label.set_class(bool(text), "-shown")

    def _field_error(self, selector: str, messages: list[str]) -> None:
        label = self.query_one(selector, Label)
        label.update(clean_text("; ".join(messages)))
        label.set_class(bool(messages), "-shown")

    # ------------------------------------------------------------------ reacting

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        text = event.text_area.text
        self._count(text)
        self._field_error("#prompt-error", [])
        self.post_message(DraftChanged(text))

    def on_reference_list_changed(self, event: ReferenceList.Changed) -> None:
        event.stop()
        self.query_one(SizePicker).set_auto_available(bool(event.urls))
        self.query_one("#endpoint", Label).update(endpoint_text(len(event.urls)))
        self.set_class(bool(event.urls), "-edit")

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self._field_error("#size-error", [])

    def _count(self, text: str) -> None:
        label = self.query_one("#char-count", Label)
        label.update(f"{len(text):,}/{MAX_PROMPT_CHARS:,}")
        label.set_class(len(text) > MAX_PROMPT_CHARS, "-over")
