"""The pages run under a CSP without ``'unsafe-inline'`` scripts (issue 21): every inline
script is allowed by its hash, so the maps still draw and nothing is reported, while a
script injected into the page is blocked."""

from __future__ import annotations

import re

import pytest

from api.csp import inline_script_hashes, policy
from tests.test_map_page import Watch, wait_js

LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));
"""
READY = {
    "/": "document.documentElement.dataset.mapReady === '1'",
    "/p/79": "document.documentElement.dataset.mapReady === '1'",
    "/wall": "document.documentElement.dataset.wallReady === '1'",
    "/upload": "document.documentElement.dataset.uploadReady === '1'",
}


def test_policy_hashes_inline_scripts_only() -> None:
    html = (
        b'<script src="/a.js"></script><script type="application/json">{"a":1}</script>'
        b"<script>alert(1)</script><SCRIPT type='text/javascript'>x()</SCRIPT>"
    )
    assert len(inline_script_hashes(html)) == 2
    csp = policy(html)
    assert "'unsafe-inline'" not in csp.split("style-src")[0]
    assert "'sha256-" in csp


@pytest.mark.parametrize("path", list(READY))
def test_pages_run_under_a_hash_only_csp(browser, live_server, client, path) -> None:
    header = client.get(path).headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]*)", header).group(1)
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.add_init_script(LISTEN)
    watch = Watch(page, live_server)
    page.goto(live_server + path, wait_until="networkidle")
    wait_js(page, READY[path], timeout=20)
    if path in ("/", "/p/79"):
        assert page.locator("path.leaflet-interactive").count() > 0, "the map draws"
    assert page.evaluate("window.__csp") == []
    assert not [e for e in watch.errors if "Content Security Policy" in e], watch.errors
    # the policy is enforced: a script injected into the page does not run
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__injected = 1'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(100)
    assert page.evaluate("window.__injected") is None
    assert any("script-src" in v for v in page.evaluate("window.__csp"))
    page.close()


def test_a_page_rebuilt_within_a_data_version_gets_its_own_hashes(client):
    """The cache may evict a page and build it again under the same ETag; Folium then
    writes new element ids into its scripts, so the policy must follow the bytes."""
    first = client.get("/")
    client.app.state.cache.clear()  # evicted: the next request builds the page again
    second = client.get("/")
    assert first.headers["etag"] == second.headers["etag"]
    from api.csp import inline_script_hashes

    for r in (first, second):
        policy = r.headers["content-security-policy"]
        for h in inline_script_hashes(r.content):
            assert h in policy
