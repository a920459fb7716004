"""HTTP client of the v1 API (httpx, blocking, no Qt): call it from worker threads only.

Error hierarchy (what the UI shows, in plain words)::

    ClientError
     ├── ConnectionFailed    the address cannot be reached (wrong URL, server down, DNS)
     │    └── TlsFailed      the server's certificate was refused
     ├── NotAnAppliance      something answered, but not with the API's JSON
     └── ApiError            the API answered with its error body (status, code, message)

429 waits for ``Retry-After`` and retries; 5xx and dropped connections are retried with exponential
backoff. Both are safe for ``POST /v1/generate`` because every attempt carries the same Idempotency-Key.
"""

from __future__ import annotations

import email.utils
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .wire import Capabilities, Job, JobPage, WireError, plain_error

if TYPE_CHECKING:
    import httpx

# Called before each wait with (reason in plain words, seconds) so the UI can say why nothing happens.
WaitListener = Callable[[str, float], None]


class ClientError(Exception):
    """Anything that stops a request from succeeding; ``str()`` is a sentence for the user."""


class ConnectionFailed(ClientError):
    """The server could not be reached."""


class TlsFailed(ConnectionFailed):
    """The TLS handshake failed (untrusted or mismatched certificate)."""


class NotAnAppliance(ClientError):
    """The address answered, but not like the v1 API."""


