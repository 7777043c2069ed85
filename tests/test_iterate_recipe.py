"""Recipes embedded in real PNG files, read back, and turned into the official CLI command."""

from __future__ import annotations

import json
import shlex
import struct
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from tui.api.schemas import request_body
from tui.iterate.recipe import (
    CHUNK_PREFIX,
    RECIPE_CHUNK,
    Recipe,
    RecipeError,
    embed_recipe,
    read_chunks,
    read_recipe,
    runcomfy_command,
)
from tui.models import JobRequest

NASTY_PROMPT = (
    'A café sign that reads "コーヒー" in Japanese kana;\nsecond line: it\'s "50% off" — '
    "$(rm -rf ~) `id` \\ {a|b} 😀\ttab"
)


def _recipe(**changes: object) -> Recipe:
    base = Recipe(
        prompt=NASTY_PROMPT,
        endpoint="text-to-image",
        size="1024_1536",
        references=(),
        request_id="req-0001",
        parent_request_id=None,
        app_version="0.1.0",
        created_at="2025-01-02T03:04:05+00:00",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """An independent chunk walker: (type, data) with every CRC checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack_from(">I", data, offset + 8 + length)
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        offset += 12 + length
    return chunks


@pytest.fixture
def png(tmp_path: Path) -> Path:
    path = tmp_path / "image.png"
    image = Image.new("RGB", (64, 48))
    image.putdata([(x * 4 % 256, y * 5 % 256, (x * y) % 256) for y in range(48) for x in range(64)])
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "test")  # someone else's text chunk must survive
    image.save(path, pnginfo=info)
    return path


def test_round_trip_keeps_pixels_byte_for_byte(png: Path) -> None:
    before = png.read_bytes()
    recipe = _recipe()
    assert embed_recipe(png, recipe) is True
    after = png.read_bytes()

    idat = [body for kind, body in _png_chunks(before) if kind == b"IDAT"]
    assert [body for kind, body in _png_chunks(after) if kind == b"IDAT"] == idat
    kinds = [kind for kind, _ in _png_chunks(after)]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    assert kinds.count(b"iTXt") == len(recipe.to_chunks())

    assert read_recipe(png) == recipe

    with Image.open(png) as image:
        image.verify()
    original = png.with_name("original.png")
    original.write_bytes(before)
    with Image.open(png) as image, Image.open(original) as reference:
        image.load()
        assert image.text[CHUNK_PREFIX + "prompt"] == NASTY_PROMPT
        assert image.text["Software"] == "test"
        assert json.loads(image.text[RECIPE_CHUNK])["version"] == 1
        assert image.tobytes() == reference.tobytes()


def test_embedding_again_replaces_the_recipe(png: Path) -> None:
    embed_recipe(png, _recipe())
    second = _recipe(
        prompt="second",
        endpoint="edit",
        size="auto",
        references=("https://example.com/a.png", "https://example.com/b.png"),
        parent_request_id="req-0001",
        request_id="req-0002",
    )
    assert embed_recipe(png, second) is True
    assert read_recipe(png) == second
    kinds = [kind for kind, _ in _png_chunks(png.read_bytes())]
    assert kinds.count(b"iTXt") == len(second.to_chunks())


def test_embedding_is_atomic_and_keeps_permissions(png: Path) -> None:
    png.chmod(0o640)
    embed_recipe(png, _recipe())
    assert png.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in png.parent.iterdir()) == ["image.png"]


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_other_formats_are_left_alone(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"image.{fmt.lower()}"
    Image.new("RGB", (16, 16), (200, 10, 10)).save(path, format=fmt)
    before = path.read_bytes()
    assert embed_recipe(path, _recipe()) is False
    assert path.read_bytes() == before
    assert read_recipe(path) is None


def test_a_broken_png_is_an_error_when_writing_and_none_when_reading(
    tmp_path: Path, png: Path
) -> None:
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(png.read_bytes()[:-20])
    with pytest.raises(RecipeError):
        embed_recipe(truncated, _recipe())
    assert read_recipe(truncated) is None
    assert read_recipe(tmp_path / "missing.png") is None


def test_a_png_without_a_recipe_reads_none(png: Path) -> None:
    assert read_recipe(png) is None
    assert read_chunks(png) == {}


def _with_text_chunk(png: Path, keyword: str, text: str, *, kind: str = "iTXt") -> None:
    with Image.open(png) as image:
        image.load()
        info = PngImagePlugin.PngInfo()
        if kind == "iTXt":
            info.add_itxt(keyword, text, zip=True)
        else:
            info.add_text(keyword, text)
        image.save(png, pnginfo=info)


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        json.dumps({"version": 2, "prompt": "x"}),
        json.dumps({"version": 1, "prompt": 5}),
        json.dumps({**_recipe().to_dict(), "endpoint": "upscale"}),
        json.dumps({**_recipe().to_dict(), "references": "https://a"}),
    ],
)
def test_garbled_recipes_read_none(png: Path, text: str) -> None:
    _with_text_chunk(png, RECIPE_CHUNK, text)
    assert read_recipe(png) is None


def test_compressed_and_latin1_chunks_are_read(png: Path) -> None:
    recipe = _recipe(prompt="plain")
    _with_text_chunk(png, RECIPE_CHUNK, json.dumps(recipe.to_dict()))
    assert read_recipe(png) == recipe
    _with_text_chunk(png, RECIPE_CHUNK, json.dumps(recipe.to_dict()), kind="tEXt")
    assert read_recipe(png) == recipe


def test_chunks_are_prefixed_and_versioned() -> None:
    chunks = _recipe(parent_request_id="req-0000").to_chunks()
    assert all(key.startswith(CHUNK_PREFIX) for key in chunks)
    assert chunks[CHUNK_PREFIX + "prompt"] == NASTY_PROMPT
    assert chunks[CHUNK_PREFIX + "parent_request_id"] == "req-0000"
    data = json.loads(chunks[RECIPE_CHUNK])
    assert data["version"] == 1
    assert Recipe.from_chunks(chunks) == _recipe(parent_request_id="req-0000")
    with pytest.raises(RecipeError):
        Recipe.from_chunks({CHUNK_PREFIX + "prompt": "x"})


def test_recipe_for_a_request() -> None:
    request = JobRequest("a cat", "auto", ("https://example.com/a.png",))
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    recipe = Recipe.for_request(request, "req-9", parent_request_id="req-8", created_at=when)
    assert recipe.endpoint == "edit"
    assert recipe.references == ("https://example.com/a.png",)
    assert recipe.created_at == "2025-01-02T03:04:05+00:00"
    assert datetime.fromisoformat(Recipe.for_request(request, "r").created_at).tzinfo is not None


def _parse_command(command: str) -> tuple[list[str], dict[str, object]]:
    argv = shlex.split(command)
    return argv, json.loads(argv[argv.index("--input") + 1])


def test_command_for_text_to_image_never_has_images() -> None:
    recipe = _recipe(references=("https://example.com/stale.png",))
    argv, payload = _parse_command(runcomfy_command(recipe))
    assert argv[:4] == ["runcomfy", "run", "openai/gpt-image-2/text-to-image", "--input"]
    assert payload == {"prompt": NASTY_PROMPT, "size": "1024_1536"}
    assert payload == request_body(JobRequest(NASTY_PROMPT, "1024_1536"))


def test_command_for_edit_round_trips_through_the_shell() -> None:
    refs = ("https://example.com/a.png?x=1&y='2'", "https://example.com/b.png")
    recipe = _recipe(endpoint="edit", size="auto", references=refs)
    command = runcomfy_command(recipe, output_dir=Path("/tmp/out dir"))
    assert "\n" not in command
    argv, payload = _parse_command(command)
    assert argv[2] == "openai/gpt-image-2/edit"
    assert argv[-2:] == ["--output-dir", "/tmp/out dir"]
    assert payload == {"prompt": NASTY_PROMPT, "images": list(refs), "size": "auto"}
    assert payload == request_body(JobRequest(NASTY_PROMPT, "auto", refs))
