"""Contact sheets: real PNG files in, one labelled, decodable PNG out, recipes inside."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tui.iterate.contact_sheet import (
    SheetCell,
    read_sheet_cells,
    render_contact_sheet,
    save_contact_sheet,
)
from tui.offline.render import render_image


def _image(folder: Path, name: str, prompt: str) -> Path:
    path = folder / name
    path.write_bytes(render_image(prompt, "1024_1024", request_id=name))
    return path


def test_a_sweep_sheet_is_written_next_to_the_images_and_decodes(tmp_path: Path) -> None:
    cells = [
        SheetCell(_image(tmp_path, f"{n}.png", f"poster {n}"), f"lighting: {label}",
                  detail=f"#{n} · 1:1", recipe={"prompt": f"poster {n}", "request_id": f"r{n}"})
        for n, label in enumerate(["golden hour", "overcast", "neon"], start=1)
    ]
    path = save_contact_sheet(cells, tmp_path, title="sweep of 3 — lighting", stem="sweep-ab12")
    assert path.parent == tmp_path and path.name.startswith("sweep-ab12_")
    with Image.open(path) as sheet:
        sheet.load()  # decodes in full
        assert sheet.width > 384 * 2 and sheet.height > 384
    stored = read_sheet_cells(path)
    assert [c["caption"] for c in stored] == ["lighting: golden hour", "lighting: overcast",
                                               "lighting: neon"]
    assert stored[0]["recipe"] == {"prompt": "poster 1", "request_id": "r1"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_second_sheet_never_replaces_the_first(tmp_path: Path) -> None:
    cell = SheetCell(_image(tmp_path, "a.png", "a"), "a")
    first = save_contact_sheet([cell], tmp_path, title="t")
    second = save_contact_sheet([cell], tmp_path, title="t")
    assert first != second and first.exists() and second.exists()


def test_a_missing_image_is_a_grey_cell_and_hostile_captions_are_plain(tmp_path: Path) -> None:
    cells = [SheetCell(tmp_path / "gone.png", "\x1b]52;c;aGk=\x07[b]x[/b]", detail="\x9b31m")]
    sheet = render_contact_sheet(cells, title="compare")
    assert sheet.getpixel((16 + 5, 44 + 16 + 5)) == (60, 60, 68)
    path = save_contact_sheet(cells, tmp_path, title="compare")
    stored = read_sheet_cells(path)[0]
    assert "\x1b" not in stored["caption"] and "\x9b" not in stored["detail"]
    with Image.open(path) as opened:
        opened.load()


def test_an_empty_sheet_is_refused() -> None:
    with pytest.raises(ValueError):
        render_contact_sheet([], title="nothing")
