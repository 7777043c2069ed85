"""The recipe of an image (prompt, endpoint, size, references, ids) kept inside the PNG itself.

:func:`embed_recipe` adds uncompressed UTF-8 ``iTXt`` chunks before ``IEND`` by byte surgery, so
the pixels are never decoded or re-encoded; :func:`read_recipe` reads them back without decoding
the image. JPEG and WEBP files are left alone. The ``gpt-image-tui:recipe`` chunk is JSON with a
``version`` field; the other ``gpt-image-tui:*`` chunks repeat single fields for other tools.
"""

from __future__ import annotations

import json
import os
import shlex
import struct
import tempfile
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..models import Endpoint, JobRequest

__all__ = [
    "CHUNK_PREFIX",
    "RECIPE_CHUNK",
    "RECIPE_VERSION",
    "Recipe",
    "RecipeError",
    "embed_chunks",
    "embed_recipe",
    "read_chunks",
    "read_recipe",
    "runcomfy_command",
]

CHUNK_PREFIX = "gpt-image-tui:"
RECIPE_CHUNK = CHUNK_PREFIX + "recipe"
RECIPE_VERSION = 1
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_CHUNKS = {b"tEXt", b"iTXt", b"zTXt"}
_MAX_TEXT_BYTES = 1 << 20  # a recipe chunk larger than this (after inflating) is not ours


class RecipeError(ValueError):
    """A PNG could not be parsed, or recipe chunks are malformed."""