class ApiError(ClientError):
    """The API's error body: ``{"error": code, "message": text}`` with its HTTP status."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        super().__init__(plain_error(code, message))


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up; ``max_wait`` caps a server's Retry-After."""

    attempts: int = 5
    backoff: float = 1.0
    max_backoff: float = 16.0
    max_wait: float = 120.0

    def backoff_for(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failure (1-based)."""
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _is_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _describe_transport(exc: httpx.TransportError, url: str) -> ConnectionFailed:
    import httpx

    if _is_tls(exc):
        return TlsFailed(
            f"The secure connection to {url} failed: its certificate is not trusted ({exc}). "
            "Check the address, or install the appliance's certificate."
        )
    if isinstance(exc, httpx.TimeoutException):
        return ConnectionFailed(f"{url} did not answer in time. Is the address right and the server up?")
    return ConnectionFailed(f"Could not reach {url} ({exc}). Check the address and that the server is running.")


def _httpx() -> Any:
    """httpx, imported on first use: its import pulls in its CLI's dependencies (~0.6 s here), and the
    window must not wait for that. First use is on a worker thread, never on the GUI thread."""
    import httpx

    return httpx


class ApiClient:
    """A connection to one appliance with one API key. Thread-safe: one httpx client per thread."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        user_agent: str = "desktop-client",
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        verify: bool | ssl.SSLContext = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        if self.base_url.endswith("/v1"):
            self.base_url = self.base_url[: -len("/v1")]
        self.api_key = api_key
        self.retry = retry or RetryPolicy()
        self._user_agent = user_agent
        self._timeout = timeout
        self._transport = transport
        self._closed = threading.Event()
        # Default wait: interrupted by close(), so quitting never hangs on a long Retry-After.
        self._sleep = sleep or self._interruptible_sleep
        self._verify = verify
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._lock = threading.Lock()

    def _interruptible_sleep(self, seconds: float) -> None:
        self._closed.wait(seconds)

    def _client(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = _httpx().Client(
                timeout=self._timeout,
                transport=self._transport,
                verify=self._verify,
                headers={"User-Agent": self._user_agent},
                trust_env=False,  # an appliance on the LAN must not go through a corporate proxy
            )
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def close(self) -> None:
        """Close every per-thread connection pool and stop pending retries from sleeping again."""
        self._closed.set()
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        on_wait: WaitListener | None = None,
    ) -> httpx.Response:
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        hdrs = dict(headers or {})
        if auth:
            hdrs["Authorization"] = f"Bearer {self.api_key}"
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._client().request(method, url, json=json, params=params, headers=hdrs)
            except _httpx().TransportError as exc:
                failure = _describe_transport(exc, self.base_url)
                # A refused certificate or a first-attempt connect error is a set-up problem: say so now.
                if isinstance(failure, TlsFailed) or attempt >= self.retry.attempts or self._closed.is_set():
                    raise failure from exc
                self._wait(f"Connection lost; retrying (attempt {attempt + 1})", attempt, None, on_wait)
                continue
            if response.status_code < 400:
                return response
            error = self._api_error(response)
            retryable = response.status_code == 429 or response.status_code >= 500
            if not retryable or attempt >= self.retry.attempts or self._closed.is_set():
                raise error
            reason = (
                "The server is busy (rate limited); waiting as it asked"
                if response.status_code == 429
                else f"Server error {response.status_code}; retrying"
            )
            self._wait(reason, attempt, error.retry_after, on_wait)

    def _wait(self, reason: str, attempt: int, retry_after: float | None, on_wait: WaitListener | None) -> None:
        seconds = retry_after if retry_after is not None else self.retry.backoff_for(attempt)
        seconds = min(seconds, self.retry.max_wait)
        if on_wait is not None:
            on_wait(reason, seconds)
        self._sleep(seconds)
        if self._closed.is_set():
            raise ClientError("Stopped: the connection was closed while waiting to retry.")

    @staticmethod
    def _api_error(response: httpx.Response) -> ApiError:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            return ApiError(response.status_code, body["error"], str(body.get("message", "")), retry_after)
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 413: "image_too_large"}.get(
            response.status_code, "server_error" if response.status_code >= 500 else "invalid_request"
        )
        return ApiError(response.status_code, code, f"HTTP {response.status_code}", retry_after)

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            kind = response.headers.get("content-type", "no content type")
            raise NotAnAppliance(
                f"{self.base_url} answered, but not like an image appliance (HTTP {response.status_code}, {kind})."
            ) from exc

    def _decode(self, response: httpx.Response, decoder: Callable[[Any], Any]) -> Any:
        try:
            return decoder(self._json(response))
        except WireError as exc:
            raise NotAnAppliance(f"Unexpected answer from {self.base_url}: {exc}") from exc

    def capabilities(self) -> Capabilities:
        """``GET /v1/capabilities``; also the connection check (it needs a valid key)."""
        result: Capabilities = self._decode(self._request("GET", "/v1/capabilities"), Capabilities.from_json)
        return result

    def generate(self, request: dict[str, Any], idempotency_key: str, on_wait: WaitListener | None = None) -> Job:
        """``POST /v1/generate``; retries reuse ``idempotency_key`` so a job is never created twice."""
        response = self._request(
            "POST",
            "/v1/generate",
            json=request,
            headers={"Idempotency-Key": idempotency_key},
            on_wait=on_wait,
        )
        job: Job = self._decode(response, Job.from_json)
        return job

    def job(self, job_id: str) -> Job:
        """``GET /v1/generate/{id}``."""
        result: Job = self._decode(self._request("GET", f"/v1/generate/{job_id}"), Job.from_json)
        return result

    def list_jobs(self, limit: int = 20, offset: int = 0, status: str | None = None) -> JobPage:
        """``GET /v1/generations`` (newest first)."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if status:
            params["status"] = status
        response = self._request("GET", "/v1/generations", params=params)
        page: JobPage = self._decode(response, JobPage.from_json)
        return page

    def cancel(self, job_id: str) -> Job:
        """``POST /v1/generate/{id}/cancel``."""
        result: Job = self._decode(self._request("POST", f"/v1/generate/{job_id}/cancel"), Job.from_json)
        return result

    def download(self, url: str) -> bytes:
        """Fetch a signed image URL; signed URLs need (and get) no Authorization header."""
        return self._request("GET", url, auth=False).content


def describe(exc: BaseException) -> str:
    """A sentence for the user from any failure that reached the GUI thread."""
    if isinstance(exc, ApiError) and exc.code == "unauthorized":
        return "The API key was not accepted. Check it, or create a new key on the appliance."
    if isinstance(exc, ClientError | ValueError | RuntimeError | OSError):
        return str(exc)
    return f"Unexpected error: {exc!r}"
