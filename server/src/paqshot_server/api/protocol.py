"""uvicorn's HTTP/1.1 protocol, answering requests it cannot read in the spec's error shape, with bounds on a
request's head (size and time) and on its body's silences and rate.

uvicorn answers a request its parser refuses (a malformed request line or header, a URL over httptools' 65,535
bytes) itself, before any ASGI application sees it, with a ``text/plain`` 400 "Invalid HTTP request received.";
no option changes that body (``--limit-*`` bound concurrency and request counts, ``h11_max_incomplete_event_size``
applies to the h11 implementation only). And with httptools (what ``uvicorn[standard]`` runs) nothing bounds a
request's head: 200 MB of one header grew the API process by ~400 MB before it answered. ``uvicorn.Config(http=)``
takes a protocol class: :class:`SpecErrorsProtocol` is httptools' protocol with its ``send_400_response`` (the
one method uvicorn calls for such requests) overridden, ``data_received`` and the parser's head and message
callbacks extended (counting the head), and uvicorn's upgrade warning quietened.

uvicorn has no deadline for a request's head nor for its body (``timeout_keep_alive`` runs only between a
response and the next request's first byte): a client sending a head a byte at a time, or a connection that
sends nothing, was held for ever (slowloris); and a body a byte every few seconds was never cut by a bound on
silence alone (breaker14 B14-1: 1,100 such connections, no API key needed, took every file descriptor of the
API). And with ``ws="none"`` a request with ``Connection: upgrade`` ends
httptools' parse of the read it came in (llhttp hands the rest to "the upgraded protocol"): a request pipelined
behind it was never answered. Both are handled here; what is relied on of uvicorn's internals is pinned by
``tests/server/api/test_protocol_pins.py``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from asyncio import TimerHandle
from collections import Counter
from typing import ClassVar, cast

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from ..words import counted
from .errors import BODY_TIMED_OUT, printable

MAX_URL_BYTES = 65_535  # httptools.parse_url refuses longer URLs (its offsets are 16-bit)
# A request's line and headers together, at most: room for the longest URL and 64 kB of headers (nginx reads
# 4 × 8 kB of headers by default, Node 16 kB; the API key and the usual headers are well under 2 kB). Counted per
# read that ends inside a head, after the read it began in: the process holds at most one read (≤ 256 kB) more.
MAX_HEAD_BYTES = MAX_URL_BYTES + 1 + 64 * 1024
# After a refusal the rest of the request is read and dropped for a while (a "lingering close", as nginx does):
# closing with unread bytes makes the kernel reset the connection, and the client would lose the answer.
LINGER_SECONDS = 2.0
LINGER_BYTES = 16 * 1024 * 1024
# Defaults of the ``head_timeout_seconds``, ``body_idle_seconds`` and ``body_min_rate`` settings (serve passes the
# settings' values). Apache's mod_reqtimeout (its default since httpd 2.4.39: ``header=20-40,MinRate=500
# body=20,MinRate=500``) gives a body 20 s, then 1 s more for every 500 bytes received; nginx 60 s between reads.
# 500 B/s is 4 kbit/s, a tenth of a GPRS uplink: a real client, however slow its link, is well above it.
HEAD_SECONDS = 20.0
BODY_IDLE_SECONDS = 20.0
BODY_MIN_RATE = 500.0
# Default of ``max_connections_per_client``: open connections one client address may hold. Far above what a client
# needs (a browser opens 6 per host, bench/bench_api.py's wrk 64) and far below the open-file limit serve raises
# (1,100 held connections took all 1024 descriptors: breaker14 B14-1). Behind a reverse proxy every client has the
# proxy's address: raise it there, or set 0 (no cap) and let the proxy bound its clients.
MAX_CONNECTIONS_PER_CLIENT = 256
# Retry-After of the 429 that refuses a connection over the cap: the held ones' bodies are cut within ~20 s.
BUSY_RETRY_SECONDS = 20


class SpecErrorsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` whose refusals are ``{"error": "invalid_request", "message": …}``: 414 for a URL over
    :data:`MAX_URL_BYTES`, 431 for a head over :data:`MAX_HEAD_BYTES`, 408 for a head not complete within
    :attr:`head_seconds`, a body silent for :attr:`body_idle_seconds` or one slower on average than
    :attr:`body_min_rate` bytes/s once its first :attr:`body_idle_seconds` are over, 400 naming the parser's reason
    otherwise (or why an upgrade request with a body cannot be read); each ends the connection, as uvicorn's own
    does (after a lingering close). :meth:`with_deadlines` makes the class with the settings' deadlines."""

    head_seconds = HEAD_SECONDS  # from a head's first byte (a new connection's first head: from the connection)
    body_idle_seconds = BODY_IDLE_SECONDS  # longest silence while a request's body is expected
    body_min_rate = BODY_MIN_RATE  # bytes/s a body must average past its first body_idle_seconds; 0: no minimum
    max_connections_per_client = MAX_CONNECTIONS_PER_CLIENT  # open connections one client address may hold; 0: any
    _open_by_client: ClassVar[Counter[str]] = Counter()  # open connections per address (with_deadlines: a new one)
    _counted: str | None = None  # the address this connection is counted under, until it is lost

    _head_bytes = 0  # bytes read while the current request's head was incomplete, after the read it began in
    _in_head = False  # a request's head has begun and is not complete
    _head_began = False  # ... and it began in the read being handled
    _dropped: int | None = None  # after a refusal: bytes read and dropped since
    _head_since: float | None = None  # loop time the pending head's clock started; None: no head pending
    _head_heard = False  # a byte of the pending head has arrived (else its deadline closes without an answer)
    _body_since: float | None = None  # loop time of the last read while a body is expected; None: none expected
    _rate_since = 0.0  # loop time the body's rate clock started (its head's end, or the end of a server's wait)
    _rate_bytes = 0  # body bytes received since then
    _deadline: TimerHandle | None = None  # the one timer for whichever of the two is pending
    _server_waited = False  # the last deadline found the server, not the client, holding the request up
    _upgrade_at: int | None = None  # where in the read httptools stopped at an upgrade request's end
    _refusal: tuple[int, str] | None = None  # a callback's own refusal, answered by send_400_response
    _deferred: tuple[int, str] | None = None  # a refusal waiting for the answers due before it

    @classmethod
    def with_deadlines(
        cls,
        head_seconds: float,
        body_idle_seconds: float,
        body_min_rate: float = BODY_MIN_RATE,
        max_connections_per_client: int = MAX_CONNECTIONS_PER_CLIENT,
    ) -> type[SpecErrorsProtocol]:
        """This class with other deadlines, in seconds, body rate, in bytes/s, and cap on a client's connections
        (``uvicorn.Config(http=)`` takes a class, not an instance), counting its connections afresh."""
        attributes = {
            "head_seconds": head_seconds,
            "body_idle_seconds": body_idle_seconds,
            "body_min_rate": body_min_rate,
            "max_connections_per_client": max_connections_per_client,
            "_open_by_client": Counter(),
        }
        return cast(type[SpecErrorsProtocol], type(cls.__name__, (cls,), attributes))

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else None
        if address is not None and self.max_connections_per_client > 0:
            if self._open_by_client[address] >= self.max_connections_per_client:
                self._refuse_busy_client()
                return
            self._open_by_client[address] += 1
            self._counted = address
        self._head_since = self.loop.time()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._counted is not None:
            self._open_by_client[self._counted] -= 1
            if not self._open_by_client[self._counted]:
                del self._open_by_client[self._counted]  # the counter stays as small as the open connections
            self._counted = None
        self._stop_watch()
        super().connection_lost(exc)

    def _refuse_busy_client(self) -> None:
        """A connection over the client's cap: answered 429 ``rate_limited`` (the spec's code for a client sending
        too much; the appliance itself is not unavailable) before its request is read, then ended."""
        self._dropped = 0
        self._write_refusal(
            429,
            f"This client address has {counted(self.max_connections_per_client, 'connection')} open to this "
            "appliance, the most one address may hold. Reuse them (keep-alive) or close some, and retry after "
            f"{BUSY_RETRY_SECONDS} s.",
            error="rate_limited",
            extra=b"retry-after: %d\r\n" % BUSY_RETRY_SECONDS,
        )

    def data_received(self, data: bytes) -> None:
        if self._dropped is not None:
            self._dropped += len(data)
            if self._dropped > LINGER_BYTES:
                self.transport.close()
            return
        self._head_began = False
        if self._body_since is not None:
            self._body_since = self.loop.time()
        else:
            if self._head_since is None:
                self._head_since = self.loop.time()
            self._head_heard = True
        rest: bytes | memoryview = data
        while True:  # past each upgrade request, parse the rest of the read (a view: no copy)
            self._upgrade_at = None
            super().data_received(rest)  # type: ignore[arg-type]  # httptools reads any buffer
            if self._upgrade_at is None or self._dropped is not None or self.transport.is_closing():
                break
            rest = memoryview(rest)[self._upgrade_at :]
            if not rest:
                break
        self._watch()
        # Only a read that ends inside an unfinished head, begun in an earlier read, is all head bytes. A read
        # holding whole requests (a body's end, pipelined polls) is never counted: counting it answered 431 after
        # the application had taken the request (breaker, session 3). The read a head begins in is not counted
        # either (where in it the head began is not known): the process holds at most one read (≤ 256 kB) more.
        if not self._in_head or self._head_began or self._dropped is not None or self.transport.is_closing():
            return
        self._head_bytes += len(data)
        if len(getattr(self, "url", b"")) > MAX_URL_BYTES:  # as soon as it is over, not once it has all come
            self._refuse_url()
        elif self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(
                431,
                f"The request's line and headers are over {MAX_HEAD_BYTES // 1024} kB, more than this appliance "
                "reads; send the Authorization header and the usual few others, with short values.",
            )

    def on_message_begin(self) -> None:
        self._in_head, self._head_began, self._head_bytes = True, True, 0
        if self._head_since is None:  # a head begun in a read that began in a body
            self._head_since, self._head_heard = self.loop.time(), True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._in_head, self._head_since = False, None
        self._body_since = self._rate_since = self.loop.time()
        self._rate_bytes = 0
        self._stop_watch()
        if self.parser.should_upgrade() and _declares_body(self.headers):
            # httptools skips an upgrade request's body (llhttp hands it to the upgraded protocol): the app would
            # see none, and the body's bytes would be parsed as the next request.
            self._refusal = (
                400,
                "This API speaks HTTP/1.1 and has no protocol to upgrade to, and a request with both an Upgrade "
                "header and a body cannot be read. Send it without the Upgrade and Connection: upgrade headers "
                "(curl adds them for --http2 over http://: use --http1.1).",
            )
            raise ValueError("upgrade request with a body")  # the parser stops; send_400_response answers
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._rate_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._body_since = None
        self._stop_watch()
        super().on_message_complete()

    def _unsupported_upgrade_warning(self) -> None:
        """uvicorn calls this in its ``except httptools.HttpParserUpgrade`` (an upgrade request, as it sees it):
        the API has no WebSocket (``ws="none"``), so the request was answered as any other and what follows it in
        the read is the next request (the exception's argument is where). uvicorn's warning advises installing a
        WebSocket library: wrong here, and a client could fill the log with it."""
        exc = sys.exception()
        if isinstance(exc, httptools.HttpParserUpgrade) and exc.args and isinstance(exc.args[0], int):
            self._upgrade_at = exc.args[0]
        self.logger.debug("Upgrade header ignored: this API has no WebSocket")

    def _watch(self) -> None:
        """Arm the one timer for the pending deadline (a head's, or a body's next read), unless armed."""
        if self._deadline is not None or self._dropped is not None:
            return
        if self._head_since is not None:
            self._deadline = self.loop.call_at(self._head_since + self.head_seconds, self._on_deadline)
        elif self._body_since is not None:
            self._deadline = self.loop.call_at(min(self._idle_end(), self._rate_end()), self._on_deadline)

    def _idle_end(self) -> float:
        assert self._body_since is not None
        return self._body_since + self.body_idle_seconds

    def _rate_end(self) -> float:
        """When the body's average rate falls under :attr:`body_min_rate` (mod_reqtimeout's MinRate: the first
        :attr:`body_idle_seconds`, then 1 s more per ``body_min_rate`` bytes received); ``inf`` with no minimum."""
        if self.body_min_rate <= 0:
            return float("inf")
        return self._rate_since + self.body_idle_seconds + self._rate_bytes / self.body_min_rate

    def _stop_watch(self) -> None:
        self._server_waited = False
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _on_deadline(self) -> None:
        self._deadline = None
        if self._dropped is not None or self.transport.is_closing():
            return
        now, cycle = self.loop.time(), self.cycle
        # The clock stops while the wait is the server's: reading paused (pipelined requests queued, a body the app
        # has not taken), the previous response still being made, a `100 Continue` the app has not asked for yet;
        # it restarts at the first deadline after such a wait (the client has one to two deadlines from its end).
        if self._head_since is not None:
            if self.flow.read_paused or (cycle is not None and not cycle.response_complete):
                self._head_since, self._server_waited = now, True
            elif self._server_waited:
                self._head_since, self._server_waited = now, False
            elif now >= self._head_since + self.head_seconds:
                self._head_timed_out()
                return
        elif self._body_since is not None and cycle is not None:
            answering = cycle.response_started and not cycle.response_complete
            if self.flow.read_paused or cycle.waiting_for_100_continue or answering:
                self._body_since, self._server_waited = now, True
            elif self._server_waited:  # both clocks restart: the client's rate is measured from here
                self._body_since, self._server_waited = now, False
                self._rate_since, self._rate_bytes = now, 0
            elif now < min(self._idle_end(), self._rate_end()):
                pass
            elif cycle.response_complete:  # answered already (the app did not read the body): nothing to say
                self.transport.close()
                return
            else:
                self._body_timed_out(cycle, slow=now >= self._rate_end())
                return
        self._watch()

    def _body_timed_out(self, cycle: RequestResponseCycle, slow: bool) -> None:
        if slow:
            reason = f"slower than {self.body_min_rate:g} bytes/s after its first {self.body_idle_seconds:g} s"
            message = (
                f"The request's body arrived too slowly: under {self.body_min_rate:g} bytes a second on average "
                f"after its first {self.body_idle_seconds:g} s, and this appliance stopped waiting. Send the request "
                "again with its body at a normal speed (check the network or the client's upload)."
            )
        else:
            reason = f"nothing for {self.body_idle_seconds:g} s"
            message = (
                f"The request's body stopped arriving: nothing came for {self.body_idle_seconds:g} s, and this "
                "appliance stopped waiting. Send the request again (check the network or the client's upload)."
            )
        cycle.scope[BODY_TIMED_OUT] = reason  # type: ignore[literal-required]  # for the log
        _end_body_wait(cycle)
        self._stop_watch()
        self._dropped = 0
        self._write_refusal(408, message)  # the request refused is the one being answered: nothing is due before it

    def _head_timed_out(self) -> None:
        if not self._head_heard:  # a connection that sent nothing: closed without an answer, as keep-alive's are
            self.transport.close()
            return
        self._refuse(
            408,
            f"The request's line and headers did not all arrive within {self.head_seconds:g} s, and this appliance "
            "stopped waiting. Send the request again; a client sends its line and headers at once.",
        )

    def send_400_response(self, msg: str) -> None:
        """Called by uvicorn inside its ``except httptools.HttpParserError`` (``msg`` is its fixed text)."""
        exc = sys.exception()
        if self._refusal is not None:
            self._refuse(*self._refusal)
            return
        if len(getattr(self, "url", b"")) > MAX_URL_BYTES:
            self._refuse_url()
            return
        # llhttp's reasons are fixed words ("Invalid header token"); a callback's error may quote the URL: not shown.
        known = isinstance(exc, httptools.HttpParserError) and not isinstance(exc, httptools.HttpParserCallbackError)
        reason = f" ({printable(str(exc)[:100])})" if known else ""
        self._refuse(
            400,
            f"The request is not valid HTTP/1.1{reason}, so it was not read. Check the method, the URL (no spaces "
            "or control characters; percent-encode them) and the header names and values.",
        )

    def _refuse_url(self) -> None:
        self._refuse(
            414,
            f"The request's URL is over {MAX_URL_BYTES} bytes, more than this appliance reads. Ids and query "
            "parameters are short: check how the client builds the URL.",
        )

    def _refuse(self, status: int, message: str) -> None:
        """Refuse the request being read: what the client sends from now on is dropped, and the answer is written
        once the requests before it on this connection are answered (written at once, it came ahead of theirs and
        the client took it for the first one's answer), then the connection ends."""
        self._stop_watch()
        self._dropped = 0
        cycle = self.cycle
        if self._body_since is not None and not self.pipeline and cycle is not None and not cycle.response_complete:
            # The request refused is the one the app is reading (a broken chunk in its body): its body will never
            # come, so the app's receive() is ended as the body deadline's is, and the answer is due now (deferred,
            # it waited for this very request's answer, which waited for its body: the connection hung for good).
            self._body_since = None
            _end_body_wait(cycle)
            if cycle.response_started:  # its answer had begun: it cannot be followed by another
                self.transport.close()
            else:
                self._write_refusal(status, message)
        elif self._answering():
            self._deferred = (status, message)
        else:
            self._write_refusal(status, message)

    def _answering(self) -> bool:
        return bool(self.pipeline) or (self.cycle is not None and not self.cycle.response_complete)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._deferred is not None and not self._answering() and not self.transport.is_closing():
            self._write_refusal(*self._deferred)
            self._deferred = None

    def _write_refusal(self, status: int, message: str, error: str = "invalid_request", extra: bytes = b"") -> None:
        """Write the answer ``{"error", "message"}`` (``extra``: more header lines, each ending CRLF) and end the
        connection after a lingering close."""
        body = json.dumps({"error": error, "message": message}, separators=(",", ":")).encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:  # date, server: as on every other answer
            head += [name, b": ", value, b"\r\n"]
        head += [
            extra,
            b"content-type: application/json\r\ncontent-length: ",
            str(len(body)).encode(),
            b"\r\nconnection: close\r\n\r\n",
        ]
        self.transport.write(b"".join([*head, body]))
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()  # the answer, then end of stream; the client's close (or the timer) ends it
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


def _end_body_wait(cycle: RequestResponseCycle) -> None:
    """End the app's wait for a body that will not come: its ``receive()`` gets ``http.disconnect``, and what it
    answers goes nowhere (the protocol writes the refusal itself)."""
    cycle.disconnected = True
    cycle.message_event.set()


def _declares_body(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a request's headers (names lower-case, as uvicorn keeps them) announce a body (RFC 9112 §6.3)."""
    return any(
        name == b"transfer-encoding" or (name == b"content-length" and value.strip().lstrip(b"0") != b"")
        for name, value in headers
    )
