"""Meeting mode (issue 24): a presenter's choice of view or province, followed by every
screen opened with the same meeting key, through server-sent events.

Why this shape:
- **State in PostgreSQL, one poller per process.** Screens may be connected to any uvicorn
  worker or API process. The choice is one row of ``meeting`` (key, state, ``seq``); each
  process runs one asyncio task, only while it has followers, that reads the rows of the
  meetings its screens follow every ``POLL_SECONDS`` in one short query on the database
  lane (no connection is held between polls) and pushes what changed. A choice posted to
  the same process is pushed at once, before the poll. No LISTEN connection to keep alive
  across database restarts, no external service.
- **An SSE stream holds no connection and no thread**: it is a coroutine waiting on its
  own bounded queue; the current state is sent first on every (re)connection, and
  ``retry: 500`` makes EventSource come back within half a second after a drop. A stream
  ends after ``MAX_STREAM_SECONDS`` (the browser reconnects), so none lives for ever.
- **The presenter** proves nothing but a secret of their own: the first POST to a free key
  claims it with ``X-Meeting-Secret`` (stored as a SHA-256 digest); later choices need the
  same secret, else 403. The wall page makes and keeps the secret in the presenter's
  browser (localStorage). Keys are 4–64 of ``A–Z a–z 0–9 _ -``; meetings idle for
  ``IDLE_HOURS`` are deleted when a new one is claimed; at most ``MAX_MEETINGS`` exist.
- Bounded: followers per process (``MAX_FOLLOWERS``, 503 beyond), keys polled at once,
  queue length per follower (a slow one drops old states: only the newest matters), state
  size (two short fields).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, HTTPException, Path, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.engine import Engine

from api.dbgate import DbGate

KEY_PATTERN = r"^[A-Za-z0-9_-]{4,64}$"
MAX_MEETINGS = 1000
MAX_FOLLOWERS = 500  # per process
POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 15.0
MAX_STREAM_SECONDS = 600.0  # a stream ends after this; the browser reconnects (retry: 500)
IDLE_HOURS = 24
QUEUE = 4

router = APIRouter(tags=["meetings"])
Key = Annotated[
    str, Path(pattern=KEY_PATTERN, description="the meeting key (4–64 of A–Z a–z 0–9 _ -)")
]


class Choice(BaseModel):
    """What the presenter shows: a wall view id and/or a province code."""

    model_config = ConfigDict(extra="forbid")
    view: str | None = Field(None, pattern=r"^[a-z0-9_:-]{1,40}$")
    province: str | None = Field(None, pattern=r"^[0-9]{2}$")


class Hub:
    """One per process: the followers of each meeting and the poller that feeds them."""

    def __init__(self, engine: Engine, gate: DbGate) -> None:
        self.engine = engine
        self.gate = gate
        self.followers: dict[str, set[asyncio.Queue[bytes]]] = {}
        self.seen: dict[str, int] = {}  # key → the last seq pushed
        self.task: asyncio.Task | None = None

    @property
    def count(self) -> int:
        return sum(len(q) for q in self.followers.values())

    def follow(self, key: str) -> asyncio.Queue[bytes]:
        if self.count >= MAX_FOLLOWERS:
            raise HTTPException(
                503,
                "quá nhiều màn hình theo dõi — too many followers",
                headers={"Retry-After": "5"},
            )
        q: asyncio.Queue[bytes] = asyncio.Queue(QUEUE)
        self.followers.setdefault(key, set()).add(q)
        return q

    def leave(self, key: str, q: asyncio.Queue[bytes]) -> None:
        qs = self.followers.get(key)
        if qs is not None:
            qs.discard(q)
            if not qs:
                del self.followers[key]
                self.seen.pop(key, None)

    def push(self, key: str, seq: int, state: dict) -> None:
        if seq <= self.seen.get(key, 0):
            return
        self.seen[key] = seq
        for q in self.followers.get(key, ()):
            put(q, event(seq, state))

    def ensure_poller(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._poll())

    async def _poll(self) -> None:
        while self.followers:
            await asyncio.sleep(POLL_SECONDS)
            keys = list(self.followers)[:MAX_FOLLOWERS]
            try:
                rows = await self.gate.run(read_states, self.engine, keys)
            except Exception:  # noqa: BLE001 - a database away: the streams stay, retry
                await asyncio.sleep(1.0)
                continue
            for key, (seq, state) in rows.items():
                self.push(key, seq, state)


def put(q: asyncio.Queue[bytes], item: bytes) -> None:
    """The newest state wins: a full queue (a slow follower) drops its oldest."""
    if q.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            q.get_nowait()
    q.put_nowait(item)


def event(seq: int, state: dict) -> bytes:
    return b"id: %d\nevent: state\ndata: %s\n\n" % (seq, orjson.dumps({"seq": seq, **state}))


def read_states(engine: Engine, keys: list[str]) -> dict[str, tuple[int, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("select key, seq, state from meeting where key = any(:keys)"), {"keys": keys}
        )
        return {r.key: (r.seq, r.state) for r in rows}


def write_choice(engine: Engine, key: str, secret: str, state: dict) -> tuple[int, dict]:
    digest = hashlib.sha256(secret.encode()).digest()
    with engine.begin() as conn:
        row = conn.execute(
            text("select secret_sha256, seq from meeting where key = :k for update"), {"k": key}
        ).first()
        if row is None:
            conn.execute(
                text("delete from meeting where updated_at < now() - make_interval(hours => :h)"),
                {"h": IDLE_HOURS},
            )
            n = conn.execute(text("select count(*) from meeting")).scalar_one()
            if n >= MAX_MEETINGS:
                raise HTTPException(
                    503,
                    f"đã có {MAX_MEETINGS} cuộc họp — too many meetings",
                    headers={"Retry-After": "60"},
                )
            seq = 1
            conn.execute(
                text(
                    "insert into meeting (key, secret_sha256, state, seq) "
                    "values (:k, :d, cast(:s as jsonb), 1) on conflict do nothing"
                ),
                {"k": key, "d": digest, "s": orjson.dumps(state).decode()},
            )
            return seq, state
        if not hmac.compare_digest(bytes(row.secret_sha256), digest):
            raise HTTPException(
                403,
                "khóa người trình bày không đúng — wrong presenter secret "
                "(X-Meeting-Secret) for this meeting key",
            )
        seq = row.seq + 1
        conn.execute(
            text(
                "update meeting set state = cast(:s as jsonb), seq = :q, updated_at = now() "
                "where key = :k"
            ),
            {"k": key, "s": orjson.dumps(state).decode(), "q": seq},
        )
        return seq, state


def hub(request: Request) -> Hub:
    state = request.app.state
    if getattr(state, "meetings", None) is None:
        state.meetings = Hub(state.write_engine, state.db_gate)  # primary: a replica may lag
    return state.meetings


@router.get("/meetings/{key}/events", response_class=StreamingResponse)
async def meeting_events(request: Request, key: Key) -> StreamingResponse:
    """Server-sent events: ``event: state`` with ``{"seq", "view", "province"}`` now and on
    every change of the presenter's choice; a comment every 15 s keeps proxies open. An
    unclaimed key sends nothing until its first choice."""
    h = hub(request)
    q = h.follow(key)
    try:
        now = await h.gate.run(read_states, h.engine, [key])
    except BaseException:
        h.leave(key, q)
        raise
    if key in now:
        put(q, event(*now[key]))
        h.seen[key] = max(h.seen.get(key, 0), now[key][0])
    h.ensure_poller()

    async def stream() -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        started = idle = loop.time()
        try:
            yield b"retry: 500\n\n"
            while loop.time() - started < MAX_STREAM_SECONDS:  # then EventSource reconnects
                try:
                    yield await asyncio.wait_for(q.get(), 1.0)
                    idle = loop.time()
                except TimeoutError:
                    if loop.time() - idle >= HEARTBEAT_SECONDS:
                        yield b": keep-alive\n\n"
                        idle = loop.time()
        finally:
            h.leave(key, q)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


@router.post("/meetings/{key}")
async def meeting_choose(
    request: Request,
    key: Key,
    choice: Choice,
    x_meeting_secret: Annotated[str, Header(min_length=16, max_length=128)],
) -> dict[str, Any]:
    """The presenter's choice. The first POST to a free key claims it with
    ``X-Meeting-Secret``; later ones must send the same secret (403 otherwise)."""
    if choice.view is None and choice.province is None:
        raise HTTPException(422, "chọn view hoặc province — give 'view' or 'province'")
    state = choice.model_dump(exclude_none=True)
    h = hub(request)
    seq, state = await h.gate.run(write_choice, h.engine, key, x_meeting_secret, state)
    h.push(key, seq, state)  # followers on this process at once; the others within a poll
    return {"key": key, "seq": seq, **state}
