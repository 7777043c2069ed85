"""Small helpers of the engine: adopting an image a killed process had already saved, and
turning any error into one plain line."""

from __future__ import annotations

from pathlib import Path

from ..errors import GptImageError
from ..trust.sanitize import clean_text

__all__ = ["adopt_existing_output", "describe_error", "error_text"]

_EXTENSIONS = (".png", ".jpg", ".webp")


def _made_for(candidate: Path, request_id: str) -> bool:
    from ..iterate.recipe import read_recipe  # only needed for names without the request id

    recipe = read_recipe(candidate)
    return recipe is not None and recipe.request_id == request_id


def adopt_existing_output(
    directory: Path, name: str, *, request_id: str | None = None
) -> Path | None:
    """The image already saved under ``name`` (any of our extensions), if it verifies.

    Default names carry the request id, and files only ever appear by atomic rename, so a
    complete file at that name is this job's output from a run that was killed before recording
    it. A name template may leave the request id out (``{slug}.png``): then the file is adopted
    only when the recipe embedded in it names ``request_id`` — another job's image is never
    taken for this one's.
    """
    stem = Path(name).stem
    named_for_job = request_id is None or request_id[:8] in stem
    for ext in _EXTENSIONS:
        candidate = directory / f"{stem}{ext}"
        if not candidate.is_file():
            continue
        from PIL import Image, UnidentifiedImageError  # only when there is a file to check

        try:
            with Image.open(candidate, formats=["PNG", "JPEG", "WEBP"]) as image:
                image.verify()
        except (OSError, UnidentifiedImageError, SyntaxError, ValueError):
            continue
        if not named_for_job and not _made_for(candidate, str(request_id)):
            continue
        return candidate
    return None


def describe_error(error: BaseException) -> str:
    """One plain, sanitised line for any error (our own messages are already safe)."""
    if isinstance(error, GptImageError):
        return error.message
    return clean_text(f"{type(error).__name__}: {error}", limit=300)


def error_text(error: object) -> str | None:
    """The message inside a result's ``error`` field, whatever its undocumented shape."""
    if error is None:
        return None
    if isinstance(error, str):
        return clean_text(error, limit=300) or None
    if isinstance(error, dict):
        for key in ("error_message", "message", "error", "detail"):
            value = error.get(key)
            if isinstance(value, str) and value.strip():
                return clean_text(value, limit=300)
    return clean_text(error, limit=300)
