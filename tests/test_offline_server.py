"""The offline Model API server, driven over real loopback HTTP with httpx."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tui.api.schemas import collect_output_urls
from tui.offline import Fault, FaultConfig, OfflineServer, Timing, render_image
from tui.offline.responses import GZIP_BOMB_DECODED_BYTES
from tui.offline.simulation import EVIL_URL

T2I = "/models/openai/gpt-image-2/text-to-image"
EDIT = "/models/openai/gpt-image-2/edit"
FROZEN = Timing(queue_seconds=1e9, run_seconds=1e9, queue_ahead=3)
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
TLS = ssl.create_default_context()  # built once: httpx would load the CA bundle per client


def fetch(url: str, **options: object) -> httpx.Response:
    """A one-off GET, like a downloader with its own (token-free) client."""
    with httpx.Client(verify=TLS, timeout=5.0) as http:
        return http.get(url, **options)  # type: ignore[arg-type]


@pytest.fixture
def server() -> Iterator[OfflineServer]:
    """A server whose jobs never move by themselves: tests move them with ``advance``."""
    with OfflineServer(timing=FROZEN) as running:
        yield running


@pytest.fixture
def client(server: OfflineServer) -> Iterator[httpx.Client]:
    with httpx.Client(verify=TLS, base_url=server.base_url, timeout=5.0) as http:
        yield http


def submit(client: httpx.Client, prompt: str = 'a sign "HELLO"', **extra: object) -> str:
    response = client.post(T2I, json={"prompt": prompt, **extra})
    assert response.status_code == 200, response.text
    return response.json()["request_id"]


def complete(server: OfflineServer, client: httpx.Client, **extra: object) -> tuple[str, dict]:
    request_id = submit(client, **extra)
    server.advance(request_id, "completed")
    return request_id, client.get(f"/requests/{request_id}/result").json()


# -- happy path -------------------------------------------------------------------------------


def test_text_to_image_happy_path(server: OfflineServer, client: httpx.Client) -> None:
    response = client.post(T2I, json={"prompt": 'poster "JAZZ"', "size": "1536_1024"})
    body = response.json()
    request_id = body["request_id"]
    assert REQUEST_ID.fullmatch(request_id)
    base = f"{server.base_url}/requests/{request_id}"
    assert body == {
        "request_id": request_id,
        "status_url": f"{base}/status",
        "result_url": f"{base}/result",
        "cancel_url": f"{base}/cancel",
    }

    status = client.get(f"/requests/{request_id}/status").json()
    assert status["status"] == "in_queue" and status["queue_position"] == 3
    assert status["status_url"] == f"{base}/status" and status["result_url"] == f"{base}/result"

    server.advance(request_id, "in_progress")
    status = client.get(f"/requests/{request_id}/status").json()
    assert status["status"] == "in_progress" and "queue_position" not in status
    assert status["instance_id"]
    running = client.get(f"/requests/{request_id}/result").json()
    assert running["status"] == "in_progress" and running["output"] is None

    server.advance(request_id, "completed")
    assert client.get(f"/requests/{request_id}/status").json()["status"] == "completed"
    result = client.get(f"/requests/{request_id}/result").json()
    assert result["status"] == "completed" and result["error"] is None
    assert result["created_at"] and result["finished_at"]
    assert result["output"] == [f"{server.base_url[:-3]}/files/{request_id}-1.png"]

    download = fetch(result["output"][0])
    assert download.status_code == 200 and download.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(download.content)).size == (1536, 1024)
    assert download.content == render_image('poster "JAZZ"', "1536_1024", request_id=request_id)
    assert server.job_state(request_id) == "completed"


def test_edit_happy_path(server: OfflineServer, client: httpx.Client) -> None:
    images = ["https://example.com/a.png", "https://example.com/b.png"]
    response = client.post(EDIT, json={"prompt": "make it blue", "images": images})
    request_id = response.json()["request_id"]
    job = server.job(request_id)
    assert job is not None and job.size == "auto" and job.reference_count == 2
    server.advance(request_id, "completed")
    url = client.get(f"/requests/{request_id}/result").json()["output"][0]
    image = Image.open(io.BytesIO(fetch(url).content))
    assert image.size == (1024, 1024)
    assert server.stats.submits_by_endpoint == {"edit": 1}


def test_jobs_move_by_themselves_with_a_counting_queue() -> None:
    # The server's clock is turned by hand, so what each poll sees depends on the elapsed time
    # given, not on how fast this machine answers.
    now = [0.0]
    # Steps of 1/16 s are exact in binary floating point, so slot edges fall where written.
    timing = Timing(queue_seconds=0.5, run_seconds=0.25, queue_ahead=3)
    with (
        OfflineServer(timing=timing, monotonic=lambda: now[0]) as server,
        httpx.Client(verify=TLS, base_url=server.base_url) as client,
    ):
        request_id = submit(client)
        seen: list[tuple[str, int | None]] = []
        for _ in range(40):
            status = client.get(f"/requests/{request_id}/status").json()
            seen.append((status["status"], status.get("queue_position")))
            if status["status"] == "completed":
                break
            now[0] += 0.0625
    states = [state for state, _ in seen]
    assert states[-1] == "completed"
    order = ["in_queue", "in_progress", "completed"]
    assert [order.index(state) for state in states] == sorted(order.index(s) for s in states)
    assert states.count("in_progress") == 4  # 0.25 s of running, seen every 1/16 s
    positions = [position for state, position in seen if state == "in_queue"]
    assert positions == [3, 3, 2, 2, 1, 1, 0, 0]  # 0.5 s of queue in four equal slots


def test_hold_freezes_and_release_resumes() -> None:
    # The server's clock is turned by hand: nothing moves between two lines of this test
    # however long the machine takes over them (a job submitted here used to leave the queue
    # before it could be held, on a loaded machine).
    now = [0.0]
    timing = Timing(queue_seconds=0.125, run_seconds=0.125)
    with (
        OfflineServer(timing=timing, monotonic=lambda: now[0]) as server,
        httpx.Client(verify=TLS, base_url=server.base_url) as client,
    ):
        server.hold()
        request_id = submit(client)
        now[0] += 1.0
        assert server.job_state(request_id) == "in_queue"
        server.release()
        now[0] += 0.0625
        assert server.job_state(request_id) == "in_queue"  # the held second is not counted
        now[0] += 0.25
        assert server.job_state(request_id) == "completed"
        other = submit(client)
        server.hold(other)
        now[0] += 1.0
        assert server.job_state(other) == "in_queue"
        server.release(other)
        now[0] += 0.25
        assert server.job_state(other) == "completed"


# -- validation and unknown ids ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (T2I, {"prompt": "x", "size": "2048_2048"}),
        (T2I, {"prompt": "x", "images": ["https://example.com/a.png"]}),
        (T2I, {"size": "1024_1024"}),
        (T2I, {"prompt": ""}),
        (EDIT, {"prompt": "x"}),
        (EDIT, {"prompt": "x", "images": [f"https://example.com/{n}.png" for n in range(11)]}),
        (EDIT, {"prompt": "x", "images": ["https://example.com/a.png"], "size": "big"}),
        (T2I, ["not", "an", "object"]),
    ],
)
def test_invalid_bodies_get_422(client: httpx.Client, path: str, body: object) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 422
    answer = response.json()
    assert answer["error_code"] == 422001 and answer["error_message"]
    assert isinstance(answer["detail"], list) and answer["detail"]


def test_not_json_and_unknown_model(server: OfflineServer, client: httpx.Client) -> None:
    response = client.post(T2I, content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["error_code"] == 422001
    response = client.post("/models/openai/dall-e-9/text-to-image", json={"prompt": "x"})
    assert response.status_code == 400 and response.json()["error_code"] == 400001
    assert server.stats.submits == 2 and server.request_ids() == []


def test_unknown_ids_get_404(client: httpx.Client) -> None:
    for method, path in [
        ("GET", "/requests/nope/status"),
        ("GET", "/requests/nope/result"),
        ("POST", "/requests/nope/cancel"),
    ]:
        response = client.request(method, path)
        assert response.status_code == 404 and response.json()["error_code"] == 404001
    assert client.get(f"{client.base_url.copy_with(path='/files/x-1.png')}").status_code == 404


def test_files_of_unfinished_jobs_are_not_served(server: OfflineServer, client: httpx.Client):
    request_id = submit(client)
    origin = server.base_url.removesuffix("/v1")
    assert fetch(f"{origin}/files/{request_id}-1.png").status_code == 404
    server.advance(request_id, "completed")
    assert fetch(f"{origin}/files/{request_id}-1.png").status_code == 200
    assert fetch(f"{server.base_url}/files/{request_id}-1.png").status_code == 200


# -- cancel -----------------------------------------------------------------------------------


def test_cancel_while_queued(server: OfflineServer, client: httpx.Client) -> None:
    request_id = submit(client)
    response = client.post(f"/requests/{request_id}/cancel")
    assert response.status_code == 200 and response.json() == {"outcome": "cancelled"}
    assert client.get(f"/requests/{request_id}/status").json()["status"] == "cancelled"
    result = client.get(f"/requests/{request_id}/result").json()
    assert result["status"] == "cancelled" and result["output"] is None


@pytest.mark.parametrize("state", ["in_progress", "completed", "failed"])
def test_cancel_too_late(server: OfflineServer, client: httpx.Client, state: str) -> None:
    request_id = submit(client)
    server.advance(request_id, state)
    response = client.post(f"/requests/{request_id}/cancel")
    assert response.status_code == 200
    assert response.json() == {"outcome": "not_cancellable", "status": state}
    assert server.job_state(request_id) == state


# -- output shapes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "expect"),
    [
        ("string", lambda url: url),
        ("list", lambda url: [url]),
        ("images", lambda url: {"images": [url]}),
        ("nested", lambda url: {"data": {"images": [{"url": url}]}}),
        ("dict", lambda url: {"image": url}),
        ("empty", lambda url: {}),
        ("untrusted", lambda url: {"images": [EVIL_URL]}),
        ("mixed", lambda url: [url, EVIL_URL, url]),
    ],
)
def test_output_shapes(server: OfflineServer, client: httpx.Client, shape: str, expect) -> None:
    server.faults = FaultConfig(output_shape=shape)
    request_id, result = complete(server, client)
    url = f"{server.base_url.removesuffix('/v1')}/files/{request_id}-1.png"
    assert result["output"] == expect(url)
    assert result["status"] == "completed"
    if shape == "mixed":
        assert collect_output_urls(result["output"]) == [url, EVIL_URL]


# -- forced faults ----------------------------------------------------------------------------


def test_reset_raises_a_transport_error(server: OfflineServer, client: httpx.Client) -> None:
    request_id = submit(client)
    server.force("status", Fault.RESET)
    with pytest.raises(httpx.TransportError):
        client.get(f"/requests/{request_id}/status")
    assert client.get(f"/requests/{request_id}/status").status_code == 200
    assert server.stats.status_gets == 2


def test_reset_on_submit_creates_nothing(server: OfflineServer, client: httpx.Client) -> None:
    server.force("submit", Fault.RESET)
    with pytest.raises(httpx.TransportError):
        client.post(T2I, json={"prompt": "x"})
    assert server.stats.submits == 1 and server.request_ids() == []


def test_reset_after_accept_creates_the_job(server: OfflineServer, client: httpx.Client) -> None:
    server.force("submit", Fault.RESET_AFTER_ACCEPT)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(T2I, json={"prompt": "paid for"})
    assert server.stats.submits == 1
    [request_id] = server.request_ids()
    assert server.job_state(request_id) == "in_queue"
    assert client.get(f"/requests/{request_id}/status").json()["status"] == "in_queue"


@pytest.mark.parametrize(
    ("fault", "code"), [(Fault.HTTP_500, 500), (Fault.HTTP_502, 502), (Fault.HTTP_503, 503)]
)
def test_server_errors(server: OfflineServer, client: httpx.Client, fault: Fault, code: int):
    server.force("submit", fault)
    response = client.post(T2I, json={"prompt": "x"})
    assert response.status_code == code and response.json()["error_code"] == 500001
    assert server.request_ids() == []
    assert server.stats.faults_applied == {fault.value: 1}


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [(0.05, "0.05"), (2, "2"), ("Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:28:00 GMT")],
)
def test_rate_limit(server: OfflineServer, client: httpx.Client, retry_after, header) -> None:
    server.faults = FaultConfig(retry_after=retry_after)
    request_id = submit(client)
    server.force("status", Fault.RATE_LIMIT_429)
    response = client.get(f"/requests/{request_id}/status")
    assert response.status_code == 429 and response.headers["Retry-After"] == header
    assert response.json()["error_code"] == 429001


def test_rate_limit_without_retry_after(server: OfflineServer, client: httpx.Client) -> None:
    server.faults = FaultConfig(retry_after=None)
    server.force("submit", Fault.RATE_LIMIT_429)
    response = client.post(T2I, json={"prompt": "x"})
    assert response.status_code == 429 and "Retry-After" not in response.headers


def test_drip_outlives_a_read_timeout(server: OfflineServer, client: httpx.Client) -> None:
    request_id = submit(client)
    server.faults = FaultConfig(drip_seconds=0.03)
    # Each byte comes 30 ms after the last: the read timeout is 16 times that, so only a server
    # thread starved for half a second could make it fire; the whole answer takes longer.
    with httpx.Client(
        verify=TLS, base_url=server.base_url, timeout=httpx.Timeout(5.0, read=0.5)
    ) as slow:
        started = time.monotonic()
        response = slow.post(f"/requests/{request_id}/cancel")  # 23 bytes, one per 30 ms
        elapsed = time.monotonic() - started
    assert response.json() == {"outcome": "cancelled"}
    assert elapsed > 0.6  # beyond the 0.5 s read timeout, which never fired


def test_forced_drip_sends_one_byte_at_a_time(server: OfflineServer, client) -> None:
    request_id = submit(client)
    server.force("status", Fault.DRIP)  # drip_seconds is 0: the default pace (0.25 s)
    started = time.monotonic()
    with client.stream("GET", f"/requests/{request_id}/status") as response:
        chunks = response.iter_raw()
        first = [next(chunks) for _ in range(3)]
    assert first == [b"{", b'"', b"r"]
    assert time.monotonic() - started > 0.4
    assert client.get(f"/requests/{request_id}/status").json()["status"] == "in_queue"


def test_file_faults(server: OfflineServer, client: httpx.Client) -> None:
    _, result = complete(server, client)
    url = result["output"][0]
    server.force("files", Fault.TRUNCATE, Fault.NOT_IMAGE, Fault.OVERSIZED, Fault.GZIP_BOMB)

    with pytest.raises(httpx.RemoteProtocolError):
        fetch(url)

    portal = fetch(url)
    assert portal.status_code == 200 and portal.headers["content-type"].startswith("text/html")
    with pytest.raises(Exception):  # noqa: B017 -- any Pillow refusal
        Image.open(io.BytesIO(portal.content))

    bomb = fetch(url)
    assert int.from_bytes(bomb.content[16:20], "big") == 20_000  # IHDR width
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(bomb.content))

    with httpx.Client(verify=TLS) as http, http.stream("GET", url) as gzipped:
        assert gzipped.headers["content-encoding"] == "gzip"
        wire = int(gzipped.headers["content-length"])
        decoded = sum(len(chunk) for chunk in gzipped.iter_bytes())
    assert wire < 1024 * 1024 and decoded == GZIP_BOMB_DECODED_BYTES
    assert fetch(url).status_code == 200  # faults used up: normal again
    assert server.stats.downloads == 5


def test_unknown_status_once(server: OfflineServer, client: httpx.Client) -> None:
    server.faults = FaultConfig(unknown_status_text="warming_up")
    request_id = submit(client)
    server.force("status", Fault.UNKNOWN_STATUS)
    assert client.get(f"/requests/{request_id}/status").json()["status"] == "warming_up"
    assert client.get(f"/requests/{request_id}/status").json()["status"] == "in_queue"


def _assert_hostile(error: str) -> None:
    assert "\x1b[31m" in error and "\x1b]52;c;ZXZpbA==\x07" in error
    assert "[@click=app.quit]click[/]" in error and "[bold red]" in error


def test_hostile_failure_forced_at_submit(server: OfflineServer, client: httpx.Client) -> None:
    server.force("submit", Fault.HOSTILE_FAILURE)
    request_id = submit(client)
    server.advance(request_id, "in_progress")
    assert client.get(f"/requests/{request_id}/status").json()["status"] == "in_progress"
    server.release()
    server.timing = Timing(queue_seconds=0, run_seconds=0)
    assert client.get(f"/requests/{request_id}/status").json()["status"] == "failed"
    result = client.get(f"/requests/{request_id}/result").json()
    assert result["status"] == "failed" and result["output"] is None
    _assert_hostile(result["error"])


def test_hostile_failure_forced_on_status(server: OfflineServer, client: httpx.Client) -> None:
    request_id = submit(client)
    server.force("status", Fault.HOSTILE_FAILURE)
    assert client.get(f"/requests/{request_id}/status").json()["status"] == "failed"
    _assert_hostile(client.get(f"/requests/{request_id}/result").json()["error"])


def test_plain_failure_by_advance(server: OfflineServer, client: httpx.Client) -> None:
    request_id = submit(client)
    server.advance(request_id, "failed")
    result = client.get(f"/requests/{request_id}/result").json()
    assert result["status"] == "failed" and result["error"]


def test_force_rejects_unknown_routes(server: OfflineServer) -> None:
    with pytest.raises(ValueError):
        server.force("downloads", Fault.RESET)
    with pytest.raises(ValueError):
        server.force("status", "no_such_fault")


# -- random faults ----------------------------------------------------------------------------


def _status_codes(seed: int) -> list[int]:
    faults = FaultConfig(seed=seed, rate_5xx=0.5)
    with (
        OfflineServer(timing=FROZEN, faults=faults) as server,
        httpx.Client(verify=TLS, base_url=server.base_url) as client,
    ):
        request_id = submit(client)  # submit_faults=False: 5xx never hits the submit
        return [client.get(f"/requests/{request_id}/status").status_code for _ in range(30)]


def test_random_faults_are_seeded_and_spare_submits_by_default() -> None:
    first = _status_codes(7)
    assert first == _status_codes(7)
    assert set(first) - {200} and 200 in first and set(first) <= {200, 500, 502, 503}


def test_rate_limit_and_submit_faults_apply_to_submits(server: OfflineServer, client) -> None:
    server.faults = FaultConfig(rate_429=1.0)
    assert client.post(T2I, json={"prompt": "x"}).status_code == 429
    server.faults = FaultConfig(rate_5xx=1.0, submit_faults=True)
    assert client.post(T2I, json={"prompt": "x"}).status_code in {500, 502, 503}
    server.faults = FaultConfig(rate_reset=1.0, submit_faults=True)
    with pytest.raises(httpx.TransportError):
        client.post(T2I, json={"prompt": "x"})
    assert server.stats.submits == 3


def test_rate_fail_and_truncate(server: OfflineServer, client: httpx.Client) -> None:
    server.faults = FaultConfig(rate_fail=1.0)
    request_id = submit(client)
    server.timing = Timing(queue_seconds=0, run_seconds=0)
    assert client.get(f"/requests/{request_id}/status").json()["status"] == "failed"
    server.faults = FaultConfig(rate_truncate=1.0)
    request_id, result = complete(server, client)
    with pytest.raises(httpx.RemoteProtocolError):
        fetch(result["output"][0])


# -- stats and token --------------------------------------------------------------------------


def test_stats_count_every_request(server: OfflineServer, client: httpx.Client) -> None:
    request_id, result = complete(server, client)
    client.get(f"/requests/{request_id}/status")
    client.post(f"/requests/{request_id}/cancel")
    fetch(result["output"][0])
    fetch(result["output"][0], headers={"Authorization": "Bearer leaked"})
    snapshot = server.stats.snapshot()
    assert snapshot["submits"] == 1 and snapshot["submits_by_endpoint"] == {"text-to-image": 1}
    assert snapshot["status_gets"] == 1 and snapshot["result_gets"] == 1
    assert snapshot["cancels"] == 1 and snapshot["downloads"] == 2
    assert snapshot["download_auth_headers"] == 1 and snapshot["requests_with_bad_token"] == 0


def test_submits_from_many_threads(server: OfflineServer) -> None:
    ids: list[str] = []

    def worker() -> None:
        with httpx.Client(verify=TLS, base_url=server.base_url) as client:
            ids.extend(submit(client) for _ in range(5))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 30 and server.stats.submits == 30
    assert sorted(server.request_ids()) == sorted(ids)


def test_token_required_on_api_routes_not_files() -> None:
    with OfflineServer(timing=FROZEN, require_token="s3cret") as server:
        with httpx.Client(verify=TLS, base_url=server.base_url) as anonymous:
            response = anonymous.post(T2I, json={"prompt": "x"})
            assert response.status_code == 400 and response.json()["error_code"] == 400004
            wrong = anonymous.get("/requests/x/status", headers={"Authorization": "Bearer no"})
            assert wrong.status_code == 400 and wrong.json()["error_code"] == 400004
        headers = {"Authorization": "Bearer s3cret"}
        with httpx.Client(verify=TLS, base_url=server.base_url, headers=headers) as client:
            request_id, result = complete(server, client)
            assert result["status"] == "completed"
        assert fetch(result["output"][0]).status_code == 200
        assert server.stats.requests_with_bad_token == 2
        assert server.stats.submits == 2 and server.request_ids() == [request_id]


# -- lifecycle --------------------------------------------------------------------------------


def test_lifecycle_is_idempotent() -> None:
    server = OfflineServer()
    with pytest.raises(RuntimeError):
        _ = server.base_url
    server.start()
    assert server.start() is server
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", server.base_url)
    assert fetch(f"{server.base_url}/requests/x/status").status_code == 404
    server.stop()
    server.stop()
    with pytest.raises(httpx.ConnectError):
        fetch(f"{server.base_url}/requests/x/status")


def test_stop_does_not_wait_for_a_drip() -> None:
    server = OfflineServer(faults=FaultConfig(drip_seconds=1.0)).start()
    outcome: list[object] = []

    def download() -> None:
        try:
            outcome.append(fetch(f"{server.base_url}/files/x", timeout=10))
        except httpx.HTTPError as error:
            outcome.append(error)

    thread = threading.Thread(target=download)
    thread.start()
    deadline = time.monotonic() + 60
    while server.stats.downloads < 1:  # the answer is dripping (a byte a second)
        assert time.monotonic() < deadline, "the download never reached the server"
        time.sleep(0.01)
    started = time.monotonic()
    server.stop()
    # Waiting for the drip would take a minute, cut to 10 s by stop's join: well above this.
    assert time.monotonic() - started < 8.0
    thread.join(60)
    assert len(outcome) == 1 and isinstance(outcome[0], httpx.TransportError)


async def test_serve_inside_the_callers_loop() -> None:
    server = OfflineServer(timing=FROZEN)
    base_url = server.bind()
    task = asyncio.create_task(server.serve())
    try:
        async with httpx.AsyncClient(verify=TLS, base_url=base_url) as client:
            for _ in range(50):
                try:
                    response = await client.post(T2I, json={"prompt": 'a "loop"'})
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.02)
            request_id = response.json()["request_id"]
            server.advance(request_id, "completed")
            result = (await client.get(f"/requests/{request_id}/result")).json()
            assert (await client.get(result["output"][0])).status_code == 200
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_run_standalone_starts_on_port_zero_and_stops_on_ctrl_c() -> None:
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            # Ctrl-C as in a terminal, even when these tests run in the background (`pytest &`,
            # nohup, some CI runners): a child started from there inherits SIGINT ignored.
            "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from tui.offline import run_standalone; run_standalone('127.0.0.1', 0)",
        ],
        cwd=root,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", first)
        assert match, first
        assert "offline render" in process.stderr.readline()
        response = fetch(f"{match.group(1)}/requests/nope/status", timeout=5)
        assert response.status_code == 404
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        assert "stopped" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
