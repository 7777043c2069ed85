"""Prompt hints: every rule fires on what the guide warns about and stays quiet otherwise."""

from __future__ import annotations

import pytest

from tui.iterate.lint import RULES, Hint, lint
from tui.models import MAX_PROMPT_CHARS, Endpoint

T2I = Endpoint.TEXT_TO_IMAGE
EDIT = Endpoint.EDIT
KEEP = " Keep the face unchanged."

# The guide's verified sample prompts: no advice at all.
GUIDE_SAMPLES = [
    (
        "A minimal hero product still life: a matte ceramic water bottle on warm linen, soft "
        'window light, the word "AQUA+" in clean sans-serif on the label, subtle rim highlights, '
        "e-commerce ready, 8K detail, neutral background",
        T2I,
        0,
    ),
    (
        'A small Tokyo café storefront at dusk, warm interior glow, the sign reads "コーヒー" in '
        "bold Japanese kana on a wooden plaque, shallow depth of field, rule of thirds, cinematic",
        T2I,
        0,
    ),
    (
        "Turn the background into a bright minimal white-to-soft-gray studio sweep with gentle "
        'floor shadow; add a large headline in-image that reads "OPEN STUDIO" in a bold clean '
        "sans-serif, high contrast, centered; keep the main person or product, pose, and face "
        "identity unchanged",
        EDIT,
        1,
    ),
]


def _ids(hints: list[Hint]) -> list[str]:
    return [hint.rule for hint in hints]


def _fires(
    rule: str, prompt: str, endpoint: Endpoint = T2I, refs: int = 0, **kw: int
) -> list[Hint]:
    return [
        h for h in lint(prompt, endpoint=endpoint, reference_count=refs, **kw) if h.rule == rule
    ]


@pytest.mark.parametrize(("prompt", "endpoint", "refs"), GUIDE_SAMPLES)
def test_guide_samples_get_no_hints(prompt: str, endpoint: Endpoint, refs: int) -> None:
    assert lint(prompt, endpoint=endpoint, reference_count=refs) == []


def test_guide_multi_reference_sample_only_lacks_a_preservation_goal() -> None:
    prompt = (
        "compose subject from image 1 into the room from image 2; match the lighting of image 2"
    )
    assert _ids(lint(prompt, endpoint=EDIT, reference_count=2)) == ["edit-no-preservation"]


def test_rules_are_described_and_stable() -> None:
    assert list(RULES) == [
        "unquoted-text",
        "script-unnamed",
        "conflict-no-text",
        "style-pileup",
        "long-quoted-text",
        "edit-no-preservation",
        "refs-unnumbered",
        "spatial-no-direction",
        "near-length-limit",
    ]
    assert all(len(text) > 20 for text in RULES.values())


# --- unquoted-text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "words"),
    [
        ("a café, the sign reads Open, warm light", "Open"),
        ("a banner that says Welcome home in red", "Welcome home"),
        ("a poster with the word Sale on it", "Sale"),
        ("headline Summer Sale, bold sans-serif", "Summer Sale"),
        ("a mug with text that says good morning", "good morning"),
        ("caption: see you soon", "see you soon"),
        ("a neon sign reading OPEN 24 HOURS", "OPEN 24 HOURS"),
        ("she says Hello", "Hello"),
    ],
)
def test_unquoted_text_fires(prompt: str, words: str) -> None:
    (hint,) = _fires("unquoted-text", prompt)
    assert f'quote it: "{words}"' in hint.message
    assert hint.span is not None and prompt[slice(*hint.span)] == words


@pytest.mark.parametrize(
    "prompt",
    [
        'a café, the sign reads "Open", warm light',
        "a banner that says 'Welcome home' in red",
        'the sign reads in bold letters "Open"',
        "a poster with the word “Sale” on it",
        'add a large headline in-image that reads "OPEN STUDIO"',
        "a woman reads a book by the window",
        "the headline is large and centered",
        'a sign, "the sign reads Open" written on it',
    ],
)
def test_unquoted_text_quiet(prompt: str) -> None:
    assert _fires("unquoted-text", prompt) == []


