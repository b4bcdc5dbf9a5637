"""Read timeouts for ``iocmap serve``: a client must send its request head within
``IOCMAP_HEADER_TIMEOUT_S`` and must not pause its body longer than
``IOCMAP_BODY_TIMEOUT_S``; otherwise the connection is closed.

Why a protocol subclass: uvicorn has a keep-alive timeout but no header timeout (a
client that connects and trickles one header byte at a time holds the connection for as
long as it likes: 300 of them held theirs 60 s, issue 21), and any byte received cancels
even the keep-alive timer. Gunicorn's sync-worker ``timeout`` is not a read timeout
either. uvicorn documents ``http=`` as accepting a protocol class, so this subclass of
its own httptools protocol adds two timers and changes nothing else:

- the *head* deadline runs from the connection (or the end of the previous response)
  and is not extended by trickled bytes: the whole request head must arrive in time;
- the *body* timer is an idle timer, re-armed by every chunk, and paused while uvicorn
  itself has paused reading (the app has not consumed what it has), so a slow app never
  causes it.

On expiry the client gets ``408 Request Timeout`` when no response has started, then the
connection closes.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

DEFAULT_HEADER_TIMEOUT_S = 10.0
DEFAULT_BODY_TIMEOUT_S = 30.0
_408_BODY = "Yêu cầu gửi quá chậm / request sent too slowly\n".encode()
_408 = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: %d\r\n\r\n" % len(_408_BODY)
) + _408_BODY


@functools.cache
def timeouts() -> tuple[float, float]:
    """(head, body idle) seconds: the ``header_timeout_s`` and ``body_timeout_s`` settings.
    Read here, once per worker, because uvicorn builds the protocol, not the app."""
    from api.settings import Settings

    settings = Settings()
    return settings.header_timeout_s, settings.body_timeout_s


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a request-head deadline and a body idle timeout."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout, self.body_timeout = timeouts()
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None

    # --- timers ----------------------------------------------------------------------
    def _arm_head(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._expired)

    def _arm_body(self) -> None:
        self._cancel_body()
        self._body_timer = self.loop.call_later(self.body_timeout, self._body_idle)

    def _cancel_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_body(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_idle(self) -> None:
        self._body_timer = None
        if self.flow is not None and self.flow.read_paused:
            self._arm_body()  # we stopped reading, not the client: wait on
            return
        self._expired()

    def _expired(self) -> None:
        self._head_timer = self._body_timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or cycle.response_complete or not cycle.response_started:
            self.transport.write(_408)  # nothing of a response on the wire: say why
        if cycle is not None and not cycle.response_complete:
            cycle.keep_alive = False
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()

    # --- protocol hooks --------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head()
        self._cancel_body()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_head()

    def on_headers_complete(self) -> None:
        self._cancel_head()
        super().on_headers_complete()
        if self._has_body():
            self._arm_body()

    def _has_body(self) -> bool:
        for name, value in self.headers:
            if name == b"content-length":
                return value.strip() not in (b"", b"0")
            if name == b"transfer-encoding":
                return True
        return False

    def on_body(self, body: bytes) -> None:
        self._arm_body()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._cancel_body()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # the next request's head must come within the deadline too (keep-alive bytes
        # would otherwise cancel uvicorn's own timer and hold the connection)
        if not self.transport.is_closing():
            self._arm_head()
