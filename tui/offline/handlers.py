"""Request handlers of the offline Model API: validation, job answers, faults, file serving.

Kept apart from :mod:`tui.offline.server` (lifecycle and knobs) so each stays readable. Every
handler counts its request first, then checks the token, then applies the picked fault.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
from collections.abc import Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from ..api.schemas import EditInput, TextToImageInput
from .faults import Fault, FaultPicker
from .render import render_image
from .responses import (
    Answer,
    abort,
    deliver,
    early_fault_answer,
    error_answer,
    hang,
    json_answer,
)
from .simulation import HOSTILE_ERROR, JobView, ServerStats, Simulation, shape_output

__all__ = ["MODEL_PREFIX", "OFFLINE_CATALOG_ENTRY", "ApiHandlers"]

MODEL_PREFIX = "openai/gpt-image-2/"
# The offline catalog: free, and labelled so nobody mistakes it for RunComfy's price.
OFFLINE_CATALOG_ENTRY: dict[str, Any] = {
    "base_price_usd": 0,
    "price_unit": "image",
    "offline": True,
}
_INPUTS: dict[str, type[BaseModel]] = {"text-to-image": TextToImageInput, "edit": EditInput}


def _credentials(request: web.Request) -> str:
    """What the client sent as Authorization (a hostile server echoing it back)."""
    return request.headers.get("Authorization", "no credentials")


class ApiHandlers:
    """The aiohttp application of one offline server; all state lives in the objects passed in."""

    def __init__(
        self,
        *,
        simulation: Simulation,
        picker: FaultPicker,
        stats: ServerStats,
        token: Callable[[], str | None],
        origin: Callable[[], str],
        also_accepts: Callable[[str], bool] = lambda given: False,
        catalog_entry: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self._simulation = simulation
        self._picker = picker
        self._stats = stats
        self._token = token
        self._origin = origin
        self._also_accepts = also_accepts
        self._catalog_entry = catalog_entry
        self._images: dict[str, bytes] = {}  # file name -> PNG bytes
        self._renders: dict[str, asyncio.Future[bytes]] = {}  # request_id -> render in flight

    @property
    def _base_url(self) -> str:
        return f"{self._origin()}/v1"

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/v1/models/{model_id:.+}", self._submit)
        app.router.add_get("/v1/models/{model_id:.+}", self._catalog)
        app.router.add_get("/v1/requests/{request_id}/status", self._status)
        app.router.add_get("/v1/requests/{request_id}/result", self._result)
        app.router.add_post("/v1/requests/{request_id}/cancel", self._cancel)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_get("/v1/files/{name}", self._file)
        return app

    # -- helpers -----------------------------------------------------------------------------

    def token_refused(self, request: web.Request) -> Answer | None:
        """The 400004 answer when the request lacks the required token (or one signed in here)."""
        expected = self._token()
        if expected is None:
            return None
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and (
            hmac.compare_digest(
                given.strip().encode("utf-8", "replace"), expected.encode("utf-8", "replace")
            )
            or self._also_accepts(given.strip())
        ):
            return None
        self._stats.add("requests_with_bad_token")
        return error_answer(400, 400004, "Access token is missing, expired or revoked.")

    async def _begin(self, request: web.Request, route: str) -> tuple[Fault | None, Any]:
        """Token check and fault pick. Returns (fault, early response or None)."""
        refused = self.token_refused(request) if route != "files" else None
        if refused is not None:
            return None, await deliver(request, refused, None, self._picker.drip_seconds(None))
        fault = self._picker.pick(route)
        if fault is not None:
            self._stats.add_fault(fault)
        if fault is Fault.RESET:
            return fault, await abort(request)
        if fault is Fault.HANG:
            return fault, await hang(request)
        early = early_fault_answer(fault, self._picker.config.retry_after)
        if early is not None:
            return fault, await deliver(request, early, None, self._picker.drip_seconds(fault))
        return fault, None

    async def _send(self, request: web.Request, answer: Answer, fault: Fault | None) -> Any:
        return await deliver(request, answer, fault, self._picker.drip_seconds(fault))

    def _urls(self, request_id: str) -> dict[str, str]:
        base = f"{self._base_url}/requests/{request_id}"
        return {"status_url": f"{base}/status", "result_url": f"{base}/result"}

    def _unknown(self, request_id: str) -> Answer:
        return error_answer(404, 404001, f"Request {request_id[:64]} not found.")

    def _start_render(self, job: JobView) -> asyncio.Future[bytes]:
        """The job's PNG, rendered once in the default executor (call from the server loop)."""
        future = self._renders.get(job.request_id)
        if future is None:
            render = functools.partial(
                render_image,
                job.prompt,
                job.size,
                reference_count=job.reference_count,
                request_id=job.request_id,
            )
            future = asyncio.get_running_loop().run_in_executor(None, render)
            self._renders[job.request_id] = future

            def stored(done: asyncio.Future[bytes], name: str = job.files[0]) -> None:
                if done.cancelled() or done.exception() is not None:
                    self._renders.pop(job.request_id, None)  # let the next request retry
                else:
                    self._images[name] = done.result()

            future.add_done_callback(stored)
        return future

    async def _image(self, job: JobView) -> bytes:
        cached = self._images.get(job.files[0])
        if cached is not None:
            return cached
        return await asyncio.shield(self._start_render(job))

    # -- routes ------------------------------------------------------------------------------

    async def _submit(self, request: web.Request) -> Any:
        model_id = request.match_info["model_id"]
        endpoint = model_id.removeprefix(MODEL_PREFIX)
        self._stats.add_submit(endpoint)
        fault, early = await self._begin(request, "submit")
        if early is not None:
            return early
        schema = _INPUTS.get(endpoint) if model_id.startswith(MODEL_PREFIX) else None
        if schema is None:
            return await self._send(
                request, error_answer(400, 400001, f"Unknown model id {model_id[:100]!r}."), fault
            )
        try:
            body = await request.json()
        except ValueError:
            return await self._send(
                request,
                error_answer(422, 422001, "Request body is not valid JSON.", detail=[]),
                fault,
            )
        try:
            parsed = schema.model_validate(body)
        except ValidationError as error:
            detail = error.errors(include_url=False, include_context=False, include_input=False)
            return await self._send(
                request, error_answer(422, 422001, "Input validation failed.", detail=detail), fault
            )
        fails = fault is Fault.HOSTILE_FAILURE or self._picker.job_fails()
        fields = parsed.model_dump()
        job = self._simulation.create(
            endpoint,
            fields["prompt"],
            fields["size"],
            len(fields.get("images", ())),
            fail_error=HOSTILE_ERROR if fails else None,
        )
        urls = self._urls(job.request_id)
        payload: dict[str, Any] = {
            "request_id": job.request_id,
            **urls,
            "cancel_url": f"{self._base_url}/requests/{job.request_id}/cancel",
        }
        if fault is Fault.REPEAT_REQUEST_ID:
            payload["request_id"] = self._simulation.request_ids()[0]
        if fault is Fault.ACCEPT_WITH_ERROR:
            payload.update(error_code=500001, error_message="queued after an upstream hiccup")
        return await self._send(request, json_answer(payload), fault)

    async def _catalog(self, request: web.Request) -> Any:
        self._stats.add("catalog_gets")
        refused = self.token_refused(request)
        if refused is not None:
            return await self._send(request, refused, None)
        model_id = request.match_info["model_id"]
        if model_id.removeprefix(MODEL_PREFIX) not in _INPUTS:
            return await self._send(request, error_answer(400, 400001, "Unknown model id."), None)
        entry = self._catalog_entry() if self._catalog_entry is not None else OFFLINE_CATALOG_ENTRY
        payload = {"model_id": model_id, "display_name": f"GPT Image 2 ({model_id})", **entry}
        return await self._send(request, json_answer(payload), None)

    async def _lookup(
        self, request: web.Request, route: str, counter: str
    ) -> tuple[Fault | None, JobView | None, Any]:
        """Count, apply the route's fault, find the job: (fault, job, an answer to send now)."""
        self._stats.add(counter)
        fault, early = await self._begin(request, route)
        if early is not None:
            return fault, None, early
        request_id = request.match_info["request_id"]
        if fault is Fault.HOSTILE_FAILURE and self._simulation.get(request_id) is not None:
            self._simulation.advance(request_id, "failed", error=HOSTILE_ERROR)
        job = self._simulation.get(request_id)
        if job is None:
            return fault, None, await self._send(request, self._unknown(request_id), fault)
        return fault, job, None

    async def _status(self, request: web.Request) -> Any:
        fault, job, answered = await self._lookup(request, "status", "status_gets")
        if job is None:
            return answered
        payload: dict[str, Any] = {"request_id": job.request_id, "status": job.state}
        if fault is Fault.UNKNOWN_STATUS:
            payload["status"] = self._picker.config.unknown_status_text
        elif fault is Fault.ECHO_TOKEN:
            payload["status"] = f"held for {_credentials(request)}"
        elif job.state == "in_queue":
            payload["queue_position"] = job.queue_position
        elif job.state == "in_progress":
            payload["instance_id"] = job.instance_id
        elif job.state == "completed":
            self._start_render(job)  # so the download that follows finds it ready
        payload.update(self._urls(job.request_id))
        return await self._send(request, json_answer(payload), fault)

    async def _result(self, request: web.Request) -> Any:
        fault, job, answered = await self._lookup(request, "result", "result_gets")
        if job is None:
            return answered
        if fault is Fault.ECHO_TOKEN:
            self._simulation.advance(
                job.request_id, "failed", error=f"refused {_credentials(request)}"
            )
            job = self._simulation.get(job.request_id) or job
        output: Any = None
        if fault is Fault.RESULT_NOT_READY:
            payload = {"request_id": job.request_id, "status": "in_queue", "output": None}
            return await self._send(request, json_answer(payload), fault)
        if job.state == "completed":
            await self._image(job)
            urls = [f"{self._origin()}/files/{name}" for name in job.files]
            output = shape_output(self._picker.config.output_shape, urls)
        payload = {
            "request_id": job.request_id,
            "status": job.state,
            "output": output,
            "created_at": job.created_at,
            "finished_at": job.finished_at,
            "error": job.error,
        }
        return await self._send(request, json_answer(payload), fault)

    async def _cancel(self, request: web.Request) -> Any:
        self._stats.add("cancels")
        fault, early = await self._begin(request, "cancel")
        if early is not None:
            return early
        request_id = request.match_info["request_id"]
        outcome = self._simulation.cancel(request_id)
        if outcome is None:
            return await self._send(request, self._unknown(request_id), fault)
        cancelled, job = outcome
        payload = (
            {"outcome": "cancelled"}
            if cancelled
            else {"outcome": "not_cancellable", "status": job.state}
        )
        return await self._send(request, json_answer(payload), fault)

    async def _file(self, request: web.Request) -> Any:
        self._stats.add("downloads")
        if "Authorization" in request.headers:
            self._stats.add("download_auth_headers")
        fault, early = await self._begin(request, "files")
        if early is not None:
            return early
        name = request.match_info["name"]
        job = self._simulation.for_file(name)
        if job is None or job.state != "completed":
            return await self._send(request, error_answer(404, 404001, "File not found."), fault)
        image = await self._image(job)
        return await self._send(request, Answer(200, image, "image/png"), fault)
