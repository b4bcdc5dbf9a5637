"""Public reads answer any origin (Access-Control-Allow-Origin: *), writes and token reads
do not; a browser's preflight for a read is answered, one for a write is not."""

from __future__ import annotations

ORIGIN = {"Origin": "https://notebook.example.org"}


def test_public_reads_allow_any_origin(client):
    for path in ("/api/v1/provinces?limit=1", "/ogc/collections", "/tiles/provinces/5/25/14.mvt"):
        r = client.get(path, headers=ORIGIN)
        assert r.status_code in (200, 204), (path, r.status_code)
        assert r.headers["access-control-allow-origin"] == "*"
        assert "ETag" in r.headers["access-control-expose-headers"]
    pre = client.options(
        "/api/v1/provinces",
        headers={**ORIGIN, "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "if-none-match"},
    )  # fmt: skip
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == "*"


def test_writes_and_token_reads_get_no_cors(client):
    post = client.post("/api/v1/imports/tasks", headers=ORIGIN)
    assert "access-control-allow-origin" not in post.headers
    pre = client.options(
        "/api/v1/imports/tasks", headers={**ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in pre.headers
    token = client.get("/api/v1/provinces", headers={**ORIGIN, "Authorization": "Bearer x"})
    assert "access-control-allow-origin" not in token.headers
