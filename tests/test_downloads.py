"""Downloader against real HTTP servers on loopback: trusted only, no token, capped, never partial.

Faults of the file route come from the offline backend (``tui.offline``); redirects, slow bodies
and the overwrite rules from a tiny aiohttp app in this file.
"""

from __future__ import annotations

import asyncio
import errno
import io
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from PIL import Image

from tui.api.errors import DownloadError
from tui.storage.downloads import Downloader

# From the official CLI's own tests (reliability.md), plus two of ours: all refused, before any request.
UNTRUSTED = [
    "https://evil.example.com/runcomfy.net/x",
    "https://runcomfy.net.evil.com/x",
    "ftp://files.runcomfy.net/x",
    "not a url",
    "https://cdn.runcomfy.net@evil.example.com/file",
    "https://evil.example.com/#@cdn.runcomfy.net",
    "https://evil.example.com/?u=https://cdn.runcomfy.net",
    "https://[::1]/x",
    "http://10.0.0.1/x.runcomfy.net",
    "https://127.0.0.1\\@cdn.runcomfy.net/file",
    "http://cdn.runcomfy.net/x.png",  # plain http to a RunComfy host
    "https://cdn.runcomfy.net/a b.png",  # whitespace
    "",
]


def _png(width: int = 64, height: int = 48, kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, kind)
    return buffer.getvalue()


PNG = _png()
JPEG = _png(kind="JPEG")


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


async def _no_sleep(_: float) -> None:
    return None


# ---------------------------------------------------------------------------- local aiohttp app


