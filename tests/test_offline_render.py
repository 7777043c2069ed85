"""The offline renderer: right size, valid PNG, deterministic, quotes found, fast enough."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tui.offline.render import extract_quotes, pixel_size, render_image


def _open(data: bytes) -> Image.Image:
    Image.open(io.BytesIO(data)).verify()
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("1024_1024", (1024, 1024)),
        ("1024_1536", (1024, 1536)),
        ("1536_1024", (1536, 1024)),
        ("auto", (1024, 1024)),
    ],
)
def test_dimensions_and_format(size: str, expected: tuple[int, int]) -> None:
    image = _open(render_image('a poster saying "HELLO"', size))
    assert image.format == "PNG"
    assert image.size == expected


def test_same_prompt_same_bytes_different_prompt_different_bytes() -> None:
    first = render_image('a sign that says "OPEN"', "1024_1024", request_id="abc")
    assert render_image('a sign that says "OPEN"', "1024_1024", request_id="abc") == first
    assert render_image('a sign that says "CLOSED"', "1024_1024", request_id="abc") != first
    assert render_image('a sign that says "OPEN"', "1536_1024", request_id="abc") != first


def test_edit_and_request_id_show_in_the_image() -> None:
    plain = render_image("a cat", "1024_1024")
    assert render_image("a cat", "1024_1024", reference_count=2) != plain
    assert render_image("a cat", "1024_1024", request_id="r1") != plain


def test_unknown_size_is_refused() -> None:
    with pytest.raises(ValueError):
        pixel_size("2048_2048")
    with pytest.raises(ValueError):
        render_image("x", "2048_2048")


def test_quotes_are_found_but_apostrophes_are_not() -> None:
    prompt = (
        """neon "OPEN LATE", a “café” menu, a 'hello world' banner, don't touch the kids' toys"""
    )
    assert extract_quotes(prompt) == ["OPEN LATE", "café", "hello world"]
    assert extract_quotes("it's the dog's bone") == []
    assert extract_quotes("‘single curly’ and 'ok'.") == ["single curly", "ok"]


def test_hostile_and_huge_prompts_render() -> None:
    hostile = 'title "\x1b]52;c;ZXZpbA==\x07[bold]hi[/]" \x00 ' + "word " * 2000
    assert _open(render_image(hostile, "1024_1536")).size == (1024, 1536)
    assert _open(render_image("", "1024_1024")).size == (1024, 1024)
    assert _open(render_image('"' + "X" * 5000 + '"', "1024_1024")).size == (1024, 1024)
