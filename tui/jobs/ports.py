"""What the engine needs from its collaborators, as protocols (the real ones, or test fakes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..models import Job, JobRequest

if TYPE_CHECKING:  # the answers are pydantic models, loaded by the first call
    from ..api.schemas import CancelResponse, ResultResponse, StatusResponse, SubmitResponse

__all__ = ["ApiClient", "Downloads", "HistoryStore", "OutputNames", "ProgressCallback"]

ProgressCallback = Callable[[int, "int | None"], None]


class ApiClient(Protocol):
    @property
    def base_url(self) -> str: ...

    async def submit(self, request: JobRequest, *, on_retry: Any = None) -> SubmitResponse: ...
    async def status(self, request_id: str, *, on_retry: Any = None) -> StatusResponse: ...
    async def result(self, request_id: str, *, on_retry: Any = None) -> ResultResponse: ...
    async def cancel(self, request_id: str, *, on_retry: Any = None) -> CancelResponse: ...


class HistoryStore(Protocol):
    def create_job(
        self,
        request: JobRequest,
        *,
        parent_id: int | None = None,
        sweep_id: str | None = None,
        sweep_label: str | None = None,
        output_dir: str | None = None,
        owner: str | None = None,
        backend: str | None = None,
    ) -> Job: ...
    def create_jobs(
        self,
        requests: Sequence[JobRequest],
        *,
        labels: Sequence[str | None] | None = None,
        parent_id: int | None = None,
        sweep_id: str | None = None,
        output_dir: str | None = None,
        owner: str | None = None,
        backend: str | None = None,
    ) -> list[Job]: ...
    def get(self, job_id: int) -> Job: ...
    def update(self, job_id: int, **changes: Any) -> Job: ...
    def resumable(self) -> list[Job]: ...
    def unsent(self) -> list[Job]: ...
    def claim(self, job_id: int, owner: str, *, stale: Callable[[str], bool]) -> Job | None: ...
    def release(self, job_id: int, owner: str) -> None: ...
    def keep_request_id(self, job: Job, request_id: str) -> None: ...
    def resumable_output_dirs(self) -> list[str]: ...
    def data_version(self) -> int: ...
    def data_version_now(self) -> int | None: ...
    def current_rev(self) -> int: ...
    def changed_since(self, rev: int, *, limit: int = 500) -> tuple[list[Job], int]: ...


class Downloads(Protocol):
    async def download(
        self,
        url: str,
        directory: Path,
        filename: str,
        *,
        on_progress: ProgressCallback | None = None,
        before_commit: Callable[[Path], None] | None = None,
    ) -> Path: ...


class OutputNames(Protocol):
    @property
    def default_directory(self) -> Path: ...

    def directory_for(self, job: Job) -> Path: ...
    def name_for(self, job: Job, index: int, ext: str) -> str: ...
    def remove_stale_temps(self, directory: Path | None = None) -> int: ...
