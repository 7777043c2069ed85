"""Save one output image: trusted hosts only, no token, capped, verified, never partial.

Each download streams into a hidden temp file in the output directory, counting *decoded* bytes
(a gzip body can be 1000× its wire size), follows redirects by hand re-checking every hop with
:func:`tui.trust.urls.check_download_url`, verifies the image with Pillow (PNG/JPEG/WEBP, a pixel
cap that raises), then links it into place under a name that never overwrites an existing file.
A truncated body is retried; whatever happens (errors, cancellation) no temp file is left behind.

The body is written as it arrives (page-cache writes, no fsync). Everything after it — decoding
the whole image to verify it, the ``before_commit`` hook (the recipe chunk, written into the
temp file), the one fsync, the link into place and the folder's fsync, then the ``after_save``
hook (small copies for a front end's previews, from the pixels the verification decoded:
:mod:`tui.storage.previews`) — runs in one call on a thread of the downloader's own, never on the
event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import re
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ..api.errors import DownloadError
from ..api.tls import no_tls_context, tls_context
from ..trust.urls import UnsafeUrl, check_download_url
from .files import create_temp, safe_component

if TYPE_CHECKING:  # imported by the first download, not with this module
    import httpx
    from PIL import Image

__all__ = ["FORMAT_EXTENSIONS", "Downloader", "SavedHook", "verify_image"]

# Called on the saving thread once the image is in place, with its final path and its pixels as
# verification decoded them (read them; don't keep them). Best effort: its failures are ignored.
SavedHook = Callable[[Path, "Image.Image"], None]

MiB = 1024 * 1024
FORMAT_EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".img"}
_REDIRECTS = {301, 302, 303, 307, 308}
_RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}
_RAW_FORBIDDEN = re.compile(r"[\x00-\x20\x7f-\x9f\\]")
_LINK_UNSUPPORTED = {errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP}
_PROGRESS_EVERY = 0.1  # seconds between progress callbacks (the last one is always sent)
_SAVING_THREADS = 2  # images verified and saved at once (decoding is the cost; 2 cores)


def _default_file_mode() -> int:
    """0666 minus the process umask, read without changing it (Linux), else 0644."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o644


def _png_complete(path: Path) -> bool:
    """True when the PNG's chunks run, length by length, to an IEND chunk."""
    with open(path, "rb") as file:
        if file.read(8) != b"\x89PNG\r\n\x1a\n":
            return False
        size = os.fstat(file.fileno()).st_size
        position = 8
        while position + 12 <= size:
            file.seek(position)
            head = file.read(8)
            length, kind = int.from_bytes(head[:4], "big"), head[4:]
            end = position + 12 + length
            if end > size:
                return False
            if kind == b"IEND":
                return True
            position = end
    return False


def _jpeg_complete(path: Path) -> bool:
    """True when the JPEG ends with its end-of-image marker (padding zeros allowed)."""
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        file.seek(max(0, size - 1024))
        tail = file.read().rstrip(b"\x00")
    return tail.endswith(b"\xff\xd9")


def _webp_complete(path: Path) -> bool:
    """True when the file holds the whole RIFF container its header announces."""
    with open(path, "rb") as file:
        head = file.read(12)
        size = os.fstat(file.fileno()).st_size
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return False
    return int.from_bytes(head[4:8], "little") + 8 <= size


_COMPLETE = {"PNG": _png_complete, "JPEG": _jpeg_complete, "WEBP": _webp_complete}


def verify_image(path: Path, *, max_pixels: int) -> str:
    """Check ``path`` is a whole PNG, JPEG or WEBP of at most ``max_pixels``; return its extension.

    The pixel count is read from the header and checked before anything is decoded, so a
    "decompression bomb" is refused outright rather than merely warned about. Then the whole
    image is decoded (a header that parses says nothing about the rest) and the container is
    checked to its end marker: a body cut short — a PNG without IEND — is refused.
    """
    ext, _pixels = _verified(path, max_pixels=max_pixels, keep=False)
    return ext


