"""Private working directories of one service instance (download cache, uploads).

Why: the download cache used to live at a fixed ``/tmp/iocmap-downloads``: two instances on
one host with different databases served each other's files (same version number, other
data) and deleted each other's. Each instance now works under
``<var>/instances/<database digest>/``, created 0700 and refused when another user owns it
or it is a symbolic link; ``<var>`` is ``IOCMAP_VAR_DIR``, else ``var/`` in the project,
else ``~/.cache/iocmap`` (an installed package's directory is not ours to write).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class UnsafeDirectory(RuntimeError):
    """A working directory that another user could read or replace."""


def var_root(configured: str | None = None) -> Path:
    """Where instances keep their files."""
    if configured:
        return Path(configured).expanduser()
    if (PROJECT_ROOT / "pyproject.toml").exists() and os.access(PROJECT_ROOT, os.W_OK):
        return PROJECT_ROOT / "var"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "iocmap"


def private_dir(path: Path) -> Path:
    """``path`` as a directory only we can enter (created 0700, tightened if looser)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise UnsafeDirectory(f"{path} is not a plain directory")
    if info.st_uid != os.getuid():
        raise UnsafeDirectory(f"{path} belongs to another user (uid {info.st_uid})")
    if stat.S_IMODE(info.st_mode) & 0o077:
        path.chmod(0o700)
    return path


def instance_dir(database_url: str, configured: str | None = None) -> Path:
    """This instance's directory: one per database (host, port, name), never per user
    or password, so every process serving the same database shares its cache."""
    url = make_url(database_url)
    ident = f"{url.host or ''}:{url.port or ''}/{url.database or ''}"
    digest = hashlib.sha256(ident.encode()).hexdigest()[:16]
    root = var_root(configured)
    # var/ itself is shared with the local clusters (var/pg, var/prod), which the postgres
    # user must traverse: only our own subtree is made private
    root.mkdir(parents=True, exist_ok=True)
    private_dir(root / "instances")
    return private_dir(root / "instances" / f"{url.database or 'db'}-{digest}"[:80])
