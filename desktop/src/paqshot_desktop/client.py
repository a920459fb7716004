"""HTTP client of the v1 API (httpx, blocking, no Qt): call it from worker threads only.

Error hierarchy (what the UI shows, in plain words)::

    ClientError
     ├── ClientClosed        the client was closed (the app quits, or connected elsewhere)
     ├── ConnectionFailed    the address cannot be reached (wrong URL, server down, DNS)
     │    └── TlsFailed      the server's certificate was refused
     ├── NotAnAppliance      something answered, but not with the API's JSON
     └── ApiError            the API answered with its error body (status, code, message)

429 waits for ``Retry-After`` and retries; 5xx and dropped connections are retried with exponential
backoff (tenacity does the retrying; the policy is :class:`RetryPolicy`). Both are safe for
``POST /v1/generate`` because every attempt carries the same Idempotency-Key. The connection check makes one
attempt only, so a refused connection is reported at once.

Connection pools (one httpx client per thread) belong to the :class:`ApiClient`, and each is closed exactly once:
by :meth:`ApiClient.close` when idle, else by its own thread as soon as the request in flight there ends. A pool
must not be closed under a request: httpcore then forgets a connection that is still being opened, and its socket
is garbage-collected unclosed. After ``close()`` a request raises :class:`ClientClosed` and opens nothing.
"""

from __future__ import annotations

import email.utils
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import tenacity

from .wire import Capabilities, Job, JobPage, PresetInfo, PresetList, WireError, decode, plain_error

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
# Called before each wait with (reason in plain words, seconds) so the UI can say why nothing happens.
WaitListener = Callable[[str, float], None]


class ClientError(Exception):
    """Anything that stops a request from succeeding; ``str()`` is a sentence for the user."""


class ClientClosed(ClientError):
    """The request was not sent (or its retries stopped): :meth:`ApiClient.close` was called."""


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


def _retryable(exc: BaseException) -> bool:
    """429, 5xx and a lost connection are worth another try; a refused certificate or a 4xx is not."""
    if isinstance(exc, ApiError):
        return exc.status == 429 or exc.status >= 500
    return isinstance(exc, ConnectionFailed) and not isinstance(exc, TlsFailed)


def _reason(exc: BaseException | None, attempt: int) -> str:
    if isinstance(exc, ApiError) and exc.status == 429:
        return "The server is busy (rate limited); waiting as it asked"
    if isinstance(exc, ApiError):
        return f"Server error {exc.status}; retrying"
    return f"Connection lost; retrying (attempt {attempt + 1})"


class _WaitRetryAfter(tenacity.wait.wait_base):
    """The server's Retry-After when it sent one (capped), else exponential backoff (1, 2, 4, … s)."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.backoff = tenacity.wait_exponential(multiplier=policy.backoff, max=policy.max_backoff)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, ApiError) and exc.retry_after is not None:
            return min(exc.retry_after, self.policy.max_wait)
        return min(float(self.backoff(retry_state)), self.policy.max_wait)


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
    text = str(exc).lower()
    if "refused" in text:
        return ConnectionFailed(
            f"Nothing answers at {url}: the connection was refused. Check the address and port, and that the "
            "appliance is running."
        )
    if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        host = urlsplit(url).hostname or url
        return ConnectionFailed(f"The address {host} could not be found. Check its spelling.")
    return ConnectionFailed(f"Could not reach {url} ({exc}). Check the address and that the server is running.")


def _httpx() -> Any:
    """httpx, imported on first use: its import pulls in its CLI's dependencies (~0.6 s here), and the
    window must not wait for that. First use is on a worker thread, never on the GUI thread."""
    import httpx

    return httpx


def warm_up_http() -> None:
    """Import httpx now (call on a worker at start-up)."""
    _httpx()


@dataclass
class _Pool:
    """One thread's httpx client; ``busy`` while a request is in flight on it."""

    client: httpx.Client
    busy: bool = False


