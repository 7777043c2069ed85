"""The reference image list: add a URL, remove, reorder; the first is the primary image."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, ListItem, ListView

from ...models import MAX_REFERENCES
from ...trust.sanitize import clean_text
from ...trust.urls import UnsafeUrl, check_reference_url
from ..messages import OpenRecipe

__all__ = ["ReferenceList", "reference_label", "refuse_reason"]


def reference_label(position: int, url: str) -> str:
    """``image 1 (primary)  https://…`` — plain text, the URL sanitised."""
    role = "image 1 (primary)" if position == 1 else f"image {position}"
    return f"{role}  {clean_text(url, limit=200)}"


def local_path(text: str) -> Path | None:
    """``text`` as an existing local file (``~`` expanded, quotes from a paste dropped), or None."""
    if not text or "://" in text:
        return None
    candidate = Path(text.strip().strip("'\"")).expanduser()
    try:
        return candidate if candidate.is_file() else None
    except OSError:
        return None


_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def looks_like_path(text: str) -> bool:
    """Whether ``text`` was meant as a local file (not a URL): ``~/…``, ``/…``, ``./…`` or a
    name ending in an image extension."""
    text = text.strip().strip("'\"")
    if not text or "://" in text:
        return False
    return text.startswith(("/", "~", "./", "../")) or text.lower().endswith(_IMAGE_SUFFIXES)


def refuse_reason(url: str, existing: list[str]) -> str | None:
    """Why ``url`` can't be added next to ``existing`` (None: it can)."""
    if not url:
        return "type an https:// image URL first"
    if looks_like_path(url):
        name = clean_text(url.strip().strip("'\""), limit=300)
        return f"file not found: {name} (an image path restores the recipe of a PNG this app saved)"
    try:
        check_reference_url(url)
    except UnsafeUrl as exc:
        return clean_text(str(exc))
    if url in existing:
        return f"already in the list as image {existing.index(url) + 1}"
    if len(existing) >= MAX_REFERENCES:
        return f"at most {MAX_REFERENCES} reference images"
    return None


class ReferenceItem(ListItem):
    """One reference in the list."""

    def __init__(self, url: str, position: int) -> None:
        self.url = url
        self._label = Label(reference_label(position, url), markup=False)
        super().__init__(self._label)

    def renumber(self, position: int) -> None:
        self._label.update(reference_label(position, self.url))


class ReferenceView(ListView):
    """The list itself, with the keys to remove and reorder."""

    BINDINGS = [
        Binding("delete,backspace,x", "remove", "Remove ref"),
        Binding("shift+up,alt+up", "move(-1)", "Move up"),
        Binding("shift+down,alt+down", "move(1)", "Move down"),
    ]

    def on_focus(self) -> None:
        if self.index is None and len(self):
            self.index = 0

    def action_remove(self) -> None:
        parent = self.parent
        if isinstance(parent, ReferenceList) and self.index is not None:
            parent.remove_at(self.index)

    def action_move(self, step: int) -> None:
        parent = self.parent
        if isinstance(parent, ReferenceList) and self.index is not None:
            parent.move(self.index, step)


class ReferenceList(Vertical):
    """URL input (Enter adds), the numbered list, and the reason an entry was refused."""

    class Changed(Message):
        """The references changed; ``urls`` in order, the primary first."""

        def __init__(self, urls: list[str]) -> None:
            super().__init__()
            self.urls = urls

    def __init__(self, urls: list[str] | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._urls: list[str] = list(urls or [])

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="+ reference: https://… URL, or a saved PNG's path",
            tooltip="Enter adds an https:// image URL as a reference (image 1 is the primary; "
            "one makes the request an edit). A path of a PNG this app saved restores its recipe.",
            id="ref-input",
            compact=True,
        )
        yield Label("", id="ref-error", classes="field-error", markup=False)
        yield ReferenceView(
            *(ReferenceItem(url, n) for n, url in enumerate(self._urls, start=1)),
            id="ref-list",
            initial_index=None,
        )

    def on_mount(self) -> None:
        self.set_class(bool(self._urls), "-has-refs")

    @property
    def urls(self) -> list[str]:
        """The references in order, the primary first (a copy)."""
        return list(self._urls)

    def show_error(self, text: str | None) -> None:
        label = self.query_one("#ref-error", Label)
        label.update(clean_text(text or ""))
        label.set_class(bool(text), "-shown")

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.show_error(None)  # a refusal is about what was submitted, not what is typed now

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        url = event.value.strip()
        path = local_path(url)
        if path is not None:  # a file of ours: restore its recipe (the server can't fetch it)
            self.show_error(None)
            event.input.value = ""
            self.post_message(OpenRecipe(path))
            return
        reason = refuse_reason(url, self._urls)
        if reason is not None:
            self.show_error(f"refused: {reason}")
            return
        self.show_error(None)
        event.input.value = ""
        self.add(url)

    def add(self, url: str) -> None:
        """Append a URL (already checked by the caller)."""
        self._urls.append(url)
        self.query_one(ReferenceView).append(ReferenceItem(url, len(self._urls)))
        self._changed()

    def set_urls(self, urls: list[str]) -> None:
        """Replace the whole list (e.g. when a job is loaded for iterating)."""
        if urls == self._urls:
            return
        self._urls = list(urls)
        view = self.query_one(ReferenceView)
        view.clear()
        view.extend(ReferenceItem(url, n) for n, url in enumerate(self._urls, start=1))
        self.show_error(None)
        self._changed()

    def remove_at(self, index: int) -> None:
        if not 0 <= index < len(self._urls):
            return
        view = self.query_one(ReferenceView)
        items = self._items()
        del self._urls[index]
        items.pop(index).remove()
        self._renumber(items)
        view.index = min(index, len(items) - 1) if items else None
        self.show_error(None)
        self._changed()

    def move(self, index: int, step: int) -> None:
        target = index + step
        if not (0 <= index < len(self._urls) and 0 <= target < len(self._urls)):
            return
        urls = self._urls
        urls[index], urls[target] = urls[target], urls[index]
        self._renumber(self._items())
        self.query_one(ReferenceView).index = target
        self._changed()

    def _items(self) -> list[ReferenceItem]:
        return [child for child in self.query_one(ReferenceView).children if isinstance(child, ReferenceItem)]

    def _renumber(self, items: list[ReferenceItem]) -> None:
        for position, (item, url) in enumerate(zip(items, self._urls, strict=True), start=1):
            item.url = url
            item.renumber(position)

    def _changed(self) -> None:
        self.set_class(bool(self._urls), "-has-refs")
        self.post_message(self.Changed(list(self._urls)))
