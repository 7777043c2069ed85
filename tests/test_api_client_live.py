"""The Model API client against the real offline server (aiohttp on loopback, real sockets).

Faults are forced on the server, so each test sees exactly what a real network would do to it:
a connection reset after the job was created, 5xx, 429, a dripping answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import ClassVar

import pytest
from pydantic import SecretStr

from tui.api import (
    AuthError,
    BadRequestError,
    CallTimeout,
    ConnectFailed,
    ConnectionLost,
    GenerationFailed,
    ModelApiClient,
    RetryNotice,
    RetryPolicy,
    ServerError,
    SubmitOutcomeUnknown,
)
from tui.models import JobRequest
from tui.offline import Fault, FaultConfig, OfflineServer, Timing
from tui.trust.token import Token

POLICY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, call_deadline=5.0)
T2I = JobRequest("a lighthouse at dawn", "1536_1024")
EDIT = JobRequest("make it night", "auto", ("https://images.example.com/a.png",))


@pytest.fixture
def server() -> Iterator[OfflineServer]:
    with OfflineServer(timing=Timing(queue_seconds=0.05, run_seconds=0.05, queue_ahead=2)) as srv:
        yield srv


@pytest.fixture
def slow_server() -> Iterator[OfflineServer]:
    """Jobs stay queued until a test moves them with ``advance``."""
    with OfflineServer(timing=Timing(queue_seconds=1e9, run_seconds=1e9)) as srv:
        yield srv


def client_for(
    server: OfflineServer, token: Token | None = None, **policy: float
) -> ModelApiClient:
    chosen = dataclasses.replace(POLICY, **policy) if policy else POLICY
    return ModelApiClient(server.base_url, token, policy=chosen)


async def wait_terminal(client: ModelApiClient, request_id: str) -> str:
    for _ in range(200):
        answer = await client.status(request_id)
        if answer.is_terminal:
            return answer.status
        await asyncio.sleep(0.02)
    raise AssertionError("the job never finished")


@pytest.mark.parametrize(("request_", "endpoint"), [(T2I, "text-to-image"), (EDIT, "edit")])
async def test_submit_status_result_end_to_end(
    server: OfflineServer, request_: JobRequest, endpoint: str
) -> None:
    async with client_for(server) as client:
        submitted = await client.submit(request_)
        first = await client.status(submitted.request_id)
        assert first.status in {"in_queue", "in_progress", "completed"}
        assert await wait_terminal(client, submitted.request_id) == "completed"
        result = await client.result(submitted.request_id)
    assert result.status == "completed" and result.request_id == submitted.request_id
    assert result.output_urls and all(
        u.startswith(server.origin + "/files/") for u in result.output_urls
    )
    assert server.stats.submits == 1 and server.stats.submits_by_endpoint == {endpoint: 1}
    job = server.job(submitted.request_id)
    assert job is not None and job.prompt == request_.prompt


async def test_reset_after_accept_is_outcome_unknown_and_never_resubmitted(
    server: OfflineServer,
) -> None:
    server.force("submit", Fault.RESET_AFTER_ACCEPT)
    async with client_for(server) as client:
        with pytest.raises(SubmitOutcomeUnknown) as caught:
            await client.submit(T2I)
    assert isinstance(caught.value.cause, ConnectionLost)
    assert "may have run and been billed" in str(caught.value)
    assert server.stats.submits == 1


@pytest.mark.parametrize("fault", [Fault.HTTP_500, Fault.HTTP_502, Fault.HTTP_503, Fault.RESET])
async def test_ambiguous_submit_failures_send_one_post(server: OfflineServer, fault: Fault) -> None:
    server.force("submit", fault)
    async with client_for(server) as client:
        with pytest.raises(SubmitOutcomeUnknown) as caught:
            await client.submit(T2I)
    assert isinstance(caught.value.cause, ServerError if fault != Fault.RESET else ConnectionLost)
    assert server.stats.submits == 1


async def test_submit_429_is_retried_then_succeeds(server: OfflineServer) -> None:
    server.faults = FaultConfig(retry_after=0.05)
    server.force("submit", Fault.RATE_LIMIT_429)
    notices: list[RetryNotice] = []
    async with client_for(server) as client:
        submitted = await client.submit(T2I, on_retry=notices.append)
    assert server.job_state(submitted.request_id) is not None
    assert server.stats.submits == 2
    assert [(n.operation, n.attempt, n.delay) for n in notices] == [("submit", 1, 0.05)]


async def test_submit_to_a_closed_port_is_connect_failed(server: OfflineServer) -> None:
    base = server.base_url
    server.stop()
    async with ModelApiClient(base, None, policy=POLICY) as client:
        with pytest.raises(ConnectFailed):
            await client.submit(T2I)


@pytest.mark.parametrize(
    "faults",
    [
        (Fault.HTTP_500,),
        (Fault.HTTP_503, Fault.RESET),
        (Fault.RESET, Fault.HTTP_502, Fault.RATE_LIMIT_429),
    ],
)
async def test_status_rides_out_5xx_and_resets(
    server: OfflineServer, faults: tuple[Fault, ...]
) -> None:
    async with client_for(server) as client:
        submitted = await client.submit(T2I)
        server.force("status", *faults)
        notices: list[RetryNotice] = []
        answer = await client.status(submitted.request_id, on_retry=notices.append)
    assert answer.request_id == submitted.request_id
    assert server.stats.status_gets == len(faults) + 1
    assert [n.attempt for n in notices] == list(range(1, len(faults) + 1))


async def test_result_and_cancel_ride_out_faults(slow_server: OfflineServer) -> None:
    async with client_for(slow_server) as client:
        submitted = await client.submit(T2I)
        slow_server.force("cancel", Fault.HTTP_503)
        cancelled = await client.cancel(submitted.request_id)
        slow_server.force("result", Fault.RESET)
        result = await client.result(submitted.request_id)
    assert cancelled.accepted and result.status == "cancelled"
    assert slow_server.stats.cancels == 2 and slow_server.stats.result_gets == 2


async def test_persistent_5xx_gives_up_with_server_error(server: OfflineServer) -> None:
    async with client_for(server) as client:
        submitted = await client.submit(T2I)
        server.force("status", *[Fault.HTTP_500] * POLICY.max_attempts)
        with pytest.raises(ServerError) as caught:
            await client.status(submitted.request_id)
    assert caught.value.error_code == 500001 and caught.value.exit_code == 69


async def test_dripping_answer_is_cut_by_the_call_deadline(server: OfflineServer) -> None:
    async with client_for(server) as client:
        submitted = await client.submit(T2I)
        server.faults = FaultConfig(drip_seconds=30.0)
        server.force("status", Fault.DRIP)
        started = time.monotonic()
        with pytest.raises(CallTimeout):
            async with ModelApiClient(
                server.base_url, None, policy=RetryPolicy(max_attempts=1, call_deadline=0.3)
            ) as impatient:
                await impatient.status(submitted.request_id)
        # Not cut, it would wait 30 s for the second byte (the read timeout is 30 s too).
        assert time.monotonic() - started < 15.0
        server.faults = FaultConfig()


async def test_dripping_submit_is_outcome_unknown(server: OfflineServer) -> None:
    # The answer (over 300 bytes, one per 0.2 s) takes a minute: the deadline surely cuts
    # it. The deadline is long enough for the POST to surely reach the server first (0.3 s was
    # not, on a loaded machine: then nothing was sent and the test's premise did not hold).
    server.faults = FaultConfig(drip_seconds=0.2)
    server.force("submit", Fault.DRIP)
    async with client_for(server, call_deadline=2.0) as client:
        with pytest.raises(SubmitOutcomeUnknown) as caught:
            await client.submit(T2I)
    assert isinstance(caught.value.cause, CallTimeout)
    assert server.stats.submits == 1
    server.faults = FaultConfig()


async def test_unknown_status_is_returned_not_raised(server: OfflineServer) -> None:
    server.faults = FaultConfig(unknown_status_text="warming_up")
    async with client_for(server) as client:
        submitted = await client.submit(T2I)
        server.force("status", Fault.UNKNOWN_STATUS)
        answer = await client.status(submitted.request_id)
    assert answer.status == "warming_up" and not answer.is_known and not answer.is_terminal


async def test_hostile_failure_text_never_reaches_an_error_unsanitised(
    server: OfflineServer,
) -> None:
    async with client_for(server) as client:
        submitted = await client.submit(T2I)
        server.force("result", Fault.HOSTILE_FAILURE)
        result = await client.result(submitted.request_id)
    assert result.status == "failed" and not result.output_urls
    assert "\x1b" in str(result.error)  # the raw answer is data, kept as the server sent it
    message = str(GenerationFailed(f"generation failed: {result.error}"))
    assert "GPU on fire" in message
    assert not any(c in message for c in "\x1b\x07\x9b")


async def test_unknown_request_id_is_bad_request(server: OfflineServer) -> None:
    async with client_for(server) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.status("doesnotexist")
    assert caught.value.status == 404 and caught.value.error_code == 404001
    assert server.stats.status_gets == 1  # 404 is not retried


async def test_wrong_token_is_auth_error_without_the_token() -> None:
    wrong = "rc_WRONG_token_value_42"
    with OfflineServer(require_token="rc_right_token") as srv:
        token = Token(SecretStr(wrong), "test")
        async with ModelApiClient(srv.base_url, token, policy=POLICY) as client:
            with pytest.raises(AuthError) as caught:
                await client.submit(T2I)
            with pytest.raises(AuthError):
                await client.status("abc")
        async with ModelApiClient(srv.base_url, None, policy=POLICY) as client:
            with pytest.raises(AuthError):
                await client.status("abc")
        right = Token(SecretStr("rc_right_token"), "test")
        async with ModelApiClient(srv.base_url, right, policy=POLICY) as client:
            submitted = await client.submit(T2I)
    error = caught.value
    assert error.exit_code == 77 and error.status == 400 and error.error_code == 400004
    assert wrong not in str(error) and wrong not in repr(error)
    assert srv.stats.requests_with_bad_token == 3 and srv.stats.submits == 2
    assert submitted.request_id


async def test_cancel_while_queued_is_accepted(slow_server: OfflineServer) -> None:
    async with client_for(slow_server) as client:
        submitted = await client.submit(T2I)
        answer = await client.cancel(submitted.request_id)
        status = await client.status(submitted.request_id)
    assert answer.accepted and answer.outcome == "cancelled"
    assert status.status == "cancelled"


async def test_cancel_while_running_is_not_cancellable(slow_server: OfflineServer) -> None:
    async with client_for(slow_server) as client:
        submitted = await client.submit(T2I)
        slow_server.advance(submitted.request_id, "in_progress")
        answer = await client.cancel(submitted.request_id)
        slow_server.advance(submitted.request_id, "completed")
        result = await client.result(submitted.request_id)
    assert not answer.accepted and answer.status == "in_progress"
    assert result.status == "completed" and result.output_urls


class _CookieSetter(http.server.BaseHTTPRequestHandler):
    """Answers every status poll "in_queue" and every cancel "cancelled", each with a fresh
    cookie, and keeps the Cookie headers the calls carried."""

    cookies_seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        self._answer({"request_id": "r-1", "status": "in_queue"})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer({"request_id": "r-1", "status": "cancelled"})

    def _answer(self, answer: dict[str, str]) -> None:
        type(self).cookies_seen.append(self.headers.get("Cookie"))
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", f"session=s{len(self.cookies_seen)}; Path=/")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


async def test_the_client_keeps_no_cookie_a_server_sets() -> None:
    """The API client is no browser: a cookie set on one answer never rides on the next call,
    poll or cancel (polls go straight to their transport, the other calls' client refuses
    every cookie)."""
    _CookieSetter.cookies_seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CookieSetter)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        client = ModelApiClient(f"http://127.0.0.1:{httpd.server_address[1]}", None,
                                policy=POLICY)
        async with client:
            for _ in range(2):
                assert (await client.status("r-1")).status == "in_queue"
                assert (await client.cancel("r-1")).status == "cancelled"
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert _CookieSetter.cookies_seen == [None, None, None, None]
