"""``iocmap maps build``: standalone HTML that opens from disk with no server at all."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from api.app import create_app
from api.settings import Settings
from maps.build import build_site
from tests.test_map_page import wait_js


@pytest.fixture(scope="module")
def site(engine, db_url, tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    files = build_site(create_app(Settings(database_url=db_url, log_level="INFO")), out, ["40"])
    assert [f.relative_to(out).as_posix() for f in files] == ["index.html", "p/40.html"]
    return out


def test_export_prints_no_access_log_lines(engine, db_url, tmp_path, capfd):
    build_site(create_app(Settings(database_url=db_url, log_level="INFO")), tmp_path, ["96"])
    out, err = capfd.readouterr()
    assert "iocmap.access" not in out + err and '"path"' not in out + err


def test_export_links_only_the_commune_maps_it_wrote(browser, site):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto((site / "index.html").as_uri(), wait_until="load")
    wait_js(page, "document.documentElement.dataset.mapReady === '1'")
    page.click('path[data-code="66"]')
    wait_js(page, "document.querySelector('#ioc-panel').dataset.state === 'ready'")
    assert page.locator("#ioc-drill").count() == 0  # p/66.html was not built
    hrefs = page.evaluate(
        "() => Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"
    )
    pages = [h.split("#")[0] for h in hrefs if ".html" in h]
    assert all((site / h).exists() for h in pages), pages
    page.close()


def test_export_has_no_external_reference(site):
    for html in site.rglob("*.html"):
        body = html.read_text(encoding="utf-8")
        assert not re.search(r"https?://", body), html
        for ref in re.findall(r"""(?:src|href)="([^"#?]+\.(?:js|css|svg))\"""", body):
            assert (html.parent / ref).resolve().is_file(), ref


def test_export_opens_from_disk_with_its_data(browser, site):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto((site / "index.html").as_uri(), wait_until="load")
    wait_js(page, "document.documentElement.dataset.mapReady === '1'")
    assert page.locator("path.leaflet-interactive").count() == 34
    page.click('path[data-code="40"]')
    wait_js(page, "document.querySelector('#ioc-panel').dataset.state === 'ready'")
    assert page.locator("#ioc-panel tr.task").count() == 100  # Nghệ An's tasks, embedded
    page.click("#ioc-drill")
    wait_js(page, "document.documentElement.dataset.mapReady === '1'")
    assert page.url.endswith("/p/40.html")
    assert page.locator("path.leaflet-interactive").count() == 130
    page.fill("#ioc-search", "vinh")  # offline search over the embedded names
    wait_js(page, "document.querySelectorAll('#ioc-search-list li[data-i]').length > 0")
    assert errors == []
    assert all(u.startswith(("file://", "data:", "blob:")) for u in requests), requests
    page.close()


def test_cli_rejects_a_bad_province_code():
    from iocmap.cli import app

    result = CliRunner().invoke(app, ["maps", "build", "--out", "/tmp/x", "--province", "4"])
    assert result.exit_code != 0 and "--province" in result.output


def test_build_runs_without_an_http_client_library(db_url, tmp_path):
    """httpx is a test tool, not a run-time dependency: the build works with it blocked."""
    import os
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['httpx'] = None; sys.modules['starlette.testclient'] = None\n"
        "from iocmap.cli import app\n"
        f"app(['maps', 'build', '--out', {str(tmp_path)!r}, '--province', '96'])\n"
    )
    env = {**os.environ, "IOCMAP_DATABASE_URL": db_url}
    res = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert (tmp_path / "p" / "96.html").is_file() and (tmp_path / "index.html").is_file()
    assert '"/provinces/96"' in (tmp_path / "index.html").read_text(encoding="utf-8")
