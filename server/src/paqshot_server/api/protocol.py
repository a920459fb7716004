"""uvicorn's HTTP/1.1 protocol, answering requests it cannot read in the spec's error shape, and with a bound on
a request's head.

uvicorn answers a request its parser refuses (a malformed request line or header, a URL over httptools' 65,535
bytes) itself, before any ASGI application sees it, with a ``text/plain`` 400 "Invalid HTTP request received.";
no option changes that body (``--limit-*`` bound concurrency and request counts, ``h11_max_incomplete_event_size``
applies to the h11 implementation only). And with httptools (what ``uvicorn[standard]`` runs) nothing bounds a
request's head: 200 MB of one header grew the API process by ~400 MB before it answered. ``uvicorn.Config(http=)``
takes a protocol class: :class:`SpecErrorsProtocol` is httptools' protocol with its ``send_400_response`` (the
one method uvicorn calls for such requests) overridden, ``data_received`` and the parser's head and message
callbacks extended (counting the head), and uvicorn's upgrade warning quietened.
"""

from __future__ import annotations

import json
import sys

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from .errors import printable

MAX_URL_BYTES = 65_535  # httptools.parse_url refuses longer URLs (its offsets are 16-bit)
# A request's line and headers together, at most: room for the longest URL and 64 kB of headers (nginx reads
# 4 × 8 kB of headers by default, Node 16 kB; the API key and the usual headers are well under 2 kB). Counted per
# read that ends inside a head, after the read it began in: the process holds at most one read (≤ 256 kB) more.
MAX_HEAD_BYTES = MAX_URL_BYTES + 1 + 64 * 1024
# After a refusal the rest of the request is read and dropped for a while (a "lingering close", as nginx does):
# closing with unread bytes makes the kernel reset the connection, and the client would lose the answer.
LINGER_SECONDS = 2.0
LINGER_BYTES = 16 * 1024 * 1024


class SpecErrorsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` whose refusals are ``{"error": "invalid_request", "message": …}``: 414 for a URL over
    :data:`MAX_URL_BYTES`, 431 for a head over :data:`MAX_HEAD_BYTES`, 400 naming the parser's reason otherwise;
    each ends the connection, as uvicorn's own does (after a lingering close)."""

    _head_bytes = 0  # bytes read while the current request's head was incomplete, after the read it began in
    _in_head = False  # a request's head has begun and is not complete
    _head_began = False  # ... and it began in the read being handled
    _dropped: int | None = None  # after a refusal: bytes read and dropped since

    def data_received(self, data: bytes) -> None:
        if self._dropped is not None:
            self._dropped += len(data)
            if self._dropped > LINGER_BYTES:
                self.transport.close()
            return
        self._head_began = False
        super().data_received(data)
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
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def _unsupported_upgrade_warning(self) -> None:
        """uvicorn warns on every request with an ``Upgrade`` header and advises installing a WebSocket library:
        wrong here (``ws="none"`` on purpose, the request is answered as any other), and a client could fill the
        log with it."""
        self.logger.debug("Upgrade header ignored: this API has no WebSocket")

    def send_400_response(self, msg: str) -> None:
        """Called by uvicorn inside its ``except httptools.HttpParserError`` (``msg`` is its fixed text)."""
        exc = sys.exception()
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
        body = json.dumps({"error": "invalid_request", "message": message}, separators=(",", ":")).encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:  # date, server: as on every other answer
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/json\r\ncontent-length: ",
            str(len(body)).encode(),
            b"\r\nconnection: close\r\n\r\n",
        ]
        self.transport.write(b"".join([*head, body]))
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()  # the answer, then end of stream; the client's close (or the timer) ends it
        self._dropped = 0
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
