"""The pages' Content-Security-Policy: inline scripts allowed by their hashes, never by
``'unsafe-inline'`` (issue 21).

Why hashes and not nonces: pages are built once per data version and served from the
response cache (and by nginx), so one body is sent to many clients; a nonce would have to
differ per response. A hash is a property of the bytes, computed the first time a page
body is seen and remembered by a digest of those bytes (not by the ETag: a page rebuilt
within a data version — the cache evicted it — keeps its ETag, but Folium gives its
elements new ids, so its scripts hash differently), so a cache hit costs one fast digest
and a dictionary lookup.
Folium writes two or three inline ``<script>`` blocks per map page; JSON data blocks
(``type="application/json"``) are not scripts and need no hash. Styles keep
``'unsafe-inline'``: Leaflet positions every tile and marker with inline styles.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from collections import OrderedDict

_TAIL = (
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; "
    "font-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
)
STRICT = f"default-src 'self'; script-src 'self'; {_TAIL}"  # a page with no inline script
_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.DOTALL | re.IGNORECASE)
_TYPE = re.compile(rb"""\btype\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_JS_TYPES = {b"", b"text/javascript", b"application/javascript", b"module"}
MAX_BODY = 16 << 20  # pages above this are sent with STRICT (none is near it)
_MEMO: OrderedDict[bytes, str] = OrderedDict()
_MEMO_SIZE = 512


def inline_script_hashes(html: bytes) -> list[str]:
    """``'sha256-…'`` of every inline script the browser would run, in page order."""
    out = []
    for attrs, body in _SCRIPT.findall(html):
        if re.search(rb"\bsrc\s*=", attrs):
            continue
        kind = _TYPE.search(attrs)
        if kind and kind.group(1).lower() not in _JS_TYPES:
            continue  # data blocks (application/json) do not run
        # the HTML parser turns CRLF into LF before the browser hashes the text
        digest = hashlib.sha256(body.replace(b"\r\n", b"\n")).digest()
        source = f"'sha256-{base64.b64encode(digest).decode()}'"
        if source not in out:
            out.append(source)
    return out


def policy(html: bytes) -> str:
    """The CSP for one HTML body."""
    hashes = inline_script_hashes(html)
    if not hashes:
        return STRICT
    return f"default-src 'self'; script-src 'self' {' '.join(hashes)}; {_TAIL}"


def policy_for(body: bytes, gzipped: bool, etag: bytes | None = None) -> str:
    """The CSP for a response body (gzip-encoded or not), memoised by a digest of the
    body's bytes so that a page served from the cache is parsed once."""
    key = hashlib.blake2b(body, digest_size=16).digest() + (b"gz" if gzipped else b"")
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    if gzipped:
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError):
            return STRICT
    found = policy(body)
    _MEMO[key] = found
    if len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return found