@dataclass(frozen=True, slots=True)
class Recipe:
    """How an image was made: enough to make it again, or to show the official CLI command."""

    prompt: str
    endpoint: str  # "text-to-image" | "edit"
    size: str
    references: tuple[str, ...]
    request_id: str
    parent_request_id: str | None
    app_version: str
    created_at: str  # ISO 8601

    @classmethod
    def for_request(
        cls,
        request: JobRequest,
        request_id: str,
        *,
        parent_request_id: str | None = None,
        created_at: datetime | None = None,
        app_version: str = __version__,
    ) -> Recipe:
        """The recipe of ``request``; ``created_at`` defaults to now (UTC)."""
        when = created_at or datetime.now(UTC)
        return cls(
            prompt=request.prompt,
            endpoint=request.endpoint.value,
            size=request.size,
            references=tuple(request.images),
            request_id=request_id,
            parent_request_id=parent_request_id,
            app_version=app_version,
            created_at=when.isoformat(timespec="seconds"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: every field plus ``"version"``."""
        data = asdict(self)
        data["references"] = list(self.references)
        return {"version": RECIPE_VERSION, **data}

    def to_chunks(self) -> dict[str, str]:
        """Text chunks to embed: the JSON recipe and readable single fields, all prefixed."""
        chunks = {
            CHUNK_PREFIX + "prompt": self.prompt,
            CHUNK_PREFIX + "endpoint": self.endpoint,
            CHUNK_PREFIX + "size": self.size,
            CHUNK_PREFIX + "request_id": self.request_id,
        }
        if self.parent_request_id:
            chunks[CHUNK_PREFIX + "parent_request_id"] = self.parent_request_id
        chunks[RECIPE_CHUNK] = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)
        return chunks

    @classmethod
    def from_chunks(cls, chunks: Mapping[str, str]) -> Recipe:
        """Rebuild a recipe from :meth:`to_chunks` output (extra keys ignored).

        Raises :class:`RecipeError` when the recipe chunk is missing, not JSON, from a newer
        version, or has fields of the wrong type.
        """
        raw = chunks.get(RECIPE_CHUNK)
        if raw is None:
            raise RecipeError("no recipe chunk")
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise RecipeError("the recipe chunk is not JSON") from exc
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: object) -> Recipe:
        """Validate and upgrade the JSON form (see :meth:`to_dict`)."""
        if not isinstance(data, dict):
            raise RecipeError("the recipe is not an object")
        version = data.get("version")
        if not isinstance(version, int) or version < 1:
            raise RecipeError("the recipe has no valid version")
        if version > RECIPE_VERSION:
            raise RecipeError(f"recipe version {version} is newer than this app understands")
        # Upgrade steps from older versions go here (version 1 is the first).
        strings = ("prompt", "endpoint", "size", "request_id", "app_version", "created_at")
        for name in strings:
            if not isinstance(data.get(name), str):
                raise RecipeError(f"recipe field {name!r} is missing or not text")
        references = data.get("references", [])
        if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
            raise RecipeError("recipe field 'references' is not a list of text")
        parent = data.get("parent_request_id")
        if parent is not None and not isinstance(parent, str):
            raise RecipeError("recipe field 'parent_request_id' is not text")
        if data["endpoint"] not in {e.value for e in Endpoint}:
            raise RecipeError("recipe field 'endpoint' is not a known endpoint")
        return cls(
            prompt=data["prompt"],
            endpoint=data["endpoint"],
            size=data["size"],
            references=tuple(references),
            request_id=data["request_id"],
            parent_request_id=parent,
            app_version=data["app_version"],
            created_at=data["created_at"],
        )


# --- PNG chunks --------------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _itxt(keyword: str, text: str) -> bytes:
    """An uncompressed iTXt chunk: keyword NUL, flag 0, method 0, no language, no translation."""
    key = keyword.encode("latin-1")
    if not 1 <= len(key) <= 79:
        raise RecipeError(f"PNG keyword {keyword!r} must be 1–79 bytes")
    header = key + b"\x00" + b"\x00\x00" + b"\x00" + b"\x00"  # NUL, flag, method, lang, transl.
    body = header + text.replace("\x00", "").encode("utf-8")
    return _chunk(b"iTXt", body)


def _chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """``(type, data start, data end)`` for every chunk up to and including IEND."""
    if not data.startswith(PNG_SIGNATURE):
        raise RecipeError("not a PNG file")
    found: list[tuple[bytes, int, int]] = []
    offset = len(PNG_SIGNATURE)
    while offset + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        kind = data[offset + 4 : offset + 8]
        start, end = offset + 8, offset + 8 + length
        if end + 4 > len(data):
            raise RecipeError("the PNG is truncated")
        found.append((kind, start, end))
        if kind == b"IEND":
            return found
        offset = end + 4
    raise RecipeError("the PNG has no IEND chunk")


def _keyword(body: bytes) -> str | None:
    end = body.find(b"\x00", 0, 80)
    return body[:end].decode("latin-1") if end > 0 else None


def _decode_text(kind: bytes, body: bytes) -> tuple[str, str] | None:
    """``(keyword, text)`` of a tEXt/zTXt/iTXt chunk, or None when it is malformed."""
    keyword = _keyword(body)
    if keyword is None:
        return None
    rest = body[len(keyword) + 1 :]
    try:
        if kind == b"tEXt":
            return keyword, rest.decode("latin-1")
        if kind == b"zTXt":
            return keyword, _inflate(rest[1:]).decode("latin-1")
        flag, _method = rest[0], rest[1]
        language_end = rest.index(b"\x00", 2)
        translated_end = rest.index(b"\x00", language_end + 1)
        text = rest[translated_end + 1 :]
        return keyword, (_inflate(text) if flag else text).decode("utf-8")
    except (IndexError, ValueError, zlib.error):
        return None


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, _MAX_TEXT_BYTES)
    if inflater.unconsumed_tail:
        raise ValueError("compressed text is too large")
    return out


def _is_png(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(PNG_SIGNATURE)) == PNG_SIGNATURE


def embed_recipe(path: Path, recipe: Recipe, *, durable: bool = True) -> bool:
    """Write ``recipe`` into the PNG at ``path`` in place; pixels are untouched.

    Earlier ``gpt-image-tui:*`` chunks are replaced. The file is rewritten atomically (temp file
    in the same folder, fsync, then ``os.replace``) with its permissions kept. With
    ``durable=False`` — for a file nobody can see yet, such as a download's hidden temp file,
    whose saver fsyncs it once before giving it its name — only the bytes from the first changed
    chunk on are rewritten, in place, without a temp file or an fsync. Returns False, changing
    nothing, when the file is not a PNG (JPEG, WEBP). Raises :class:`RecipeError` for a broken
    PNG.
    """
    path = Path(path)
    if not _is_png(path):
        return False
    data = path.read_bytes()
    content = embed_chunks(data, recipe.to_chunks())
    if durable:
        _write_atomic(path, content)
    else:
        _write_tail(path, content, _unchanged_prefix(data))
    return True


def _unchanged_prefix(data: bytes) -> int:
    """How many leading bytes :func:`embed_chunks` keeps as they are: up to the first chunk of
    ours it drops, or IEND (before which it inserts)."""
    for kind, start, end in _chunks(data):
        if kind == b"IEND" or (
            kind in _TEXT_CHUNKS and (_keyword(data[start:end]) or "").startswith(CHUNK_PREFIX)
        ):
            return start - 8
    return len(data)


def _write_tail(path: Path, content: bytes, keep: int) -> None:
    """Make the file at ``path`` hold ``content``, whose first ``keep`` bytes it already has."""
    with path.open("r+b") as handle:
        handle.seek(keep)
        handle.write(memoryview(content)[keep:])
        handle.truncate()


def embed_chunks(data: bytes, chunks: Mapping[str, str]) -> bytes:
    """The PNG ``data`` with ``chunks`` (keyword → text) as iTXt chunks before IEND.

    Earlier ``gpt-image-tui:*`` chunks are dropped; pixels are untouched. Raises
    :class:`RecipeError` for a broken PNG.
    """
    kept: list[bytes] = [PNG_SIGNATURE]
    for kind, start, end in _chunks(data):
        if kind in _TEXT_CHUNKS and (_keyword(data[start:end]) or "").startswith(CHUNK_PREFIX):
            continue
        if kind == b"IEND":
            kept.extend(_itxt(key, text) for key, text in chunks.items())
        kept.append(data[start - 8 : end + 4])
    return b"".join(kept)


def _write_atomic(path: Path, content: bytes) -> None:
    mode = path.stat().st_mode & 0o7777
    fd, temp = tempfile.mkstemp(
        dir=path.parent, prefix=f".gpt-image-tui-{os.getpid()}-", suffix=".part"
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def read_chunks(path: Path) -> dict[str, str]:
    """Every ``gpt-image-tui:*`` text chunk of the PNG at ``path``; empty when none or not PNG."""
    try:
        data = Path(path).read_bytes()
        chunks = _chunks(data)
    except (OSError, RecipeError):
        return {}
    found: dict[str, str] = {}
    for kind, start, end in chunks:
        if kind not in _TEXT_CHUNKS:
            continue
        decoded = _decode_text(kind, data[start:end])
        if decoded and decoded[0].startswith(CHUNK_PREFIX):
            found.setdefault(decoded[0], decoded[1])
    return found


def read_recipe(path: Path) -> Recipe | None:
    """The recipe embedded in the PNG at ``path``, or None (no recipe, garbled, not a PNG)."""
    try:
        return Recipe.from_chunks(read_chunks(path))
    except RecipeError:
        return None


def runcomfy_command(recipe: Recipe, *, output_dir: Path | None = None) -> str:
    """The official CLI command that makes the same request, quoted for a POSIX shell.

    Text-to-image requests never carry ``images``.
    """
    endpoint = Endpoint(recipe.endpoint)
    payload: dict[str, Any] = {"prompt": recipe.prompt}
    if endpoint is Endpoint.EDIT:
        payload["images"] = list(recipe.references)
    payload["size"] = recipe.size
    parts = [
        "runcomfy",
        "run",
        endpoint.model_id,
        "--input",
        json.dumps(payload, ensure_ascii=False),
    ]
    if output_dir is not None:
        parts += ["--output-dir", str(output_dir)]
    return " ".join(shlex.quote(part) for part in parts)
