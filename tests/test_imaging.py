"""Renderer choice, the preview cache, the preview widget and the full-screen image view."""

from __future__ import annotations

import contextlib
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import until
from PIL import Image
from textual.app import App, ComposeResult
from textual.geometry import Region

from tui.ui import imaging
from tui.ui.imaging import GraphicsChoice, ImageKit, PreviewCache, PreviewError, detect_graphics
from tui.ui.screens.image import ImageScreen
from tui.ui.terminal.decide import QueryPlan
from tui.ui.widgets.preview import ImagePreview

HALFCELL = GraphicsChoice("halfcell", "--graphics halfcell")

# Recorded from real terminals (term-shot, Debian 12): the answers to build_query's questions.
XTERM_SIXEL = b"\x1bP>|XTerm(379)\x1b\\\x1bP1$r0;38:2::1:2:3m\x1b\\\x1b[?63;1;2;4;6;9;15;16;22;28c"
KITTY_026 = (
    b"\x1b_Gi=31;OK\x1b\\\x1bP>|kitty(0.26.5)\x1b\\\x1bP1$r38:2:1:2:3m\x1b\\"
    b"\x1bP0+r524742\x1b\\\x1bP0+r5463\x1b\\\x1b[?62;c"
)


class FakeTTY:
    """A stream that claims to be a terminal, without being one."""

    def __init__(self, fd: int, tty: bool = True) -> None:
        self._fd = fd
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty

    def fileno(self) -> int:
        return self._fd