def _verified(path: Path, *, max_pixels: int, keep: bool) -> tuple[str, Image.Image | None]:
    """:func:`verify_image`, and with ``keep`` the decoded image too (the caller closes it)."""
    from PIL import Image  # loaded by the first download, in its thread

    try:
        with Image.open(path, formats=list(FORMAT_EXTENSIONS)) as image:
            width, height = image.size
            kind = str(image.format)
    except Image.DecompressionBombError as exc:
        raise DownloadError("image has too many pixels") from exc
    except Exception as exc:  # Pillow raises many types for garbage input
        raise DownloadError("the download is not a valid PNG, JPEG or WEBP image") from exc
    if width <= 0 or height <= 0 or width * height > max_pixels:
        raise DownloadError(f"image is {width}×{height} pixels; the limit is {max_pixels:,} pixels")
    decoded: Image.Image | None = None
    try:
        with Image.open(path, formats=[kind]) as image:
            image.verify()
        decoded = Image.open(path, formats=[kind])
        decoded.load()
    except Image.DecompressionBombError as exc:
        if decoded is not None:
            decoded.close()
        raise DownloadError("image has too many pixels") from exc
    except Exception as exc:  # a header that parses, over data that is damaged or cut short
        if decoded is not None:
            decoded.close()
        raise DownloadError(
            f"the {kind} image is damaged or cut short", retryable=True
        ) from exc
    if kind not in FORMAT_EXTENSIONS or not _COMPLETE[kind](path):
        decoded.close()
        if kind not in FORMAT_EXTENSIONS:  # pragma: no cover - formats= already restricts this
            raise DownloadError("the download is not a PNG, JPEG or WEBP image")
        raise DownloadError(f"the {kind} image was cut short (no end marker)", retryable=True)
    if not keep:
        decoded.close()
        return FORMAT_EXTENSIONS[kind], None
    return FORMAT_EXTENSIONS[kind], decoded


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _copy_exclusive(source: Path, target: Path, mode: int) -> None:
    """Copy for file systems without hard links; FileExistsError when ``target`` exists."""
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), mode)
    try:
        with open(source, "rb") as src, os.fdopen(fd, "wb", closefd=False) as dst:
            while chunk := src.read(MiB):
                dst.write(chunk)
            dst.flush()
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise
    os.close(fd)