class ApiClient:
    """A connection to one appliance with one API key. Thread-safe: one httpx client (pool) per thread."""

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
        self._local = threading.local()  # this thread's _Pool
        self._pools: list[_Pool] = []  # every pool not closed yet
        self._lock = threading.Lock()  # guards _pools, each pool's busy flag, and setting _closed

    def _interruptible_sleep(self, seconds: float) -> None:
        self._closed.wait(seconds)

    def _new_client(self) -> httpx.Client:
        client: httpx.Client = _httpx().Client(
            # A dead address fails within the connect timeout; a slow answer may take the full timeout.
            timeout=_httpx().Timeout(self._timeout, connect=min(5.0, self._timeout)),
            transport=self._transport,
            verify=self._verify,
            headers={"User-Agent": self._user_agent},
            trust_env=False,  # an appliance on the LAN must not go through a corporate proxy
        )
        return client

    @contextmanager
    def _pool(self) -> Iterator[httpx.Client]:
        """This thread's httpx client, marked busy for one request; closed on the way out when :meth:`close`
        ran meanwhile. Raises :class:`ClientClosed` after ``close()`` (no pool is made then)."""
        with self._lock:
            if self._closed.is_set():
                raise ClientClosed(f"Stopped: the connection to {self.base_url} was closed.")
            pool: _Pool | None = getattr(self._local, "pool", None)
            if pool is None:
                pool = self._local.pool = _Pool(self._new_client())
                self._pools.append(pool)
            pool.busy = True
        try:
            yield pool.client
        finally:
            with self._lock:
                pool.busy = False
                orphaned = self._closed.is_set()  # close() left this pool to us
                if orphaned:
                    self._pools.remove(pool)
            if orphaned:
                pool.client.close()

    def close(self) -> None:
        """Stop pending retries from sleeping again and refuse new requests; close the idle per-thread pools
        now, and each busy one when its request ends (see the module's docstring). Never blocks on a request."""
        with self._lock:
            self._closed.set()
            idle = [pool for pool in self._pools if not pool.busy]
            self._pools = [pool for pool in self._pools if pool.busy]
        for pool in idle:
            pool.client.close()

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
        retry: bool = True,
    ) -> httpx.Response:
        """One request, retried (tenacity) on 429/5xx/lost connections unless ``retry`` is False."""
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        hdrs = dict(headers or {})
        if auth:
            hdrs["Authorization"] = f"Bearer {self.api_key}"

        def attempt() -> httpx.Response:
            with self._pool() as client:
                try:
                    response = client.request(method, url, json=json, params=params, headers=hdrs)
                except _httpx().TransportError as exc:
                    raise _describe_transport(exc, self.base_url) from exc
            if response.status_code >= 400:
                raise self._api_error(response)
            return response

        def before_sleep(state: tenacity.RetryCallState) -> None:
            if on_wait is not None and state.next_action is not None:
                exc = state.outcome.exception() if state.outcome else None
                on_wait(_reason(exc, state.attempt_number), state.next_action.sleep)

        policy = self.retry
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(policy.attempts if retry else 1),
            wait=_WaitRetryAfter(policy),
            retry=tenacity.retry_if_exception(lambda exc: _retryable(exc) and not self.closed),
            sleep=self._sleep_then_check,
            before_sleep=before_sleep,
            reraise=True,
        )
        result: httpx.Response = retrying(attempt)
        return result

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (pending retries stop, new requests raise :class:`ClientClosed`)."""
        return self._closed.is_set()

    def _sleep_then_check(self, seconds: float) -> None:
        self._sleep(seconds)
        if self._closed.is_set():
            raise ClientClosed("Stopped: the connection was closed while waiting to retry.")

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

    def _decode(self, response: httpx.Response, kind: type[T]) -> T:
        try:
            return decode(kind, self._json(response))
        except WireError as exc:
            raise NotAnAppliance(f"Unexpected answer from {self.base_url}: {exc}") from exc

    def capabilities(self, retry: bool = True) -> Capabilities:
        """``GET /v1/capabilities``; also the connection check (it needs a valid key; ``retry=False`` there,
        so a refused connection is reported at once instead of after the back-off)."""
        return self._decode(self._request("GET", "/v1/capabilities", retry=retry), Capabilities)

    def presets(self) -> tuple[PresetInfo, ...]:
        """``GET /v1/presets`` (extension): the marketplace presets this appliance applies and checks."""
        return self._decode(self._request("GET", "/v1/presets"), PresetList).data

    def generate(self, request: dict[str, Any], idempotency_key: str, on_wait: WaitListener | None = None) -> Job:
        """``POST /v1/generate``; retries reuse ``idempotency_key`` so a job is never created twice."""
        response = self._request(
            "POST", "/v1/generate", json=request, headers={"Idempotency-Key": idempotency_key}, on_wait=on_wait
        )
        return self._decode(response, Job)

    def rerun(self, job_id: str, changes: dict[str, Any], idempotency_key: str) -> Job:
        """``POST /v1/generate/{id}/rerun`` (extension): a new job from the stored input with ``changes``
        (options and/or ``mask_hint``) applied; no re-upload."""
        response = self._request(
            "POST", f"/v1/generate/{job_id}/rerun", json=changes, headers={"Idempotency-Key": idempotency_key}
        )
        return self._decode(response, Job)

    def delete(self, job_id: str) -> None:
        """``DELETE /v1/generate/{id}`` (extension): the job, its files and URLs are gone."""
        self._request("DELETE", f"/v1/generate/{job_id}")

    def job(self, job_id: str) -> Job:
        """``GET /v1/generate/{id}``."""
        return self._decode(self._request("GET", f"/v1/generate/{job_id}"), Job)

    def list_jobs(
        self,
        limit: int = 20,
        offset: int = 0,
        status: str | None = None,
        *,
        filename: str | None = None,
        needs_review: bool | None = None,
        retry: bool = True,
    ) -> JobPage:
        """``GET /v1/generations`` (newest first); ``filename``/``needs_review`` are the appliance's filters."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if status:
            params["status"] = status
        if filename:
            params["filename"] = filename
        if needs_review is not None:
            params["needs_review"] = "true" if needs_review else "false"
        return self._decode(self._request("GET", "/v1/generations", params=params, retry=retry), JobPage)

    def cancel(self, job_id: str) -> Job:
        """``POST /v1/generate/{id}/cancel``."""
        return self._decode(self._request("POST", f"/v1/generate/{job_id}/cancel"), Job)

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
