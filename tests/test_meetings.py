"""Meeting mode (issue 24, api/meetings.py): a presenter's choice reaches every screen that
follows the same key within 1 s, also after a follower's connection drops; the presenter's
secret guards the key; everything bounded."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from api import meetings
from tests.test_map_page import wait_js

SECRET = {"X-Meeting-Secret": "s3cret-of-the-presenter"}


def key() -> str:
    return "t" + uuid.uuid4().hex[:12]


def test_the_first_presenter_claims_the_key(client):
    k = key()
    r = client.post(f"/api/v1/meetings/{k}", json={"view": "north"}, headers=SECRET)
    assert r.status_code == 200 and r.json() == {"key": k, "seq": 1, "view": "north"}
    r = client.post(f"/api/v1/meetings/{k}", json={"province": "79"}, headers=SECRET)
    assert r.json()["seq"] == 2
    other = {"X-Meeting-Secret": "someone-else-entirely"}
    r = client.post(f"/api/v1/meetings/{k}", json={"view": "south"}, headers=other)
    assert r.status_code == 403 and "X-Meeting-Secret" in r.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "headers", "param"),
    [
        ("/api/v1/meetings/abc", {"view": "north"}, SECRET, "key"),  # too short
        (f"/api/v1/meetings/{'k' * 65}", {"view": "north"}, SECRET, "key"),  # too long
        ("/api/v1/meetings/bad%20key", {"view": "north"}, SECRET, "key"),
        ("/api/v1/meetings/goodkey1", {"view": "north"}, {}, "x-meeting-secret"),
        ("/api/v1/meetings/goodkey1", {"view": "north"}, {"X-Meeting-Secret": "short"}, None),
        ("/api/v1/meetings/goodkey1", {"province": "7"}, SECRET, "province"),
        ("/api/v1/meetings/goodkey1", {"view": "<script>"}, SECRET, "view"),
        ("/api/v1/meetings/goodkey1", {"view": "north", "x": 1}, SECRET, "x"),
        ("/api/v1/meetings/goodkey1", {}, SECRET, None),
    ],
)
def test_bad_choices_are_clear_4xx(client, path, body, headers, param):
    r = client.post(path, json=body, headers=headers)
    assert r.status_code in (400, 404, 422), (path, r.status_code, r.text)
    if param:
        assert param in r.text


def test_followers_per_process_are_bounded(client, monkeypatch):
    monkeypatch.setattr(meetings, "MAX_FOLLOWERS", 0)
    r = client.get(f"/api/v1/meetings/{key()}/events")
    assert r.status_code == 503 and r.headers["retry-after"]


def read_events(lines, want: int, deadline: float) -> list[str]:
    got: list[str] = []
    for line in lines:
        if line.startswith("data: "):
            got.append(line[6:])
            if len(got) >= want:
                break
        if time.monotonic() > deadline:
            break
    return got


def test_events_stream_current_state_then_changes(live_server):
    k = key()
    url = f"{live_server}/api/v1/meetings/{k}"
    with httpx.Client(timeout=5) as http:
        assert http.post(url, json={"view": "north"}, headers=SECRET).status_code == 200
        with http.stream("GET", url + "/events") as s:
            assert s.status_code == 200
            assert s.headers["content-type"].startswith("text/event-stream")
            assert s.headers["cache-control"] == "no-store"
            lines = s.iter_lines()
            first = read_events(lines, 1, time.monotonic() + 3)
            assert first == ['{"seq":1,"view":"north"}']  # the current state on connect
            t0 = time.monotonic()
            http.post(url, json={"province": "79"}, headers=SECRET)
            assert read_events(lines, 1, time.monotonic() + 3) == ['{"seq":2,"province":"79"}']
            assert time.monotonic() - t0 < 1.0


def open_wall_page(browser, origin: str, query: str):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(f"{origin}/wall?{query}", wait_until="load")  # an SSE stream never idles
    wait_js(page, "document.documentElement.dataset.wallReady === '1'")
    return page


def active_view(page) -> str | None:
    return page.evaluate("(document.querySelector('#wall-views li.active') || {}).dataset?.view")


def wait_follow(page, view: str, seconds: float = 1.0) -> float:
    t0 = time.monotonic()
    wait_js(
        page,
        f"(document.querySelector('#wall-views li.active') || {{}}).dataset?.view === '{view}'",
        timeout=seconds,
    )
    return time.monotonic() - t0


def test_two_screens_follow_the_presenter(browser, live_server, monkeypatch):
    k = key()
    presenter = open_wall_page(
        browser, live_server, f"meeting={k}&present=1&views=national,north,south"
    )
    wait_js(presenter, "IOC.wall.meeting && IOC.wall.meeting.status === 200")
    follower = open_wall_page(browser, live_server, f"meeting={k}&views=national,north,south")
    wait_js(follower, "document.documentElement.dataset.meeting === 'follow'")
    wait_follow(follower, "national", 3.0)
    presenter.keyboard.press("ArrowRight")
    assert active_view(presenter) == "north"
    assert wait_follow(follower, "north") < 1.0
    presenter.click('#wall-views li[data-view="south"]')
    assert wait_follow(follower, "south") < 1.0
    # the follower's connection drops; meanwhile the presenter moves on
    follower.context.set_offline(True)
    monkeypatch.setattr(meetings, "MAX_STREAM_SECONDS", 0.0)  # the server ends the stream
    wait_js(follower, "IOC.meetingSource.readyState !== 1", 3.0)  # EventSource lost it
    monkeypatch.setattr(meetings, "MAX_STREAM_SECONDS", 600.0)
    presenter.keyboard.press("ArrowLeft")
    time.sleep(0.5)
    assert active_view(follower) == "south"
    follower.context.set_offline(False)
    assert wait_follow(follower, "north", 3.0) < 3.0  # back: the current state on connect
    assert follower.evaluate("IOC.wall.meeting.opens") >= 2
    presenter.keyboard.press("ArrowRight")
    assert wait_follow(follower, "south") < 1.0
    presenter.close()
    follower.close()
