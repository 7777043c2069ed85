"""The official CLI's own words for ``run``: ``run MODEL_ID --input JSON | --input-file PATH``.

``gpt-image-tui run openai/gpt-image-2/text-to-image --input '{"prompt": "…", "size": "1024_1536"}'``
runs unchanged, so a line copied from the model's guide works here. The model id picks the
endpoint and must agree with the body (an edit needs ``images``; text-to-image takes none); the
body is checked against the endpoint's input schema (unknown fields refused) before anything is
sent. ``--poll-secs`` and ``--no-download`` are the official flags; ``--output json`` (global,
as the official CLI's) means compact JSON. The form is turned into the app's own
``run PROMPT --size … --image …`` arguments, so both forms go through the same engine.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..models import Endpoint
from ..trust.sanitize import clean_text
from .exits import EXIT_INPUT, EXIT_USAGE, CommandExit

__all__ = ["MAX_INPUT_BYTES", "MODEL_IDS", "apply_official_form", "apply_output_flag"]

MODEL_IDS: dict[str, Endpoint] = {endpoint.model_id: endpoint for endpoint in Endpoint}
MAX_INPUT_BYTES = 1024 * 1024


def apply_output_flag(args: argparse.Namespace) -> None:
    """The official global ``--output json`` is this app's ``--json`` (compact JSON on stdout)."""
    if getattr(args, "output", None) == "json" and hasattr(args, "json"):
        args.json = True


def _read_input_file(path: str) -> str:
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        else:
            with Path(path).expanduser().open("rb") as handle:
                data = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        shown = clean_text(path, limit=120)
        raise CommandExit(EXIT_INPUT, f"--input-file: can't read {shown}: {exc.strerror}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise CommandExit(EXIT_INPUT, f"--input-file: more than {MAX_INPUT_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandExit(EXIT_INPUT, "--input-file: not UTF-8 text") from None


def _body(args: argparse.Namespace) -> Any:
    flag = "--input" if args.input is not None else "--input-file"
    raw = args.input if args.input is not None else _read_input_file(args.input_file)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        reason = clean_text(exc, limit=120)
        raise CommandExit(EXIT_INPUT, f"invalid input — {flag}: not valid JSON ({reason})") from None


def _check_body(body: Any, endpoint: Endpoint) -> dict[str, Any]:
    if not isinstance(body, dict):
        kind = {list: "an array", str: "a string", type(None): "null"}.get(type(body), "not an object")
        raise CommandExit(EXIT_INPUT, f"invalid input — the input must be a JSON object, got {kind}")
    if endpoint is Endpoint.TEXT_TO_IMAGE and "images" in body:
        raise CommandExit(
            EXIT_INPUT,
            f"invalid input — {endpoint.model_id} takes no images; "
            f"use {Endpoint.EDIT.model_id} to edit reference images",
        )
    if endpoint is Endpoint.EDIT and not body.get("images"):
        raise CommandExit(
            EXIT_INPUT,
            f"invalid input — {endpoint.model_id} needs \"images\": 1 to 10 https URLs "
            f"(without references use {Endpoint.TEXT_TO_IMAGE.model_id})",
        )
    from pydantic import ValidationError  # only this form validates a body here

    from ..api.schemas import EditInput, TextToImageInput

    schema = EditInput if endpoint is Endpoint.EDIT else TextToImageInput
    try:
        schema.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'input'}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)[:5]
        )
        raise CommandExit(EXIT_INPUT, f"invalid input — {clean_text(problems, limit=600)}") from None
    return body


def apply_official_form(args: argparse.Namespace) -> None:
    """Turn ``run MODEL_ID --input …`` into ``run PROMPT --size … --image …`` in place.

    Raises :class:`CommandExit` (64 for bad usage, 65 for a bad body) with one plain sentence.
    """
    apply_output_flag(args)
    if args.poll_secs is not None:
        args.poll_interval = args.poll_secs
    given = args.input is not None or args.input_file is not None
    target = args.prompt
    if not given:
        if target in MODEL_IDS:  # never bill the model id as a prompt
            raise CommandExit(
                EXIT_USAGE,
                f"run {target} needs the request: --input '{{\"prompt\": \"…\"}}' or "
                "--input-file PATH (- for stdin)",
            )
        return
    if args.input is not None and args.input_file is not None:
        raise CommandExit(EXIT_USAGE, "pass either --input or --input-file, not both")
    if args.size is not None or args.image:
        raise CommandExit(
            EXIT_USAGE, "with --input/--input-file, size and images go in the JSON, not --size/--image"
        )
    endpoint = MODEL_IDS.get(target)
    if endpoint is None:
        known = " or ".join(MODEL_IDS)
        shown = clean_text(target, limit=80)
        raise CommandExit(EXIT_USAGE, f"unknown model id {shown!r}: this app runs {known}")
    body = _check_body(_body(args), endpoint)
    args.prompt = body["prompt"]
    args.size = body.get("size")
    args.image = list(body.get("images") or []) or None
