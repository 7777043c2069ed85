"""The composer draft as one value: round trip, old plain-text drafts, damaged values."""

from __future__ import annotations

import pytest

from tui.iterate.draft import ComposerDraft


def test_round_trip_keeps_every_field() -> None:
    draft = ComposerDraft("a lighthouse, {dawn|dusk}", "1536_1024",
                          ("https://example.com/a.png",), parent_id=12)
    again = ComposerDraft.from_text(draft.to_json())
    assert again == draft and not again.is_empty


@pytest.mark.parametrize("old", ["a plain prompt from 0.1", "42", "[1, 2]", '{"no": "prompt"}'])
def test_an_old_plain_text_draft_is_its_prompt(old: str) -> None:
    assert ComposerDraft.from_text(old) == ComposerDraft(prompt=old)


def test_damaged_fields_are_dropped_not_fatal() -> None:
    text = '{"prompt": "p", "size": "2048_2048", "images": ["ok", 3], "parent_id": true, "v2": 1}'
    draft = ComposerDraft.from_text(text)
    assert (draft.prompt, draft.size, draft.images, draft.parent_id) == ("p", None, ("ok",), None)
    assert draft.extra == {"v2": 1}  # a newer version's field survives a round trip
    assert ComposerDraft.from_text(draft.to_json()).extra == {"v2": 1}


def test_empty() -> None:
    assert ComposerDraft.from_text(None).is_empty and ComposerDraft.from_text("").is_empty
    assert not ComposerDraft(parent_id=3).is_empty
