"""Word diffs, changed regions and their knob labels, and request change summaries."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest

from tui.iterate.diff import (
    STEP_LABEL_MAX,
    DiffSpan,
    changed_regions,
    diff_words,
    summarise_change,
)
from tui.models import JobRequest

BASE = 'A cafe storefront, soft window light, the headline "SUMMER SALE" in bold'


def _new_text(spans: list[DiffSpan]) -> str:
    return "".join(span.text for span in spans if span.kind != "removed")


def _old_text(spans: list[DiffSpan]) -> str:
    return "".join(span.text for span in spans if span.kind != "added")


# --- diff_words --------------------------------------------------------------------------------


def test_identical_prompts_are_one_same_span() -> None:
    assert diff_words(BASE, BASE) == [DiffSpan("same", BASE)]


def test_whitespace_only_differences_are_ignored() -> None:
    assert diff_words("a  red\n car ", "a red car") == [DiffSpan("same", "a red car")]


def test_replacement_is_removed_then_added() -> None:
    spans = diff_words("a red car", "a blue car")
    assert spans == [
        DiffSpan("same", "a"),
        DiffSpan("removed", " red"),
        DiffSpan("added", " blue"),
        DiffSpan("same", " car"),
    ]


def test_punctuation_stays_with_its_words_but_a_quoted_word_changes_alone() -> None:
    spans = diff_words('the sign reads "Open", warm', 'the sign reads "Closed", warm')
    assert [s for s in spans if s.kind != "same"] == [
        DiffSpan("removed", "Open"),
        DiffSpan("added", "Closed"),
    ]
    assert _new_text(spans) == 'the sign reads "Closed", warm'


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (BASE, BASE.replace("soft window light", "golden hour")),
        ("", "a dog"),
        ("a dog", ""),
        ("one two three", "three two one"),
        ("red car, soft light.", "blue car; hard light!"),
        ("コーヒー 「看板」", "コーヒー 「看板」 です"),
    ],
)
def test_spans_rebuild_both_prompts(old: str, new: str) -> None:
    spans = diff_words(old, new)
    assert _new_text(spans) == " ".join(new.split())
    assert _old_text(spans).split() == old.split()
    assert all(span.text for span in spans)
    assert all(a.kind != b.kind for a, b in itertools.pairwise(spans))


# --- changed_regions ---------------------------------------------------------------------------


def test_no_change_has_no_regions() -> None:
    assert changed_regions(BASE, " ".join(BASE.split()) + " ") == []


def test_changes_one_word_apart_merge() -> None:
    regions = changed_regions("a red big car", "a blue big truck")
    assert len(regions) == 1
    assert (regions[0].removed, regions[0].added) == ("red big car", "blue big truck")


def test_changes_three_words_apart_stay_separate() -> None:
    regions = changed_regions(
        "a red sports car with gold wheels", "a blue sports car with black wheels"
    )
    assert [(r.removed, r.added) for r in regions] == [("red", "blue"), ("gold", "black")]


def test_a_clause_break_keeps_changes_apart() -> None:
    regions = changed_regions("red car, soft light", "blue car, hard light")
    assert [(r.removed, r.added, r.label) for r in regions] == [
        ("red", "blue", "colour"),
        ("soft", "hard", "lighting"),
    ]


def test_a_line_break_keeps_changes_apart() -> None:
    regions = changed_regions("a red car\nsoft light", "a blue car\nhard light")
    assert [r.label for r in regions] == ["colour", "lighting"]
    regions = changed_regions("a red car\nsoft light", "a blue car\n\nhard light")
    assert len(regions) == 2


def test_region_spans_point_into_both_prompts() -> None:
    old, new = "a cat on a sofa", "a fluffy dog on a sofa"
    (region,) = changed_regions(old, new)
    assert old[slice(*region.old_span)] == "cat"
    assert new[slice(*region.new_span)] == "fluffy dog"


def test_pure_insertion_and_deletion() -> None:
    (added,) = changed_regions("a dog", "a dog, golden hour")
    assert (added.removed, added.added, added.label) == ("", ", golden hour", "lighting")
    (removed,) = changed_regions("a dog, golden hour", "a dog")
    assert (removed.removed, removed.added) == (", golden hour", "")


@pytest.mark.parametrize(
    ("old", "new", "label"),
    [
        (BASE, BASE.replace("soft window light", "golden hour"), "lighting"),
        ("soft window light", "soft candle light", "lighting"),  # from the words around it
        ("a cat on a studio backdrop", "a cat on a beach backdrop", "background"),
        ("a white background", "a forest background", "background"),
        ("a woman standing, smiling", "a woman sitting, smiling", "pose"),
        ("a man smiling", "a man frowning", "expression"),
        (BASE, BASE.replace("SUMMER", "WINTER"), "headline"),
        ('the sign reads "Open"', 'the sign reads "Closed"', "text"),
        ('a mug, the word "AQUA"', 'a mug, the word "AQUA+" and "NEW"', "text"),
        ("a fox, watercolor", "a fox, ukiyo-e", "style"),
        ("a red car", "a teal car", "colour"),
        ("a cat, close-up", "a cat, aerial view", "camera"),
        ("a cat, 35mm lens", "a cat, 85mm lens", "camera"),
        ("bold sans-serif lettering", "thin serif lettering", "typography"),
        ("a cat on a mat", "a small grey dog on a mat", "colour"),
        ("a cat on a mat", "a dog on a mat", "dog"),
        ("a cat on a mat", "a very happy tabby dog on a mat", "very happy tabby"),
        ("a cat on a mat", "a on a mat", "cat"),
    ],
)
def test_region_labels(old: str, new: str, label: str) -> None:
    regions = changed_regions(old, new)
    assert [r.label for r in regions] == [label]


# --- summarise_change --------------------------------------------------------------------------


def _request(
    prompt: str = BASE, size: str = "1024_1024", images: tuple[str, ...] = ()
) -> JobRequest:
    return JobRequest(prompt, size, images)


def test_one_knob_gives_no_advice() -> None:
    summary = summarise_change(
        _request(), _request(BASE.replace("soft window light", "golden hour"))
    )
    assert summary.knob_count == 1
    assert summary.knobs == ("lighting",)
    assert summary.advice is None
    assert summary.other_changes == ()
    assert summary.step_label == "+golden hour −soft window light"


def test_two_knobs_give_gentle_advice() -> None:
    new = BASE.replace("soft window light", "golden hour").replace("SUMMER", "WINTER")
    summary = summarise_change(_request(), _request(new))
    assert summary.knob_count == 2
    assert summary.advice == "2 knobs changed: lighting, headline"
    assert summary.step_label == "+golden hour −soft window light, +WINTER −SUMMER"


def test_same_knob_twice_counts_once() -> None:
    old = "a red car, gold wheels"
    new = "a blue car, black wheels"
    summary = summarise_change(_request(old), _request(new))
    assert len(summary.regions) == 2
    assert (summary.knob_count, summary.advice) == (1, None)


def test_size_change() -> None:
    summary = summarise_change(_request(), _request(size="1536_1024"))
    assert summary.regions == ()
    assert summary.other_changes == ("size 1:1 square → 3:2 landscape",)
    assert summary.knobs == ("size",)
    assert summary.step_label == "size 1:1 square → 3:2 landscape"


@pytest.mark.parametrize(
    ("old", "new", "changes"),
    [
        ((), ("https://a/1.png",), ("+1 reference",)),
        (
            ("https://a/1.png",),
            ("https://a/1.png", "https://a/2.png", "https://a/3.png"),
            ("+2 references",),
        ),
        (("https://a/1.png", "https://a/2.png"), ("https://a/1.png",), ("−1 reference",)),
        (
            ("https://a/1.png", "https://a/2.png"),
            ("https://a/2.png", "https://a/1.png"),
            ("references reordered",),
        ),
        (("https://a/1.png",), ("https://a/2.png",), ("+1 reference", "−1 reference")),
    ],
)
def test_reference_changes(
    old: tuple[str, ...], new: tuple[str, ...], changes: tuple[str, ...]
) -> None:
    summary = summarise_change(_request(size="auto", images=old), _request(size="auto", images=new))
    assert summary.other_changes == changes
    assert summary.knobs == ("references",)


def test_prompt_plus_size_counts_both() -> None:
    new = _request(BASE.replace("soft window light", "golden hour"), size="1024_1536")
    summary = summarise_change(_request(), new)
    assert summary.advice == "2 knobs changed: lighting, size"
    assert summary.other_changes == ("size 1:1 square → 2:3 portrait",)


def test_nothing_changed() -> None:
    summary = summarise_change(_request(), _request())
    assert (summary.knob_count, summary.advice, summary.step_label) == (0, None, "no change")


def test_step_label_is_short() -> None:
    old = "a cat"
    new = "a cat " + " ".join(f"word{n}" for n in range(40)) + ", golden hour, red, aerial view"
    summary = summarise_change(_request(old), _request(new, size="1536_1024"))
    assert len(summary.step_label) <= STEP_LABEL_MAX
    assert summary.step_label.endswith("…")
    assert summary.step_label.startswith("+word0")


def test_accepts_request_like_objects_and_sanitises_labels() -> None:
    old = SimpleNamespace(prompt="a cat", size="1024_1024", images=None)
    new = SimpleNamespace(prompt="a \x1b]52;c;aGk=\x07dog", size="1024_1024", images=[])
    summary = summarise_change(old, new)
    assert "\x1b" not in summary.step_label
    assert "\x1b" not in "".join(r.label for r in summary.regions)


def test_appended_clause_is_labelled_by_its_own_words() -> None:
    """A new clause after a comma is not labelled by the clause before it."""
    from tui.iterate.diff import summarise_change
    from tui.models import JobRequest

    summary = summarise_change(
        JobRequest("a cat on a sofa, golden hour light", "1024_1024"),
        JobRequest("a cat on a sofa, golden hour light, wide shot", "1024_1024"),
    )
    assert summary.knobs == ("camera",)
    assert summary.step_label == "+wide shot"


# --- issue 10: rewrites are not one knob; the diff never glues words ---------------------------


def test_a_whole_rewrite_is_not_one_change() -> None:
    summary = summarise_change(
        _request("a cat on a sofa, soft window light"),
        _request("cyberpunk city street at night, neon signs, rain"),
    )
    assert summary.rewrite and summary.knob_count >= 2
    assert "lighting" in summary.knobs
    assert summary.advice is not None and "rewritten" in summary.advice
    assert summary.step_label.startswith("rewrite (")


def test_appending_to_a_short_prompt_is_still_a_refinement() -> None:
    summary = summarise_change(
        _request("a lighthouse"), _request("a lighthouse at dawn, golden hour light")
    )
    assert not summary.rewrite and summary.knobs == ("lighting",)


def test_one_knob_in_a_long_prompt_stays_one_knob() -> None:
    old = "a red bicycle leaning on a brick wall, soft window light, 35mm photo"
    new = "a red bicycle leaning on a brick wall, golden hour light, 35mm photo"
    summary = summarise_change(_request(old), _request(new))
    assert not summary.rewrite and summary.knob_count == 1


def _glued_chunks(old: str, new: str) -> list[str]:
    """Chunks of the shown diff that are not one word of either prompt (two words run together)."""
    import re

    from tui.iterate.diff import _tokenise
    from tui.ui.widgets.prompt_diff import diff_text

    words = {t.text for t in (*_tokenise(old), *_tokenise(new)) if t.is_word}
    shown = diff_text(diff_words(old, new), fold=False).plain
    cores = (re.sub(r"^\W+|\W+$", "", chunk) for chunk in shown.split())
    return [core for core in cores if core and core not in words]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('a soft "SALE"', 'soft neon "SALE" light'),
        ("apples still. red", "still vase"),
        ("a still life: apples", "still life, a bowl of apples"),
        ('"SALE" golden a vase life: a', "vase hour"),
    ],
)
def test_the_shown_diff_never_glues_words(old: str, new: str) -> None:
    assert _glued_chunks(old, new) == []


def test_no_glued_words_across_many_random_edits() -> None:
    import random

    vocabulary = ["still", "life", ":", "a", "vase", "of", "apples", "soft", "light", ",",
                  "golden", '"SALE"', "red", "—", "(wide)", "shot", "."]
    rng = random.Random(7)

    def prompt() -> str:
        parts = []
        for _ in range(rng.randint(1, 9)):
            word = rng.choice(vocabulary)
            parts.append(("" if word in {":", ",", "."} else " ") + word)
        return "".join(parts).strip()

    for _ in range(3000):
        old, new = prompt(), prompt()
        assert _glued_chunks(old, new) == [], (old, new)
