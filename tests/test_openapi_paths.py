"""The public surface does not move by accident: OpenAPI paths and methods equal the
recorded list in ``tests/data/openapi_paths.json``.

The list was generated from ``main`` before the restructure (issue 10), so refactors must
keep every URL. When an endpoint is added, renamed or removed *on purpose*, regenerate it
and commit the diff with the change that caused it::

    .venv/bin/python -m tests.test_openapi_paths --write

No database is needed: the schema is built from the routes alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from api.app import create_app
from api.settings import Settings

RECORDED = Path(__file__).parent / "data" / "openapi_paths.json"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def current_paths() -> dict[str, list[str]]:
    """path → sorted HTTP methods, as the app's /openapi.json declares them."""
    spec = create_app(Settings(database_url="postgresql://unused@127.0.0.1:1/x")).openapi()
    return {
        path: sorted(m.upper() for m in item if m in METHODS)
        for path, item in sorted(spec["paths"].items())
    }


def test_openapi_paths_and_methods_are_unchanged():
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    now = current_paths()
    added = sorted(set(now) - set(recorded))
    removed = sorted(set(recorded) - set(now))
    assert not added and not removed, f"added {added}, removed {removed} (see module docstring)"
    assert now == recorded


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.test_openapi_paths --write")
    RECORDED.write_text(json.dumps(current_paths(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RECORDED}")
