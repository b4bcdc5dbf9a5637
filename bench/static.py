"""nginx serving fixed bytes from disk: the physical limit of a warm hit on this machine.

Why: "iocmap does N req/s" says little on a shared 2-core box; "iocmap does 0.6 of what
nginx does sending the same bytes as a static file" says how much the Python path costs
on top of the kernel and the HTTP framing. Debian's nginx runs as a foreground child
(``daemon off``) on a free loopback port with a throwaway config and is stopped by us.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from bench.http import free_port, get
from deploy.nginx import binary

CONF = """\
worker_processes {workers};
pid {d}/nginx.pid;
{user}
events {{ worker_connections 4096; }}
http {{
    access_log off;
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {d}/tmp;
    proxy_temp_path {d}/tmp;
    fastcgi_temp_path {d}/tmp;
    uwsgi_temp_path {d}/tmp;
    scgi_temp_path {d}/tmp;
    types {{ }}
    server {{
        listen 127.0.0.1:{port};
        root {d}/www;
{locations}
    }}
}}
"""


class StaticNginx:
    """``with StaticNginx({"/a.json": (body, "application/json")}, workers=2) as n:``
    then ``n.base + "/a.json"`` answers those bytes with that content type."""

    def __init__(self, files: dict[str, tuple[bytes, str]], workers: int = 1) -> None:
        self.files = files
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._dir = tempfile.TemporaryDirectory(prefix="iocmap-bench-nginx-")
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> StaticNginx:
        d = Path(self._dir.name)
        (d / "www").mkdir()
        (d / "tmp").mkdir()
        locations = []
        for path, (body, media_type) in self.files.items():
            (d / "www" / path.lstrip("/")).write_bytes(body)
            locations.append(
                f"        location = {path} {{ default_type {media_type.split(';')[0]}; }}"
            )
        user = ""
        if os.geteuid() == 0:  # as root nginx's workers run as nobody: let them read
            user = "user root;"
        conf = d / "nginx.conf"
        conf.write_text(
            CONF.format(
                workers=self.workers,
                d=d,
                user=user,
                port=self.port,
                locations="\n".join(locations),
            )
        )
        log = d / "error.log"
        self.proc = subprocess.Popen(
            [binary(), "-c", str(conf), "-e", str(log), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        first = next(iter(self.files))
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {log.read_text()[-500:]}")
            try:
                if get(self.base + first, timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not answer within 10 s")
            time.sleep(0.1)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._dir.cleanup()
