"""``iocmap serve`` closes slow clients (issue 21): a request head trickled byte by byte
and a body that stops are cut after their timeouts (``IOCMAP_HEADER_TIMEOUT_S``,
``IOCMAP_BODY_TIMEOUT_S``; 1 s here, 10 s and 30 s by default) with a 408, while
``/healthz`` stays fast. Runs the real ``iocmap serve`` in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from api.settings import Settings
from api.slow_clients import DEFAULT_BODY_TIMEOUT_S, DEFAULT_HEADER_TIMEOUT_S

SLOW = 40  # slow clients at once


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(engine, db_url: str):
    port = _free_port()
    env = {
        **os.environ,
        "IOCMAP_DATABASE_URL": db_url,
        "IOCMAP_HEADER_TIMEOUT_S": "1",
        "IOCMAP_BODY_TIMEOUT_S": "1",
        "IOCMAP_ADMIN_TOKEN": "slow-admin",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "iocmap.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).read()
            break
        except OSError:
            assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
            time.sleep(0.2)
    yield port, base
    proc.terminate()
    proc.wait(timeout=20)


def _trickle(port: int, first: bytes, out: list, index: int) -> None:
    """Send ``first`` then one byte every 0.2 s until the server hangs up."""
    start = time.monotonic()
    got = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(first)
        s.settimeout(0.2)
        while time.monotonic() - start < 8:
            try:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
            except TimeoutError:
                try:
                    s.sendall(b"X")
                except OSError:
                    break
            except OSError:
                break
    out[index] = (time.monotonic() - start, got)


def test_slow_heads_and_bodies_are_cut_and_healthz_stays_fast(server) -> None:
    port, base = server
    results: list = [None] * SLOW
    threads = [
        threading.Thread(
            target=_trickle, args=(port, b"GET /healthz HTTP/1.1\r\nX-A: ", results, i)
        )
        for i in range(SLOW)
    ]
    # and a connection that never sends a byte
    for t in threads:
        t.start()
    silent = socket.create_connection(("127.0.0.1", port))
    health = []
    for _ in range(10):
        t0 = time.monotonic()
        urllib.request.urlopen(base + "/healthz", timeout=5).read()
        health.append(time.monotonic() - t0)
        time.sleep(0.1)
    for t in threads:
        t.join(timeout=15)
    silent.settimeout(5)
    t0 = time.monotonic()
    assert silent.recv(4096).startswith(b"HTTP/1.1 408"), "an idle connection is cut too"
    silent.close()
    heads = results[:SLOW]
    assert all(r is not None for r in heads)
    assert max(r[0] for r in heads) < 3.0, sorted(r[0] for r in heads)[-3:]
    assert all(r[1].startswith(b"HTTP/1.1 408") for r in heads)
    assert max(health) < 1.0, health


def test_a_body_that_stops_is_cut(server) -> None:
    port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        # an admin's upload: the route reads the body, which stops after a few bytes
        s.sendall(
            b"POST /api/v1/imports/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
            b"Authorization: Bearer slow-admin\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n\r\n--b\r\n"
        )
        t0 = time.monotonic()
        got = b""
        while chunk := s.recv(4096):
            got += chunk
        elapsed = time.monotonic() - t0
    assert 0.9 < elapsed < 4.0, elapsed
    assert got.startswith(b"HTTP/1.1 408"), got[:100]


def test_the_timeouts_are_documented_settings() -> None:
    fields = Settings.model_fields
    assert fields["header_timeout_s"].default == DEFAULT_HEADER_TIMEOUT_S == 10.0
    assert fields["body_timeout_s"].default == DEFAULT_BODY_TIMEOUT_S == 30.0