class Probe:
    """Stands in for the terminal: records what was asked, answers with recorded bytes."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.plans: list[QueryPlan] = []

    def __call__(self, stdin_fd: int, stdout_fd: int, plan: QueryPlan) -> bytes:
        self.plans.append(plan)
        return self.answer


def detect(requested="auto", env=None, *, tty_in=True, tty_out=True, answer=b"", colors="auto"):
    probe = Probe(answer)
    choice = detect_graphics(
        requested,
        {"TERM": "xterm-256color"} if env is None else env,
        colors=colors,
        stdin=FakeTTY(0, tty_in),
        stdout=FakeTTY(1, tty_out),
        probe=probe,
        ask_tmux=lambda env: None,
    )
    return choice, probe


def make_png(path: Path, size=(600, 300), color=(200, 40, 40)) -> Path:
    Image.new("RGB", size, color).save(path)
    return path


# --- detection (the decisions themselves: tests/test_terminal.py) ----------------------------


@pytest.mark.parametrize("mode", ["kitty", "sixel", "halfcell"])
def test_explicit_flags_win_and_only_the_cell_size_is_asked(mode):
    env = {"TMUX": "/tmp/tmux-1/default,1,0", "TERM": "tmux-256color"}
    choice, probe = detect(mode, env, colors="256", answer=b"\x1b[6;16;8t\x1b[?1;2c")
    assert choice.mode == mode
    assert choice.reason == f"--graphics {mode}"
    assert choice.colors is not None and choice.colors.depth == "256"
    assert choice.colors.reason == "--colors 256"
    if mode == "halfcell":  # half-cell images need no pixel size: nothing to ask
        assert probe.plans == []
    else:  # the terminal has no pixel size in its tty: only that is asked, no graphics query
        assert [(p.kitty, p.passthrough, p.cell_size) for p in probe.plans] == [
            (False, False, True)
        ]
        assert choice.cell_size == (8, 16)


def test_explicit_graphics_still_asks_about_colours():
    choice, probe = detect("halfcell", answer=XTERM_SIXEL)
    assert choice.mode == "halfcell" and choice.colors is not None
    assert choice.colors.depth == "truecolor"
    assert len(probe.plans) == 1 and not probe.plans[0].kitty


def test_unknown_mode_refused():
    with pytest.raises(ValueError):
        detect_graphics("iterm", {})


def test_not_a_tty_is_halfcell_without_probing():
    choice, probe = detect(tty_out=False, answer=KITTY_026)
    assert choice.mode == "halfcell"
    assert "not a terminal" in choice.reason
    assert probe.plans == []
    choice, probe = detect(tty_in=False, answer=KITTY_026)
    assert choice.mode == "halfcell" and probe.plans == []


def test_real_non_tty_stdio_never_touches_the_terminal():
    # Under pytest stdout is captured: auto must answer at once, without termios.
    assert detect_graphics("auto").mode == "halfcell"


def test_recorded_xterm_answer_gives_sixel_and_truecolor():
    choice, probe = detect(answer=XTERM_SIXEL, env={"TERM": "xterm"})
    assert choice.mode == "sixel"
    assert choice.colors is not None and choice.colors.depth == "truecolor"
    assert probe.plans[0].timeout == 0.3
    assert "Sixel" in choice.help_text and "24-bit colour" in choice.help_text


def test_ssh_waits_longer_and_says_so():
    env = {"TERM": "xterm-kitty", "SSH_CONNECTION": "10.0.0.2 5000 10.0.0.1 22"}
    choice, probe = detect(env=env)
    assert choice.mode == "halfcell"
    assert "over SSH" in choice.reason and "no answer" in choice.reason
    assert probe.plans[0].timeout == 1.0


def test_probe_cell_size_is_used():
    choice, _ = detect(answer=b"\x1b[6;18;9t" + XTERM_SIXEL)
    assert choice.cell_size == (9, 18)


def test_probe_without_a_terminal_gives_no_answer(tmp_path):
    with open(tmp_path / "f", "w+b") as handle:
        raw = imaging.probe_terminal(handle.fileno(), handle.fileno(), QueryPlan(timeout=0.05))
    assert raw == b""


def test_widget_classes_per_mode():
    from textual_image.widget import HalfcellImage, SixelImage, TGPImage

    assert imaging.image_widget_class(HALFCELL) is HalfcellImage
    assert imaging.image_widget_class(GraphicsChoice("kitty", "x")) is TGPImage
    sixel = imaging.image_widget_class(GraphicsChoice("sixel", "x"))
    assert issubclass(sixel, SixelImage) and sixel is not SixelImage
    assert sixel(Image.new("RGB", (4, 4))) is not None  # the subclass can be built


# --- preview cache ---------------------------------------------------------------------------


def count_opens(monkeypatch) -> list[Path]:
    opened: list[Path] = []
    real_open = Image.open

    def counting_open(fp, *args, **kwargs):
        opened.append(Path(fp))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)  # imaging imports PIL.Image where it decodes
    return opened


def test_preview_downscaled_once_keeping_aspect(tmp_path, monkeypatch):
    source = make_png(tmp_path / "big.png", (2000, 1000))
    cache = PreviewCache(tmp_path / "cache", max_side=400)
    opened = count_opens(monkeypatch)
    first = cache.preview_for(source)
    mtime = first.stat().st_mtime_ns
    with Image.open(first) as image:
        assert image.size == (400, 200)
    opened.clear()
    assert cache.preview_for(source) == first
    assert opened == []
    assert first.stat().st_mtime_ns == mtime
    assert first.parent == tmp_path / "cache" and first.suffix == ".png"
    assert not list((tmp_path / "cache").glob(".*"))  # no temp files left


def test_thumbnail_is_smaller_and_separate(tmp_path):
    source = make_png(tmp_path / "tall.png", (300, 900))
    cache = PreviewCache(tmp_path / "cache", max_side=600, thumb_side=90)
    thumb = cache.thumbnail_for(source)
    assert thumb != cache.preview_for(source)
    with Image.open(thumb) as image:
        assert image.size == (30, 90)


def test_changed_file_gets_a_new_preview(tmp_path):
    source = make_png(tmp_path / "a.png", (100, 100))
    cache = PreviewCache(tmp_path / "cache")
    first = cache.preview_for(source)
    make_png(source, (120, 100), (0, 0, 255))
    assert cache.preview_for(source) != first


def test_concurrent_calls_decode_once(tmp_path, monkeypatch):
    source = make_png(tmp_path / "c.png", (1500, 1500))
    cache = PreviewCache(tmp_path / "cache", max_side=300)
    opened = count_opens(monkeypatch)
    results: list[Path] = []
    start = threading.Barrier(8)

    def work():
        start.wait()
        results.append(cache.preview_for(source))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1 and len(results) == 8
    assert len(opened) == 1


def test_hostile_file_name_and_non_image(tmp_path):
    source = tmp_path / "evil\x1b]52;c;aGk=\x07.png"
    source.write_bytes(b"not an image at all")
    cache = PreviewCache(tmp_path / "cache")
    with pytest.raises(PreviewError) as caught:
        cache.preview_for(source)
    assert "\x1b" not in str(caught.value) and "\x07" not in str(caught.value)
    assert "not an image" in str(caught.value)
    with pytest.raises(PreviewError):
        cache.preview_for(tmp_path / "missing.png")


def test_pixel_cap(tmp_path):
    source = make_png(tmp_path / "huge.png", (500, 500))
    with pytest.raises(PreviewError, match="too large"):
        PreviewCache(tmp_path / "cache", max_pixels=1000).preview_for(source)


# --- widget and screen -----------------------------------------------------------------------


class PreviewApp(App[None]):
    def __init__(self, cache: PreviewCache) -> None:
        super().__init__()
        self.cache = cache
        self.shown: list[Path | None] = []

    def compose(self) -> ComposeResult:
        yield ImagePreview(ImageKit(HALFCELL, self.cache), show_mode=True)

    def on_image_preview_shown(self, message: ImagePreview.Shown) -> None:
        self.shown.append(message.path)


async def until_shown(pilot: Any, preview: ImagePreview, path: Path) -> None:
    """Wait until ``preview`` shows ``path``, then for the layout. Its decoding worker starts
    after a refresh, so waiting for the workers alone can look before it even began (a loaded
    machine did)."""
    await until(pilot, lambda: preview.path == path)
    await pilot.pause()


async def test_preview_mounts_halfcell_image(tmp_path):
    from textual_image.widget import HalfcellImage

    source = make_png(tmp_path / "job.png", (800, 400))
    app = PreviewApp(PreviewCache(tmp_path / "cache", max_side=200))
    async with app.run_test(size=(60, 20)) as pilot:
        preview = app.query_one(ImagePreview)
        assert str(preview.query_one("#preview-placeholder").render()) == "no image yet"
        assert preview.mode_label == "graphics: half-cell blocks (--graphics halfcell)"
        preview.show(source)
        await until_shown(pilot, preview, source)
        image = preview.query_one(HalfcellImage)
        assert preview.has_class("-has-image") and preview.path == source
        assert app.shown == [source]
        # fitted inside the panel, aspect kept (2:1 image, 1:2 cells → same cell count)
        assert image.size.width <= preview.content_size.width
        assert image.size.height <= preview.content_size.height
        assert image.size.width == pytest.approx(2 * image.size.height * 2, abs=2)
        preview.show(None)
        await pilot.pause()
        assert not preview.has_class("-has-image") and app.shown[-1] is None


async def test_preview_shows_sanitised_error(tmp_path):
    bad = tmp_path / "bad[@click=app.quit]\x1b[31m.png"
    bad.write_bytes(b"nope")
    app = PreviewApp(PreviewCache(tmp_path / "cache"))
    async with app.run_test(size=(60, 20)) as pilot:
        preview = app.query_one(ImagePreview)
        preview.show(bad)
        placeholder = preview.query_one("#preview-placeholder")
        await until(pilot, lambda: "not an image" in str(placeholder.render()))
        text = str(placeholder.render())
        assert "not an image" in text and "[@click=app.quit]" in text
        assert "\x1b" not in text
        assert app.is_running


async def test_image_screen_opens_and_closes(tmp_path):
    from textual_image.widget import HalfcellImage

    source = make_png(tmp_path / "full\x1b]8;;x\x07.png", (400, 400))
    app = PreviewApp(PreviewCache(tmp_path / "cache"))
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("escape", "q", "f"):
            await app.push_screen(ImageScreen(source, ImageKit(HALFCELL, app.cache)))
            screen = app.screen
            assert isinstance(screen, ImageScreen)
            await until_shown(pilot, screen.query_one(ImagePreview), source)
            image = screen.query_one(HalfcellImage)
            assert image.size.height == 23  # fills the height above the caption
            caption = str(screen.query_one("#image-caption").render())
            assert caption.startswith("full.png  ·  half-cell blocks") and "\x1b" not in caption
            await pilot.press(key)
            assert not isinstance(app.screen, ImageScreen)


async def test_show_before_mount_is_honoured(tmp_path):
    from textual_image.widget import HalfcellImage

    source = make_png(tmp_path / "early.png", (300, 100))

    class EarlyApp(App[None]):
        def compose(self) -> ComposeResult:
            preview = ImagePreview(ImageKit(HALFCELL, PreviewCache(tmp_path / "cache")))
            preview.show(source)
            yield preview

    app = EarlyApp()
    async with app.run_test(size=(40, 12)) as pilot:
        await until_shown(pilot, app.query_one(ImagePreview), source)
        image = app.query_one(HalfcellImage)
        assert image.region.width == 40 and image.region.height == 7  # 3:1 at 1:2 cells


# --- decoded images kept: a cached preview swaps in within the same frame ----------------------


def test_decoded_images_are_bounded_and_keyed_by_the_file(tmp_path):
    from tui.ui.imaging import DecodedImages

    source = make_png(tmp_path / "a.png", (64, 64))
    kept = DecodedImages(max_bytes=3 * 64 * 64 * 3, max_entries=10)
    key = kept.key_for(source, 64)
    assert key is not None and kept.key_for(tmp_path / "missing.png", 64) is None
    for side in (64, 128, 192):
        kept.put(kept.key_for(source, side), Image.new("RGB", (64, 64)))
    assert kept.get(key) is not None
    kept.put(kept.key_for(source, 256), Image.new("RGB", (64, 64)))  # over budget: oldest goes
    assert len(kept) == 3 and kept.size_bytes <= kept.max_bytes
    assert kept.get(kept.key_for(source, 128)) is None and kept.get(key) is not None
    make_png(source, (70, 64))  # a changed file is another key
    assert kept.get(kept.key_for(source, 64)) is None


async def test_a_preview_seen_before_is_shown_in_the_same_handler(tmp_path):
    from textual_image.widget import HalfcellImage

    first = make_png(tmp_path / "first.png", (600, 600), (255, 0, 0))
    second = make_png(tmp_path / "second.png", (600, 600), (0, 0, 255))
    app = PreviewApp(PreviewCache(tmp_path / "cache"))
    async with app.run_test(size=(60, 20)) as pilot:
        preview = app.query_one(ImagePreview)
        for path in (first, second):
            preview.show(path)
            await until_shown(pilot, preview, path)
        image = preview.query_one(HalfcellImage)
        drawn_second = image.image
        started: list[Any] = []
        real_run_worker = preview.run_worker
        preview.run_worker = lambda *a, **k: started.append(a) or real_run_worker(*a, **k)  # type: ignore[method-assign]
        preview.show(first)
        # No await: the image changed inside show() itself, so the next frame draws it.
        assert preview.path == first and preview.has_class("-has-image")
        assert image.image is not drawn_second and not started
        assert max(image.image.size) <= preview.wanted_side()  # decoded at the panel's size
        await pilot.pause()
        assert app.shown == [first, second, first]


@contextlib.asynccontextmanager
async def preview_loading_slowly(tmp_path: Path) -> Any:
    """A preview showing ``first``, then asked for ``second``, whose scaled copy is made only
    when the test sets ``release``: yields (pilot, preview, second, release)."""
    first = make_png(tmp_path / "first.png", (300, 300), (255, 0, 0))
    second = make_png(tmp_path / "second.png", (300, 300), (0, 0, 255))
    release = threading.Event()
    app = PreviewApp(PreviewCache(tmp_path / "cache"))
    async with app.run_test(size=(60, 20)) as pilot:
        preview = app.query_one(ImagePreview)
        preview.show(first)
        await until_shown(pilot, preview, first)
        real = preview.scaled_copy

        def slow(path: Path, side: int) -> Path:
            release.wait(60)  # set by the test (or at the end, whatever happened)
            return real(path, side)

        preview.scaled_copy = slow  # type: ignore[method-assign]
        try:
            yield pilot, preview, second, release
        finally:
            release.set()


async def test_a_new_preview_keeps_the_old_image_until_it_is_ready(tmp_path):
    async with preview_loading_slowly(tmp_path) as (pilot, preview, second, release):
        # The placeholder's moment never comes in this test, however slow the machine is.
        preview.PLACEHOLDER_DELAY = 3600.0
        preview.show(second)
        await pilot.pause()
        await pilot.pause()
        # Still loading: the previous image stays up, no placeholder.
        assert preview.has_class("-has-image") and preview.path is None
        release.set()
        await until_shown(pilot, preview, second)
        assert preview.has_class("-has-image")


async def test_a_slow_new_preview_says_so_after_a_moment(tmp_path):
    async with preview_loading_slowly(tmp_path) as (pilot, preview, second, release):
        placeholder = preview.query_one("#preview-placeholder")
        preview.show(second)
        assert preview.has_class("-has-image")  # not at once …
        # … but once PLACEHOLDER_DELAY has passed (the timer is the app's, on the real clock).
        await until(pilot, lambda: not preview.has_class("-has-image"))
        assert str(placeholder.render()) == ImagePreview.LOADING_TEXT
        release.set()
        await until_shown(pilot, preview, second)
        assert preview.has_class("-has-image")


# --- Sixel: dithered, palette up front, no stale cells ----------------------------------------


def gradient(width=240, height=60) -> Image.Image:
    image = Image.new("RGB", (width, height))
    image.putdata(
        [(x * 255 // width, 80 + y, 255 - x * 255 // width) for y in range(height) for x in range(width)]
    )
    return image


def block_error(a: Image.Image, b: Image.Image, block=8) -> float:
    """Mean colour error after averaging 8×8 blocks (what the eye sees from a distance)."""
    small = (a.width // block, a.height // block)
    pa = a.convert("RGB").resize(small, Image.Resampling.BOX).tobytes()
    pb = b.convert("RGB").resize(small, Image.Resampling.BOX).tobytes()
    return sum(abs(x - y) for x, y in zip(pa, pb, strict=True)) / len(pa)


def test_dither_keeps_gradients_smooth_where_plain_quantising_bands():
    from tui.ui.terminal.sixel import dither

    source = gradient()
    dithered = dither(source, colors=8)
    banded = source.quantize(8, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    assert dithered.mode == "P" and len(dithered.getcolors(256) or []) <= 8
    assert block_error(source, dithered) < block_error(source, banded) / 2


def test_dither_lays_transparency_on_the_background():
    from tui.ui.terminal.sixel import dither

    clear = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    assert dither(clear, (0, 0, 255)).convert("RGB").getpixel((3, 3)) == (0, 0, 255)


def test_palette_is_moved_into_the_header():
    from textual_image._sixel import image_to_sixels

    from tui.ui.terminal.sixel import dither, hoist_palette

    data = hoist_palette(image_to_sixels(dither(gradient(60, 24), colors=16)))
    header_end = data.index('"1;1;60;24') + len('"1;1;60;24')
    definitions = re.findall(r"#\d+;2;\d+;\d+;\d+", data)
    assert definitions and data[header_end:].startswith("".join(definitions))
    assert not re.search(r"#\d+;2;", data[header_end + len("".join(definitions)) :])
    assert hoist_palette(data) == data  # already up front: unchanged
    conflicting = '\x1bP0;0;0q"1;1;1;6#0;2;0;0;0~#0;2;9;9;9~\x1b\\'
    assert hoist_palette(conflicting) == conflicting
    assert hoist_palette("not sixel #0;2;1;1;1") == "not sixel #0;2;1;1;1"


class SixelApp(App[None]):
    def __init__(self, image: Image.Image) -> None:
        super().__init__()
        self.image = image

    def compose(self) -> ComposeResult:
        widget_class = imaging.image_widget_class(GraphicsChoice("sixel", "x", (6, 12)))
        yield widget_class(self.image, id="sixel")


def sixel_lines(app: App[None]) -> tuple[list, Any]:
    impl = app.query_one("#sixel").children[0]
    region = impl.content_region
    return impl.render_lines(Region(0, 0, region.width, region.height)), region


async def test_sixel_widget_paints_every_cell_then_the_image():
    app = SixelApp(gradient(120, 96))
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        lines, region = sixel_lines(app)
        assert len(lines) == region.height > 1
        for line in lines:  # every cell is written, so nothing stale survives underneath
            assert line.cell_length == region.width
            assert line.text.startswith(" " * region.width)
        last = "".join(segment.text for segment in lines[-1])
        assert "\x1b[?8452h\x1bP" in last  # cursor right of the image: no scroll at the bottom
        sixel = last[last.index("\x1bP") : last.index("\x1b\\") + 2]
        first_pixel = re.search(r"[?-~!$-]", sixel[sixel.index('"') + 1 :])
        assert first_pixel and not re.search(r"#\d+;2;", sixel[sixel.index('"') + 1 + first_pixel.start() :])
        # afterwards the cursor is on the image's last row, where Textual goes on writing
        assert last.endswith(f"\x1b[{region.bottom};{region.right + 1}H")


async def test_sixel_redrawn_whole_after_a_modal_and_full_screen(tmp_path):
    from tui.ui.screens.help import HelpScreen, help_content

    source = make_png(tmp_path / "s.png", (300, 200), (20, 200, 90))
    app = SixelApp(gradient(120, 96))
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        before, _ = sixel_lines(app)
        await app.push_screen(HelpScreen(help_content([], backend="b", graphics="g", signin=None)))
        await pilot.pause()
        assert sixel_lines(app)[0] == []  # hidden under the modal: nothing drawn over it
        app.pop_screen()
        await pilot.pause()
        after, _ = sixel_lines(app)
        assert [line.text for line in after] == [line.text for line in before]
        sixel = ImageKit(GraphicsChoice("sixel", "x", (6, 12)), PreviewCache(tmp_path / "c"))
        await app.push_screen(ImageScreen(source, sixel))
        await until_shown(pilot, app.screen.query_one(ImagePreview), source)
        await pilot.press("escape")
        await pilot.pause()
        assert [line.text for line in sixel_lines(app)[0]] == [line.text for line in before]


def test_hoisting_keeps_the_register_a_definition_selected():
    from tui.ui.terminal.sixel import hoist_palette

    lazy = '\x1bP0;0;0q"1;1;2;6#0;2;100;0;0~#1;2;0;0;100~$#0~\x1b\\'
    assert hoist_palette(lazy) == '\x1bP0;0;0q"1;1;2;6#0;2;100;0;0#1;2;0;0;100#0~#1~$#0~\x1b\\'
    assert hoist_palette(hoist_palette(lazy)) == hoist_palette(lazy)