# --- script-unnamed ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "script"),
    [
        ('the sign reads "コーヒー"', "Japanese"),
        ('a banner "咖啡店"', "Chinese"),
        ('a label "커피"', "Korean"),
        ('a poster "Кофе"', "Cyrillic"),
        ('a shop sign "قهوة"', "Arabic"),
        ('a plaque "קפה"', "Hebrew"),
        ('a menu board "कॉफ़ी"', "Devanagari"),
        ('a sign "กาแฟ"', "Thai"),
        ('a taverna sign "Καφές"', "Greek"),
        ('a sign "Кофе" in Japanese kana', "Cyrillic"),  # the wrong script named
    ],
)
def test_script_unnamed_fires(prompt: str, script: str) -> None:
    (hint,) = _fires("script-unnamed", prompt)
    assert script in hint.message
    assert hint.span is not None and prompt[slice(*hint.span)].strip('"') in prompt


@pytest.mark.parametrize(
    "prompt",
    [
        'the sign reads "コーヒー" in bold Japanese kana',
        'the sign reads "珈琲" in kanji',
        'a sign "東京コーヒー" in Japanese',  # kanji mixed with kana is Japanese
        'a banner "咖啡店" in Chinese hanzi',
        'a label "커피" in Korean Hangul',
        'a poster "Кофе" in Cyrillic',
        'a poster "Кофе" in Russian',
        'a shop sign "قهوة" in Arabic, right-to-left',
        'a plaque "קפה" in Hebrew',
        'a menu board "कॉफ़ी" in Hindi',
        'a sign "กาแฟ" in Thai',
        'a taverna sign "Καφές" in Greek letters',
        'a sign "Café Crème — ½ price"',  # Latin with accents and symbols
        "a Japanese garden, no quoted text",
    ],
)
def test_script_unnamed_quiet(prompt: str) -> None:
    assert _fires("script-unnamed", prompt) == []


# --- conflict-no-text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    [
        "no text, the word 'AQUA+' on the label",
        'a bottle without text, label reads "AQUA+"',
        'text-free packaging with the logo "AQUA"',
        'a poster, no words, headline "SALE"',
        'a clean label without any lettering and the brand "AQUA"',
    ],
)
def test_conflict_no_text_fires(prompt: str) -> None:
    (hint,) = _fires("conflict-no-text", prompt)
    assert hint.span is not None


@pytest.mark.parametrize(
    "prompt",
    [
        "a clean bottle, no text",
        'the word "AQUA+" on the label and no other text',
        'the word "AQUA+" on the label, without any additional text',
        'a sign reading "NO TEXT HERE"',
        'the word "AQUA+" on the label',
    ],
)
def test_conflict_no_text_quiet(prompt: str) -> None:
    assert _fires("conflict-no-text", prompt) == []


# --- style-pileup ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "count"),
    [
        ("a fox, ukiyo-e, watercolor, 8K, cinematic, minimalist", 5),
        ("a city, cyberpunk, vaporwave, pixel art", 3),
        ("Art Deco poster, oil painting, photorealistic", 3),
        ("a watercolour fox, anime, low-poly", 3),
    ],
)
def test_style_pileup_fires(prompt: str, count: int) -> None:
    (hint,) = _fires("style-pileup", prompt)
    assert hint.message.startswith(f"{count} style anchors")


@pytest.mark.parametrize(
    "prompt",
    [
        "a fox, watercolor, cinematic",
        "a fox, watercolor, watercolour, water color",  # one anchor, three spellings
        'a poster reading "ANIME CYBERPUNK VAPORWAVE", isometric',  # quoted text is not style
        "a cinematic hero shot",
    ],
)
def test_style_pileup_quiet(prompt: str) -> None:
    assert _fires("style-pileup", prompt) == []


# --- long-quoted-text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    [
        'a poster reading "' + "x" * 61 + '"',
        'a sign: "one two three four five six seven eight nine ten eleven twelve thirteen"',
    ],
)
def test_long_quoted_text_fires(prompt: str) -> None:
    (hint,) = _fires("long-quoted-text", prompt)
    assert hint.span == (prompt.index('"'), len(prompt))


@pytest.mark.parametrize(
    "prompt",
    [
        'a poster reading "' + "x" * 60 + '"',
        'a sign: "one two three four five six seven eight nine ten 11 12"',
        "an unquoted " + "very long " * 20 + "description",
    ],
)
def test_long_quoted_text_quiet(prompt: str) -> None:
    assert _fires("long-quoted-text", prompt) == []


# --- edit-no-preservation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    ["turn the background into a beach", 'add the headline "SALE" at the top', "make it night"],
)
def test_edit_no_preservation_fires(prompt: str) -> None:
    assert len(_fires("edit-no-preservation", prompt, EDIT, 1)) == 1