class LocalApp:
    """Redirects, slow bodies and plain images, recording every request's headers."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        self.hits = 0
        self.base = ""
        self.release = asyncio.Event()

    def routes(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/files/{name}", self.image)
        app.router.add_get("/jpeg", self.jpeg)
        app.router.add_get("/hop/{n}", self.hop)
        app.router.add_get("/to/{where}", self.to)
        app.router.add_get("/slow", self.slow)
        app.router.add_get("/huge", self.huge)
        app.router.add_get("/missing", self.missing)
        return app

    @web.middleware
    async def _record(self, request: web.Request, handler):  # type: ignore[no-untyped-def]
        self.hits += 1
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        return await handler(request)

    async def image(self, request: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png", headers={"Set-Cookie": "s=1"})

    async def jpeg(self, request: web.Request) -> web.Response:
        return web.Response(body=JPEG, content_type="image/jpeg")

    async def hop(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        target = "/files/chain.png" if n == 0 else f"../hop/{n - 1}"  # relative, resolved per hop
        raise web.HTTPFound(target)

    async def to(self, request: web.Request) -> web.Response:
        targets = {
            "evil": "https://evil.example.com/x.png",
            "suffix": "https://runcomfy.net.evil.com/x.png",
            "backslash": "https://127.0.0.1\\@cdn.runcomfy.net/file",
            "other-port": "http://127.0.0.1:1/files/x.png",
            "loop": "/to/loop",
        }
        # A raw header: aiohttp's HTTPFound would normalise (or refuse) the hostile target.
        return web.Response(status=302, headers={"Location": targets[request.match_info["where"]]})

    async def slow(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        response.content_length = len(PNG)
        await response.prepare(request)
        await response.write(PNG[:100])
        await self.release.wait()
        await response.write(PNG[100:])
        return response

    async def huge(self, request: web.Request) -> web.Response:
        return web.Response(body=b"\0" * 4096, headers={"Content-Type": "image/png"})

    async def missing(self, request: web.Request) -> web.Response:
        raise web.HTTPNotFound()


@pytest.fixture
async def local() -> AsyncIterator[LocalApp]:
    state = LocalApp()
    runner = web.AppRunner(state.routes())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.base = f"http://127.0.0.1:{port}"
    yield state
    state.release.set()
    await runner.cleanup()


def _downloader(base: str, **options: object) -> Downloader:
    options.setdefault("sleep", _no_sleep)
    return Downloader(api_base=f"{base}/v1", **options)  # type: ignore[arg-type]


async def test_local_happy_path_progress_and_hook(local: LocalApp, tmp_path: Path) -> None:
    progress: list[tuple[int, int | None]] = []
    seen: list[Path] = []

    def hook(temp: Path) -> None:
        assert temp.exists() and temp.name.startswith(".") and temp.parent == tmp_path
        seen.append(temp)

    async with _downloader(local.base) as downloader:
        path = await downloader.download(
            f"{local.base}/files/a.png", tmp_path, "picture.jpg",
            on_progress=lambda d, t: progress.append((d, t)), before_commit=hook,
        )
        jpeg = await downloader.download(f"{local.base}/jpeg", tmp_path, "photo")
    assert path == tmp_path / "picture.png"  # extension from the real format
    assert path.read_bytes() == PNG
    assert jpeg.name == "photo.jpg"
    assert progress[-1] == (len(PNG), len(PNG))
    assert len(seen) == 1 and not seen[0].exists()
    assert _leftovers(tmp_path) == []
    assert all("authorization" not in h and "cookie" not in h for h in local.headers)


async def test_never_overwrites(local: LocalApp, tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"precious")
    async with _downloader(local.base) as downloader:
        first = await downloader.download(f"{local.base}/files/a.png", tmp_path, "a.png")
        second = await downloader.download(f"{local.base}/files/a.png", tmp_path, "a.png")
    assert (first.name, second.name) == ("a-1.png", "a-2.png")
    assert (tmp_path / "a.png").read_bytes() == b"precious"


async def test_copy_fallback_without_hard_links(
    local: LocalApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_link(*_: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_link)
    (tmp_path / "b.png").write_bytes(b"precious")
    async with _downloader(local.base) as downloader:
        path = await downloader.download(f"{local.base}/files/b.png", tmp_path, "b.png")
    assert path.name == "b-1.png" and path.read_bytes() == PNG
    assert (tmp_path / "b.png").read_bytes() == b"precious"
    assert _leftovers(tmp_path) == []


async def test_redirect_chain_within_trusted_origin(local: LocalApp, tmp_path: Path) -> None:
    async with _downloader(local.base, max_redirects=5) as downloader:
        path = await downloader.download(f"{local.base}/hop/3", tmp_path, "chain.png")
        assert path.read_bytes() == PNG
        with pytest.raises(DownloadError, match="redirects"):
            await downloader.download(f"{local.base}/hop/9", tmp_path, "far.png")
        with pytest.raises(DownloadError, match="redirects"):
            await downloader.download(f"{local.base}/to/loop", tmp_path, "loop.png")
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("where", ["evil", "suffix", "backslash", "other-port"])
async def test_redirect_to_untrusted_refused(local: LocalApp, tmp_path: Path, where: str) -> None:
    async with _downloader(local.base) as downloader:
        with pytest.raises(DownloadError, match="refused") as caught:
            await downloader.download(f"{local.base}/to/{where}", tmp_path, "x.png")
    assert not caught.value.retryable
    assert local.hits == 1  # the untrusted hop was never requested
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", UNTRUSTED)
async def test_untrusted_urls_refused_before_any_request(tmp_path: Path, url: str) -> None:
    requests: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, content=PNG)

    downloader = Downloader(
        api_base="https://model-api.runcomfy.net/v1", transport=httpx.MockTransport(record)
    )
    async with downloader:
        with pytest.raises(DownloadError) as caught:
            await downloader.download(url, tmp_path, "x.png")
    assert not caught.value.retryable
    assert requests == []
    assert list(tmp_path.iterdir()) == []


async def test_declared_too_big_and_http_errors(local: LocalApp, tmp_path: Path) -> None:
    async with _downloader(local.base, max_bytes=1000, attempts=2) as downloader:
        with pytest.raises(DownloadError, match="larger"):
            await downloader.download(f"{local.base}/huge", tmp_path, "h.png")
        before = local.hits
        with pytest.raises(DownloadError, match="404") as caught:
            await downloader.download(f"{local.base}/missing", tmp_path, "m.png")
        assert not caught.value.retryable and local.hits == before + 1
    assert list(tmp_path.iterdir()) == []


async def test_pixel_cap_below_pillows_own_limit(local: LocalApp, tmp_path: Path) -> None:
    async with _downloader(local.base, max_pixels=64 * 48 - 1) as downloader:
        with pytest.raises(DownloadError, match="pixels") as caught:
            await downloader.download(f"{local.base}/files/a.png", tmp_path, "a.png")
    assert not caught.value.retryable
    assert list(tmp_path.iterdir()) == []


async def test_cancel_mid_download_leaves_nothing(local: LocalApp, tmp_path: Path) -> None:
    started = asyncio.Event()
    async with _downloader(local.base) as downloader:
        task = asyncio.create_task(
            downloader.download(
                f"{local.base}/slow", tmp_path, "s.png", on_progress=lambda d, t: started.set()
            )
        )
        await asyncio.wait_for(started.wait(), 60)
        assert len(_leftovers(tmp_path)) == 1  # the hidden temp file exists while streaming
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert list(tmp_path.iterdir()) == []


async def test_overall_deadline(local: LocalApp, tmp_path: Path) -> None:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    async with _downloader(local.base, deadline=0.3, attempts=2, sleep=sleep) as downloader:
        with pytest.raises(DownloadError, match="longer") as caught:
            await downloader.download(f"{local.base}/slow", tmp_path, "s.png")
    assert caught.value.retryable and delays == [0.5]
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- offline backend


@pytest.fixture(scope="module")
def offline() -> Iterator[object]:
    server_module = pytest.importorskip("tui.offline.server")
    faults_module = pytest.importorskip("tui.offline.faults")
    timing = faults_module.Timing(queue_seconds=0.01, run_seconds=0.01, queue_ahead=0)
    server = server_module.OfflineServer(timing=timing).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def render_url(offline: object) -> str:
    """The URL of one real offline render, obtained through the public protocol."""
    base = offline.base_url  # type: ignore[attr-defined]
    with httpx.Client(timeout=10) as client:
        answer = client.post(
            f"{base}/models/openai/gpt-image-2/text-to-image",
            json={"prompt": 'a poster that says "HELLO"', "size": "1024_1024"},
        )
        answer.raise_for_status()
        request_id = answer.json()["request_id"]
        deadline = time.monotonic() + 90
        while client.get(f"{base}/requests/{request_id}/status").json()["status"] != "completed":
            assert time.monotonic() < deadline, "offline job never completed"
            time.sleep(0.02)
        output = client.get(f"{base}/requests/{request_id}/result").json()["output"]
    urls = [output] if isinstance(output, str) else output
    assert isinstance(urls, list) and urls
    return str(urls[0])


def _fault(name: str) -> object:
    return getattr(pytest.importorskip("tui.offline.faults").Fault, name)


def _offline_downloader(offline: object, **options: object) -> Downloader:
    options.setdefault("sleep", _no_sleep)
    return Downloader(api_base=offline.base_url, **options)  # type: ignore[attr-defined,arg-type]


async def test_offline_render_downloaded(offline: object, render_url: str, tmp_path: Path) -> None:
    async with _offline_downloader(offline) as downloader:
        path = await downloader.download(render_url, tmp_path, "render.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (1024, 1024)
    assert [p.name for p in tmp_path.iterdir()] == ["render.png"]
    assert offline.stats.download_auth_headers == 0  # type: ignore[attr-defined]


async def test_truncated_once_then_ok(offline: object, render_url: str, tmp_path: Path) -> None:
    offline.force("files", _fault("TRUNCATE"))  # type: ignore[attr-defined]
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    async with _offline_downloader(offline, sleep=sleep) as downloader:
        path = await downloader.download(render_url, tmp_path, "t.png")
    assert len(delays) == 1
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


async def test_truncated_always_fails_clean(offline: object, render_url: str, tmp_path: Path) -> None:
    offline.force("files", *[_fault("TRUNCATE")] * 3)  # type: ignore[attr-defined]
    async with _offline_downloader(offline, attempts=3) as downloader:
        with pytest.raises(DownloadError) as caught:
            await downloader.download(render_url, tmp_path, "t.png")
    assert caught.value.retryable
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("fault", "options", "match"),
    [
        ("NOT_IMAGE", {}, "not a valid"),
        ("GZIP_BOMB", {"max_bytes": 2 * 1024 * 1024}, "larger"),
        ("OVERSIZED", {}, "pixels"),
    ],
)
async def test_offline_hostile_files_refused(
    offline: object, render_url: str, tmp_path: Path, fault: str, options: dict, match: str
) -> None:
    offline.force("files", _fault(fault))  # type: ignore[attr-defined]
    started = time.monotonic()
    async with _offline_downloader(offline, **options) as downloader:
        with pytest.raises(DownloadError, match=match) as caught:
            await downloader.download(render_url, tmp_path, "x.png")
    assert not caught.value.retryable
    assert time.monotonic() - started < 5
    assert list(tmp_path.iterdir()) == []
    assert offline.stats.download_auth_headers == 0  # type: ignore[attr-defined]


async def test_offline_drip_hits_deadline(offline: object, render_url: str, tmp_path: Path) -> None:
    offline.force("files", _fault("DRIP"))  # type: ignore[attr-defined]
    async with _offline_downloader(offline, deadline=0.5, attempts=1) as downloader:
        with pytest.raises(DownloadError, match="longer"):
            await downloader.download(render_url, tmp_path, "d.png")
    assert list(tmp_path.iterdir()) == []
