"""The two HTTP helpers every bench script uses: a free loopback port and one plain GET.

A module of their own so that ``bench/run.py`` and ``bench/static.py`` both import them
without importing each other."""

from __future__ import annotations

import http.client
import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, headers: dict | None = None, timeout: float = 120) -> tuple[int, bytes, dict]:
    """One GET on a fresh connection: (status, body, headers)."""
    rest = url.removeprefix("http://")
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", "/" + path, headers=headers or {})
        r = conn.getresponse()
        body = r.read()
        return r.status, body, {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()