@pytest.mark.parametrize(
    ("prompt", "endpoint"),
    [
        ("turn the background into a beach; keep the pose", EDIT),
        ("make it night, preserve the framing", EDIT),
        ("make it night, the face unchanged", EDIT),
        ("make it night and maintain the composition", EDIT),
        ("make it night but retain the logo", EDIT),
        ("turn the background into a beach", T2I),
    ],
)
def test_edit_no_preservation_quiet(prompt: str, endpoint: Endpoint) -> None:
    assert _fires("edit-no-preservation", prompt, endpoint, 1) == []


# --- refs-unnumbered ---------------------------------------------------------------------------


@pytest.mark.parametrize("refs", [2, 5])
def test_refs_unnumbered_fires(refs: int) -> None:
    (hint,) = _fires("refs-unnumbered", "put the subject in the room" + KEEP, EDIT, refs)
    assert str(refs) in hint.message


@pytest.mark.parametrize(
    ("prompt", "refs"),
    [
        ("the subject from image 1 in the room from image 2", 2),
        ("the subject from the first image, lighting from the second image", 2),
        ("subject from Image #1, background from image #3", 3),
        ("put the subject in the room", 1),
        ("put the subject in the room", 0),
    ],
)
def test_refs_unnumbered_quiet(prompt: str, refs: int) -> None:
    assert _fires("refs-unnumbered", prompt + KEEP, EDIT, refs) == []


# --- spatial-no-direction ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "word"),
    [
        ("reposition the headline", "reposition"),
        ("move the logo a little", "move"),
        ("shift the person closer to the camera", "shift"),
        ("place the cup somewhere else", "place"),
    ],
)
def test_spatial_no_direction_fires(prompt: str, word: str) -> None:
    (hint,) = _fires("spatial-no-direction", prompt + KEEP, EDIT, 1)
    assert hint.span is not None and prompt[slice(*hint.span)] == word


@pytest.mark.parametrize(
    ("prompt", "endpoint"),
    [
        ("move the headline from top-right to bottom-center", EDIT),
        ("move the logo to the left", EDIT),
        ("place the cup in the lower corner", EDIT),
        ("shift the person above the table", EDIT),
        ("make it night and keep everything in place", EDIT),
        ("replace the sky with a sunset", EDIT),
        ("reposition the headline", T2I),
    ],
)
def test_spatial_no_direction_quiet(prompt: str, endpoint: Endpoint) -> None:
    assert _fires("spatial-no-direction", prompt + KEEP, endpoint, 1) == []


# --- near-length-limit -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "max_chars"),
    [(85, 100), (100, 100), (120, 100), (int(MAX_PROMPT_CHARS * 0.9), None)],
)
def test_near_length_limit_fires(length: int, max_chars: int | None) -> None:
    kwargs = {"max_chars": max_chars} if max_chars else {}
    (hint,) = _fires("near-length-limit", "a" * length, **kwargs)
    assert f"{length:,}" in hint.message


@pytest.mark.parametrize(
    ("length", "max_chars"), [(84, 100), (10, 100), (10_000, MAX_PROMPT_CHARS)]
)
def test_near_length_limit_quiet(length: int, max_chars: int) -> None:
    assert _fires("near-length-limit", "a" * length, max_chars=max_chars) == []


# --- the whole ---------------------------------------------------------------------------------


def test_rules_run_in_order_and_can_be_disabled() -> None:
    prompt = 'reposition the sign that says Open, ukiyo-e, anime, pixel art, no text, "コーヒー"'
    ids = _ids(lint(prompt, endpoint="edit", reference_count=2))
    assert ids == [
        "unquoted-text",
        "script-unnamed",
        "conflict-no-text",
        "style-pileup",
        "edit-no-preservation",
        "refs-unnumbered",
        "spatial-no-direction",
    ]
    assert set(ids) <= set(RULES)
    quieter = lint(prompt, endpoint="edit", reference_count=2, disabled={"style-pileup"})
    assert "style-pileup" not in _ids(quieter)


def test_messages_are_sanitised() -> None:
    prompt = 'the sign reads "\x1b]52;c;aGk=\x07Кофе"'
    hints = lint(prompt, endpoint=T2I)
    assert hints
    assert all("\x1b" not in hint.message and "\x07" not in hint.message for hint in hints)


def test_empty_prompt_has_no_hints() -> None:
    assert lint("", endpoint=T2I) == []