class Downloader:
    """Downloads output images; owns a token-free httpx client that never follows redirects."""

    def __init__(
        self,
        *,
        api_base: str,
        max_bytes: int = 256 * MiB,
        max_pixels: int = 64_000_000,
        transport: httpx.AsyncBaseTransport | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        deadline: float = 300.0,
        attempts: int = 3,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_redirects: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 10.0,
        after_save: SavedHook | None = None,
    ) -> None:
        self.api_base = api_base
        self.after_save = after_save
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.deadline = deadline
        self.attempts = max(1, attempts)
        self.max_redirects = max_redirects
        self._sleep = sleep
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._file_mode = _default_file_mode()
        self._saving = ThreadPoolExecutor(_SAVING_THREADS, thread_name_prefix="image-save")
        self._transport = transport
        self._timeouts = (read_timeout, connect_timeout)
        self._clients: dict[str, httpx.AsyncClient] = {}  # by scheme, built by the first download
        self._closed = False

    def _client_for(self, url: httpx.URL) -> httpx.AsyncClient:
        """The client for ``url``'s scheme: only an ``https`` download loads the CA bundle."""
        client = self._clients.get(url.scheme)
        if client is None:
            if self._closed:
                raise RuntimeError("the downloader has been closed")
            import httpx

            read_timeout, connect_timeout = self._timeouts
            client = httpx.AsyncClient(
                transport=self._transport,
                verify=tls_context() if url.scheme == "https" else no_tls_context(),
                follow_redirects=False,
                timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            )
            self._clients[url.scheme] = client
        return client

    async def aclose(self) -> None:
        self._closed = True
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
        self._saving.shutdown(wait=False)  # saves under way finish (and clean up) on their own

    async def __aenter__(self) -> Downloader:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _check(self, url: str) -> httpx.URL:
        try:
            return check_download_url(url, api_base=self.api_base)
        except UnsafeUrl as exc:
            raise DownloadError(f"refused to download: {exc}") from exc

    async def download(
        self,
        url: str,
        directory: Path,
        filename: str,
        *,
        on_progress: Callable[[int, int | None], None] | None = None,
        before_commit: Callable[[Path], None] | None = None,
    ) -> Path:
        """Save the image at ``url`` into ``directory``; return the final path.

        ``filename``'s extension is replaced by the real format's; an existing file is never
        overwritten (``name-1.png`` …). Raises :class:`DownloadError` (``retryable`` when the
        trouble was the network and the caller may try again later).
        """
        checked = self._check(url)  # refused before any request is made
        directory = Path(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = "part of its path is a file" if isinstance(exc, FileExistsError) else exc.strerror
            raise DownloadError(
                f"can't create the output folder {directory}: {reason}", local=True
            ) from exc
        name = safe_component(filename)
        stem, suffix = os.path.splitext(name)
        if suffix.lower() not in _IMAGE_SUFFIXES:
            stem = name
        for attempt in range(1, self.attempts + 1):
            try:
                return await self._attempt(checked, directory, stem, on_progress, before_commit)
            except DownloadError as exc:
                if not exc.retryable or attempt >= self.attempts:
                    raise
            await self._sleep(min(self._max_backoff, self._backoff * 2 ** (attempt - 1)))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self,
        url: httpx.URL,
        directory: Path,
        stem: str,
        on_progress: Callable[[int, int | None], None] | None,
        before_commit: Callable[[Path], None] | None,
    ) -> Path:
        import httpx  # loaded by ``_client_for`` already; here for the exception types

        try:
            fd, temp = create_temp(directory)
        except OSError as exc:
            raise DownloadError(
                f"can't write to the output folder {directory}: {exc.strerror}", local=True
            ) from exc
        try:
            try:
                with os.fdopen(fd, "wb") as sink:
                    async with asyncio.timeout(self.deadline):
                        await self._fetch(url, sink, on_progress)
            except TimeoutError as exc:
                raise DownloadError(
                    f"download took longer than {self.deadline:g} s", retryable=True
                ) from exc
            except httpx.DecodingError as exc:
                raise DownloadError("the download's content encoding is corrupt") from exc
            except httpx.TransportError as exc:
                raise DownloadError(
                    f"download interrupted ({type(exc).__name__})", retryable=True
                ) from exc
            except OSError as exc:
                raise DownloadError(
                    f"can't write the download in {directory}: {exc.strerror}", local=True
                ) from exc
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        # From here the saving thread owns the temp file and removes it whatever happens.
        saving = self._saving.submit(self._save, temp, directory, stem, before_commit)
        try:
            return await asyncio.wrap_future(saving)
        except asyncio.CancelledError:
            if saving.cancel():  # never started: the temp file is still this side's to remove
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
            raise

    def _save(
        self,
        temp: Path,
        directory: Path,
        stem: str,
        before_commit: Callable[[Path], None] | None,
    ) -> Path:
        """(On a saving thread) verify, hook, one fsync, link into place; the final path."""
        after_save = self.after_save
        pixels: Image.Image | None = None
        try:
            try:
                ext, pixels = _verified(
                    temp, max_pixels=self.max_pixels, keep=after_save is not None
                )
                if before_commit is not None:
                    before_commit(temp)
                final = self._commit(temp, directory, stem, ext)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
            if after_save is not None and pixels is not None:
                with contextlib.suppress(Exception):  # previews are a convenience; the image is safe
                    after_save(final, pixels)
        finally:
            if pixels is not None:
                pixels.close()
        return final

    async def _fetch(
        self,
        url: httpx.URL,
        sink: BinaryIO,
        on_progress: Callable[[int, int | None], None] | None,
    ) -> None:
        """GET ``url`` (following checked redirects) and write the decoded body to ``sink``."""
        for _hop in range(self.max_redirects + 1):
            client = self._client_for(url)
            client.cookies.clear()  # nothing a server sets travels to the next hop
            async with client.stream("GET", url) as response:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    url = self._next_hop(url, response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise DownloadError(
                        f"download failed: HTTP {response.status_code}",
                        retryable=response.status_code in _RETRY_STATUSES,
                    )
                declared = self._content_length(response)
                encoded = response.headers.get("content-encoding", "identity").lower()
                total = declared if encoded in {"", "identity"} else None
                if total is not None and total > self.max_bytes:
                    raise self._too_big()
                done = 0
                last_report = 0.0
                async for chunk in response.aiter_bytes():
                    done += len(chunk)
                    if done > self.max_bytes:
                        raise self._too_big()
                    sink.write(chunk)
                    if on_progress is not None and time.monotonic() - last_report >= _PROGRESS_EVERY:
                        last_report = time.monotonic()
                        on_progress(done, total)
                if (declared is not None and response.num_bytes_downloaded != declared) or (
                    total is not None and done != total
                ):
                    raise DownloadError(
                        f"download truncated: {response.num_bytes_downloaded:,} of "
                        f"{declared:,} bytes",
                        retryable=True,
                    )
                if on_progress is not None:
                    on_progress(done, total)
                return
        raise DownloadError(f"more than {self.max_redirects} redirects")

    def _next_hop(self, current: httpx.URL, location: str) -> httpx.URL:
        if _RAW_FORBIDDEN.search(location):
            raise DownloadError("refused to download: redirect URL has spaces, backslashes or controls")
        import httpx

        try:
            joined = current.join(location)
        except (httpx.InvalidURL, ValueError) as exc:
            raise DownloadError("refused to download: invalid redirect URL") from exc
        return self._check(str(joined))

    @staticmethod
    def _content_length(response: httpx.Response) -> int | None:
        try:
            value = int(response.headers["content-length"])
        except (KeyError, ValueError):
            return None
        return value if value >= 0 else None

    def _too_big(self) -> DownloadError:
        return DownloadError(f"download larger than {self.max_bytes:,} bytes; aborted")

    def _commit(self, temp: Path, directory: Path, stem: str, ext: str) -> Path:
        """Give the verified temp file its final name without ever replacing an existing file."""
        try:
            os.chmod(temp, self._file_mode)
            fd = os.open(temp, os.O_RDONLY)
            try:
                os.fsync(fd)  # the one fsync: the body and what before_commit wrote into it
            finally:
                os.close(fd)
            use_copy = False
            for number in range(10_000):
                final = directory / (f"{stem}.{ext}" if number == 0 else f"{stem}-{number}.{ext}")
                try:
                    if use_copy:
                        _copy_exclusive(temp, final, self._file_mode)
                    else:
                        os.link(temp, final)
                except FileExistsError:
                    continue
                except OSError as exc:
                    if use_copy or exc.errno not in _LINK_UNSUPPORTED:
                        raise
                    use_copy = True  # no hard links here (FAT, some network mounts)
                    try:
                        _copy_exclusive(temp, final, self._file_mode)
                    except FileExistsError:
                        continue
                os.unlink(temp)
                _fsync_dir(directory)
                return final
        except OSError as exc:
            raise DownloadError(
                f"can't save the image in {directory}: {exc.strerror or exc}", local=True
            ) from exc
        raise DownloadError(f"too many files named {stem}-N.{ext} already", local=True)
