"""Caching: version-keyed bodies, the warm fast path, the 1 s version TTL, one build per key."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from api.cache import ResponseCache, StateCache
from api.settings import Settings


def run_alone(coro) -> None:
    """``asyncio.run`` on a thread of its own: under pytest-xdist a browser test may have
    left Playwright's loop running on this worker's main thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        ex.submit(asyncio.run, coro).result()


@pytest.fixture()
def ttl_client(engine, db_url):
    """An app that trusts the data version for 0.5 s (production uses 1 s)."""
    app = create_app(Settings(database_url=db_url, version_ttl=0.5))
    with TestClient(app) as c:
        yield c


@pytest.fixture()
def bump(engine):
    """Bump the data version as an import would; restore it afterwards."""

    def do() -> None:
        with engine.begin() as conn:
            conn.execute(text("update data_state set version = version + 1"))
        bumped.append(1)

    bumped: list[int] = []
    yield do
    with engine.begin() as conn:
        conn.execute(text("update data_state set version = version - :n"), {"n": len(bumped)})


def test_warm_hits_304_and_gzip_through_the_fast_path(ttl_client):
    plain = {"Accept-Encoding": "identity"}
    first = ttl_client.get("/api/v1/communes/00004", headers=plain)
    again = ttl_client.get("/api/v1/communes/00004", headers=plain)
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert again.headers["x-as-of"] == "2025-11-13"  # the route's own headers are replayed
    assert again.headers["content-type"] == "application/geo+json"
    not_modified = ttl_client.get(
        "/api/v1/communes/00004", headers={**plain, "If-None-Match": first.headers["etag"]}
    )
    assert not_modified.status_code == 304 and not_modified.content == b""
    gz = ttl_client.get("/api/v1/communes/00004", headers={"Accept-Encoding": "gzip"})
    gz2 = ttl_client.get("/api/v1/communes/00004", headers={"Accept-Encoding": "gzip"})
    assert gz2.headers["content-encoding"] == "gzip" and gz2.json() == first.json()
    assert gz.headers["etag"] == gz2.headers["etag"] != first.headers["etag"]
    for _ in range(2):  # an empty tile stays a 204 when served from the cache
        tile = ttl_client.get("/tiles/communes/6/0/0.mvt")
        assert tile.status_code == 204 and tile.content == b""
    # a cached body never answers a request the route would refuse
    assert ttl_client.get("/api/v1/communes/00004", params={"x": "1"}).status_code == 400


def test_new_version_shows_within_the_ttl_with_a_new_etag(ttl_client, bump):
    plain = {"Accept-Encoding": "identity"}
    before = ttl_client.get("/api/v1/provinces", params={"fields": "code"}, headers=plain)
    bump()
    deadline = time.monotonic() + 0.5 + 1.0  # the TTL, and slack for a loaded machine
    while True:  # wait for the condition (the new version), not for a fixed time
        after = ttl_client.get("/api/v1/provinces", params={"fields": "code"}, headers=plain)
        if after.headers["etag"] != before.headers["etag"]:
            break
        assert time.monotonic() < deadline, "the new data version did not show within the TTL"
        time.sleep(0.05)
    assert int(after.headers["x-data-version"]) == int(before.headers["x-data-version"]) + 1
    assert after.json()["data_version"] == before.json()["data_version"] + 1
    stale = ttl_client.get(
        "/api/v1/provinces", params={"fields": "code"},
        headers={**plain, "If-None-Match": before.headers["etag"]},
    )  # fmt: skip
    assert stale.status_code == 200


def test_exact_mode_sees_a_new_version_at_once(client, bump):
    before = client.get("/api/v1/indicators").headers["etag"]
    bump()
    assert client.get("/api/v1/indicators").headers["etag"] != before


def test_concurrent_misses_share_one_build_and_errors_are_not_cached():
    async def scenario() -> None:
        cache = ResponseCache(max_entries=10)
        calls: list[int] = []
        gate = asyncio.Event()

        async def slow() -> bytes:
            calls.append(1)
            await gate.wait()
            return b"x" * 2000

        waiting = [asyncio.ensure_future(cache.get_or_build(1, "k", slow, "a/b")) for _ in range(8)]
        await asyncio.sleep(0.05)
        waiting[0].cancel()  # a client that leaves does not cancel the others' build
        gate.set()
        results = await asyncio.gather(*waiting[1:])
        assert len(calls) == 1 and len({id(e) for e in results}) == 1
        await cache.ensure_gzip(results[0], lambda fn: asyncio.to_thread(fn))
        assert results[0].gzip_ready and len(results[0].gzipped) < 100

        async def boom() -> bytes:
            raise ValueError("bad")

        with pytest.raises(ValueError):
            await cache.get_or_build(1, "e", boom, "a/b")
        assert cache.get(1, "e") is None

    run_alone(scenario())


def test_the_version_check_is_one_read_for_a_crowd():
    """200 requests arriving when the version is stale cost one read, not 200."""

    async def scenario() -> None:
        reads: list[int] = []

        async def read() -> int:
            reads.append(1)
            await asyncio.sleep(0.02)
            return len(reads)

        states: StateCache[int] = StateCache(ttl=0.2, read=read)
        got = await asyncio.gather(*(states.get() for _ in range(200)))
        assert got == [1] * 200 and len(reads) == 1
        assert states.fresh() == 1
        await asyncio.sleep(0.12)  # past half the TTL: still served, one read in the background
        assert [states.fresh() for _ in range(200)] == [1] * 200
        await asyncio.sleep(0.06)
        assert len(reads) == 2 and states.fresh() == 2
        await asyncio.sleep(0.25)  # past the TTL without traffic: never served
        assert states.fresh() is None

    run_alone(scenario())


def test_cache_is_bounded_by_bytes():
    cache = ResponseCache(max_entries=100, max_bytes=10_000)

    async def body() -> bytes:
        return b"y" * 4000

    async def fill() -> None:
        for i in range(5):
            await cache.get_or_build(1, str(i), body, "a/b")

    run_alone(fill())
    assert cache.get(1, "0") is None and cache.get(1, "4") is not None


def test_answers_to_distinct_filters_hold_a_small_share_and_never_push_out_layers():
    """A crowd of distinct CQL2 filters (issue 21) keeps at most an eighth of the cache:
    the worker does not stay grown after it, and the layers everyone shares stay cached."""
    cache = ResponseCache(max_entries=1000, max_bytes=80_000)  # filters: ≤ 10,000 bytes

    async def body() -> bytes:
        return b"z" * 4000

    async def crowd() -> None:
        await cache.get_or_build(1, "layer", body, "a/b")
        for i in range(50):
            await cache.get_or_build(1, f"filter={i}", body, "a/b", transient=True)

    run_alone(crowd())
    kept = [i for i in range(50) if cache.get(1, f"filter={i}") is not None]
    assert kept == [48, 49]  # the newest two (2 × 4,000 ≤ 10,000)
    assert cache.get(1, "layer") is not None
