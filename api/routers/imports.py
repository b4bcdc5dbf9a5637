"""``POST /api/v1/imports/{boundaries|tasks|indicators|targets}``: the CLI's imports over HTTP.

Why the same functions and the same report: a provincial office uploading a sheet must get
exactly what ``iocmap import`` prints (counts, and every problem with file, row and
field), as JSON: the query parameters become the same ``ImportOptions`` the CLI's flags
do. Uploads are size-capped while they stream in (``IOCMAP_IMPORT_MAX_BYTES``; sheets
``IOCMAP_IMPORT_SHEET_MAX_BYTES``, 20 MiB) and written to a temporary directory in chunks;
the sheet reader then applies its own limits (rows, cells, inflated size: 413 naming the
limit). The uploaded file's name is cleaned (``file_label``) before it is shown or
stored. Waiting for another import of the same kind is bounded
(``IOCMAP_IMPORT_LOCK_TIMEOUT_S``); the 409 names the import that holds the lock.

Why one module (over 400 lines): an upload's life — the token, the capped stream into a
private folder, the attempt record that survives a killed worker, the options, the import
and the folder removed on every exit path — is one sequence that must be read in one place
to see that every exit records and cleans up; the import log's listing shares its scope.

Who may write (see api/auth.py and geo/tokens.py): boundaries and indicators need an
admin token; task and target sheets an editor token scoped to the province/commune/agency
of every row (or an admin). The kind is checked before the upload is read, and a scoped
editor's units before any validation problem is reported (a 403, not a report on other units' rows).
``IOCMAP_ADMIN_TOKEN`` is a bootstrap admin; others come from ``iocmap token create``.
Without any token the server is read-only.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, BinaryIO, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as Path_
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect

from api.auth import (
    acting_engine,
    admin_principal,
    editor_reader,
    write_engine,
    writer_principal,
)
from api.dbgate import db_gate
from api.deps import LazyConnDep
from api.errors import FileTooLarge, ImportRejected
from api.instance import private_dir
from api.models import ImportRuns, ok
from api.page_warm import schedule_warm
from api.params import page_links
from geo.errors import BadInput, IocmapError
from geo.ingest import attempts, files
from geo.ingest.report import Kind
from geo.ingest.sheet_import import ImportOptions, Scope
from geo.ingest.sheets import SheetLimits
from geo.read.imports import MAX_LIMIT as MAX_RUNS
from geo.read.imports import import_runs
from geo.safe_text import file_label
from geo.tokens import Principal

router = APIRouter(tags=["imports"])
_GONE = "Yêu cầu tải lên bị ngắt giữa chừng — the upload request ended before the import finished"
CHUNK = 1 << 20
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


SCOPED = ("tasks", "targets")  # an editor writes these for the units of its scope


async def import_principal(request: Request, kind: str) -> Principal:
    """Who writes: boundaries and indicators need an admin token; task sheets an editor
    or admin token (a scoped editor is then checked per unit inside the transaction).
    Looked up on the database lane: the event loop never waits on the token query."""
    return await (writer_principal(request) if kind in SCOPED else admin_principal(request))


MAX_NAME_CHARS = 120


def scope_rows(who: Principal) -> Scope:
    """The scope hook of a task import: which of the sheet's units the token may not
    change (rows naming them become row errors), and who the token is, for messages."""

    def denied(conn, unit_codes: set[str]) -> list[str]:
        return list(who.can_write_units(conn, unit_codes))

    return Scope(denied, f"{who.name} ({who.scope_level}:{who.scope_code})")


def report_language(accept: str | None) -> str:
    """``vi`` unless the client's Accept-Language prefers English over Vietnamese."""
    for part in (accept or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("vi"):
            return "vi"
        if tag.startswith("en"):
            return "en"
    return "vi"


def parse_mapping(raw: str | None) -> dict[str, str] | None:
    """``columns=`` → {header: field}; a 422 naming the parameter when it is not that."""
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(k) <= 200 and len(v) <= 40
        for k, v in value.items()
    ):
        raise BadInput(
            'columns: expected a JSON object {"file header": "field"} of short texts',
            field="columns",
        )
    return value


def _safe_name(name: str | None, default: str) -> str:
    """The uploaded file's base name, reduced to characters safe on any file system and
    to ``MAX_NAME_CHARS``; a long name is cut in its stem, so it keeps its extension (the
    readers choose by it: ``.xlsx``, ``.csv``, ``.shp``…; cut, a 130-character name was
    refused as "not a sheet")."""
    base = Path(name or default).name
    base = re.sub(r"[^\w.\-]+", "_", base, flags=re.UNICODE).strip("._") or default
    if len(base) <= MAX_NAME_CHARS:
        return base
    suffix = Path(base).suffix
    suffix = suffix if len(suffix) <= 10 else ""  # ".xlsx", ".geojson"; not a dotted tail
    return base[: MAX_NAME_CHARS - len(suffix)].rstrip("._") + suffix


async def _receive_capped(request: Request, cap: int):
    """The request's form, refusing bodies over ``cap`` bytes even without Content-Length."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise FileTooLarge(f"upload of {int(declared):,} bytes exceeds the {cap:,}-byte limit")
    received = 0
    receive = request.receive

    async def counting():
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > cap:
            raise FileTooLarge(f"upload exceeds the {cap:,}-byte limit")
        return message

    capped = Request(request.scope, counting)
    return await capped.form(max_files=16, max_fields=32)


MAPPING_MAX = 64_000  # characters of a header mapping sent as a form field


async def _save_uploads(
    request: Request, folder: Path, cap: int
) -> tuple[Path, str, str | None, list[tuple[str, BinaryIO]]]:
    """Write the uploaded file(s) into ``folder``; the path to import, its display name,
    the form field ``columns`` (a header mapping too long for the query string: the page
    sends the office's whole saved mapping this way) and every part's name with the
    request's spooled copy of it (kept from there, in chunks: the serving process never
    reads the saved upload back, and never holds a whole file)."""
    form = await _receive_capped(request, cap)
    texts = [v for k, v in form.multi_items() if k == "columns" and isinstance(v, str)]
    if texts and len(texts[0]) > MAPPING_MAX:
        raise BadInput(f"columns: over {MAPPING_MAX:,} characters", field="columns")
    mapping = texts[0] if texts else None
    uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
    if not uploads:
        raise BadInput("no file uploaded: send the file as multipart form field 'file'")
    saved: list[Path] = []
    kept: list[tuple[str, BinaryIO]] = []
    for i, up in enumerate(uploads):
        target = folder / _safe_name(up.filename, f"upload-{i}")
        with target.open("wb") as out:
            while chunk := await up.read(CHUNK):
                out.write(chunk)
        saved.append(target)
        kept.append((target.name, up.file))  # closed once kept (``_keep``)
    if len(saved) == 1:
        return saved[0], file_label(uploads[0].filename, saved[0].name), mapping, kept
    shp = [p for p in saved if p.suffix.lower() == ".shp"]
    if len(shp) == 1 and all(p.suffix.lower() in SHAPEFILE_PARTS for p in saved):
        original = next(u.filename for u in uploads if (u.filename or "").lower().endswith(".shp"))
        return shp[0], file_label(original, shp[0].name), mapping, kept
    err = BadInput(
        "several files uploaded: send one file (a .zip for a shapefile), or the parts of one"
        " shapefile (.shp, .shx, .dbf, .prj)"
    )
    err.saved = kept  # type: ignore[attr-defined]  # kept like any refused upload
    raise err


def _keep(engine, parts: list[tuple[str, BinaryIO]]) -> str | None:
    """Keep the upload's parts (``files.store_parts``), then close their spooled copies."""
    try:
        return files.store_parts(engine, parts)
    finally:
        for _, stream in parts:
            stream.close()


def _boundary_actor(who: Principal) -> str:
    """The actor a boundary import records: the token's id and name (like task imports)."""
    if who.token_id is not None:
        return f"token:{who.token_id}:{who.name}"
    return who.actor


def _respond(report) -> JSONResponse:
    if not report.ok:
        raise ImportRejected(report)
    return JSONResponse(report.to_dict())


Flag = Annotated[bool, Query(description="check and report, change nothing")]
Skip = Annotated[bool, Query(description="import the good rows/features, report the rest")]
Text = Annotated[str | None, Query(max_length=200)]


@router.post(
    "/imports/{kind}",
    summary="Import a boundary file, a task sheet or an indicator sheet (multipart 'file')",
    responses={
        200: {"description": "the import report"},
        409: {"description": "another import of the same kind is running"},
        413: {"description": "upload over the size limit"},
        422: {"description": "the file cannot be used or the import was rejected"},
    },
)
async def post_import(
    kind: Kind,
    request: Request,
    level: Annotated[
        Literal["province", "commune"] | None, Query(description="boundaries: which level")
    ] = None,
    code_field: Text = None,
    name_field: Text = None,
    parent_field: Text = None,
    crs: Text = None,
    layer: Text = None,
    encoding: Text = None,
    sheet: Text = None,
    period: Text = None,
    legacy_codes: Annotated[bool, Query(description="codes predate July 2025")] = False,
    dry_run: Flag = False,
    skip_invalid: Skip = False,
    allow_new_units: Annotated[
        bool, Query(description="boundaries: accept codes not in the official list")
    ] = False,
    province_outline: Annotated[
        bool, Query(description="boundaries: keep the province file's outline")
    ] = False,
    strict_borders: Annotated[
        bool,
        Query(
            description="boundaries: refuse the file where it overlaps stored official"
            " neighbours beyond the overlap tolerance (default: left to them, warned)"
        ),
    ] = False,
    lang: Annotated[
        Literal["vi", "en"] | None,
        Query(description="language of the reasons (default: Accept-Language, else vi)"),
    ] = None,
    columns: Annotated[
        str | None,
        Query(
            max_length=4000,
            description='header mapping, JSON {"file header": "field"} ("" = ignore it);'
            " the clerk's decisions on /upload (or the multipart form field 'columns')",
        ),
    ] = None,
    move_units: Annotated[
        bool, Query(description="tasks: a row may move a stored task to another unit")
    ] = False,
    report_date: Annotated[
        dt.date | None,
        Query(
            description="tasks: the day the sheet reports on (YYYY-MM-DD), when its title"
            " block does not say it; a row done without a date is done by that day"
        ),
    ] = None,
):
    """Run the import and return its report (the same one ``iocmap import`` prints)."""
    who = await import_principal(request, kind)  # before a byte of the upload is read
    language = lang or report_language(request.headers.get("accept-language"))
    mapping = parse_mapping(columns)
    if kind == "boundaries" and level is None:
        raise BadInput("boundaries need level=province or level=commune", field="level")
    settings = request.app.state.settings
    cap = int(settings.import_max_bytes)
    if kind != "boundaries":
        cap = min(cap, int(settings.import_sheet_max_bytes))
    # uploads land in this instance's private directory (api/instance.py), not /tmp
    work = getattr(request.app.state, "work_dir", None)
    base = private_dir(Path(work) / "uploads") if work else None
    engine = write_engine(request)
    if base is not None:  # folders of killed requests: recorded, removed (off the loop)
        await run_in_threadpool(attempts.sweep, base, engine)
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=base))
    actor = _boundary_actor(who) if kind == "boundaries" else who.actor
    attempt = attempts.Attempt(kind, "(upload)", actor, who.token_id, dry_run)
    try:
        attempts.write_manifest(folder, attempt)
        try:
            path, display, form_columns, uploaded = await _save_uploads(request, folder, cap)
        except BadInput as exc:  # several files that are not one shapefile: kept, refused
            parts = getattr(exc, "saved", None)
            if parts:
                attempt.file_sha256 = await run_in_threadpool(_keep, engine, parts)
            raise
        attempt.file = display
        # the original bytes, kept before anything reads them (accepted, dry run or refused)
        attempt.file_sha256 = await run_in_threadpool(_keep, engine, uploaded)
        del uploaded  # the bytes are in the database; the import reads the folder's copy
        attempts.write_manifest(folder, attempt)
        if form_columns and not columns:
            mapping = parse_mapping(form_columns)
        options = ImportOptions(
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            legacy_codes=legacy_codes,
            sheet_name=sheet,
            encoding=encoding,
            period=period,
            display_name=display,
            write_rejects_file=False,
            actor=who.actor,
            token_id=who.token_id,
            lock_timeout_s=float(settings.import_lock_timeout_s),
            limits=SheetLimits(max_bytes=cap, **settings.sheet_counts()),
            scope=scope_rows(who) if kind in SCOPED else None,
            lang=language,
            columns=mapping,
            move_units=move_units,
            report_date=report_date,
            file_sha256=attempt.file_sha256,
        )
        engine = acting_engine(request, who)  # history rows stamped with who's token
        # the importers (geopandas, the coverage code) load on the first import, not at start
        from geo.ingest.boundaries import BoundaryOptions, import_boundaries
        from geo.ingest.indicators import import_indicators
        from geo.ingest.targets import import_targets
        from geo.ingest.tasks import import_tasks

        if kind == "boundaries":
            assert level is not None  # checked above, before the upload was read
            boundary = BoundaryOptions(
                code_field=code_field, name_field=name_field, parent_field=parent_field,
                crs=crs, layer=layer, encoding=encoding, dry_run=dry_run,
                skip_invalid=skip_invalid, display_name=display,
                lock_timeout_s=options.lock_timeout_s, allow_new_units=allow_new_units,
                province_outline=province_outline, strict_borders=strict_borders,
                actor=actor, processes=settings.import_processes,
                file_sha256=attempt.file_sha256,
            )  # fmt: skip
            report = await run_in_threadpool(import_boundaries, engine, path, level, boundary)
        elif kind == "tasks":
            report = await run_in_threadpool(import_tasks, engine, path, options)
        elif kind == "targets":
            report = await run_in_threadpool(import_targets, engine, path, options)
        else:
            report = await run_in_threadpool(import_indicators, engine, path, options)
    except (IocmapError, ClientDisconnect) as exc:  # refused: a 4xx; or the client left
        outcome, reason = (
            ("refused", exc.message) if isinstance(exc, IocmapError) else ("interrupted", _GONE)
        )
        run_id = await run_in_threadpool(attempts.record_attempt, engine, attempt, outcome, reason)
        if isinstance(exc, IocmapError):
            exc.import_id = run_id  # type: ignore[attr-defined]  # named in the 4xx body
        raise
    except BaseException as exc:  # cancelled, or a fault: the import did not finish
        # recorded right here: a cancelled task cannot await any more
        attempts.record_attempt(engine, attempt, "interrupted", f"{_GONE} ({type(exc).__name__})")
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not report.ok and report.import_id is None:  # refused before the data's transaction
        first = report.errors[0].reason if report.errors else None
        attempt.file = report.file or attempt.file
        report.import_id = await run_in_threadpool(
            attempts.record_attempt, engine, attempt, "refused", first
        )
    response = _respond(report)
    if report.version is not None and not dry_run:
        schedule_warm(request.app, None, request)  # the new version's map pages, built now
    return response


@router.get(
    "/imports",
    summary="Every import, newest first: who, when, which file, what it did",
    responses={
        **ok(ImportRuns),
        401: {"description": "no valid token"},
        403: {"description": "a viewer token"},
    },
)
async def list_imports(
    request: Request,
    db: LazyConnDep,
    limit: Annotated[int, Query(ge=1, le=MAX_RUNS, description="page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    kind: Annotated[Kind | None, Query()] = None,
) -> JSONResponse:
    """Imports as ``import_run`` recorded them — committed, dry runs and rejected ones
    (a file refused before it reached the data, e.g. unreadable, is not listed): kind,
    file name (cleaned), actor and token (id and label), when, counts, data version before
    and after, outcome. Who may read: an editor or admin token — the ones that may import
    (the list names people and tokens, so it is not public data). Not cached: an audit
    view must show the import that just finished. A scoped editor sees its own runs and
    runs that named a unit of its scope, without other tokens' names."""
    who = await editor_reader(request, "read the import list")

    admin = who.role == "admin"
    scope = None if admin else (who.scope_code or "-")  # "-": an unscoped editor sees its own

    def build() -> tuple[int, list[dict]]:
        try:
            return import_runs(db.conn, limit, offset, kind, scope, who.token_id)
        finally:
            db.close()

    total, rows = await db_gate(request).run(build)

    def shown(r: dict) -> bool:
        """Token names (and actors, which hold them) are an admin's to read, or one's own."""
        return admin or (r["token_id"] is not None and r["token_id"] == who.token_id)

    items = [
        {
            "id": r["id"],
            "kind": r["kind"],
            "file": file_label(r["file"]),
            "actor": r["actor"] if shown(r) else None,
            "token_id": r["token_id"] if shown(r) else None,
            "token_name": r["token_name"] if shown(r) else None,
            "at": r["at"].isoformat(),
            "dry_run": r["dry_run"],
            "outcome": r["outcome"],
            "file_sha256": r["file_sha256"],
            "created": r["created"],
            "updated": r["updated"],
            "unchanged": r["unchanged"],
            "rejected": r["rejected"],
            "version_before": r["version_before"],
            "version_after": r["version"],
        }
        for r in rows
    ]
    body = {
        "numberMatched": total,
        "numberReturned": len(items),
        "limit": limit,
        "offset": offset,
        "imports": items,
        "links": page_links(request, offset, limit, len(items), total, "application/json"),
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def content_disposition(name: str) -> str:
    """RFC 6266: an ASCII ``filename`` fallback and the real name as ``filename*`` (UTF-8,
    percent-encoded): "Báo cáo Nghệ An.xlsx" reaches the browser as it was sent."""
    import unicodedata
    from urllib.parse import quote

    name = unicodedata.normalize("NFC", name or "upload")
    folded = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    fallback = "".join(c for c in folded if 32 <= ord(c) < 127 and c not in '"\\;') or "upload"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@router.get(
    "/imports/{import_id}/file",
    summary="The original bytes of one import's file (accepted, dry run or refused)",
    response_class=Response,
    responses={
        200: {
            "description": "the file as it was sent; ``X-Content-SHA256`` is its SHA-256",
            "content": {"application/octet-stream": {}},
        },
        401: {"description": "no valid token"},
        403: {"description": "a viewer, or an editor outside the import's scope"},
        404: {"description": "no such import"},
        410: {"description": "the import kept no file, or retention removed it"},
    },
)
async def import_file(
    request: Request,
    db: LazyConnDep,
    import_id: Annotated[int, Path_(ge=1, le=2**62)],
) -> Response:
    """Who may read: an admin; an editor for its own token's imports and imports whose
    units all lie in its scope (another province's editor gets 403)."""
    who = await editor_reader(request, "read imported files")

    def build() -> dict | None:
        try:
            row = files.stored_file(db.conn, import_id)
            if (
                row is None
                or who.role == "admin"
                or (row["token_id"] is not None and row["token_id"] == who.token_id)
            ):
                return row
            units = list(row["units"] or [])
            if not who.scope_code or not units or who.can_write_units(db.conn, units):
                raise HTTPException(
                    403,
                    f"token '{who.name}' may not read the file of import {import_id}: it is"
                    " outside the token's scope",
                )
            return row
        finally:
            db.close()

    row = await db_gate(request).run(build)
    if row is None:
        raise HTTPException(404, f"no import {import_id}")
    if row["size"] is None:
        raise HTTPException(410, f"import {import_id} kept no file, or retention removed it")
    name = row["file"] or f"import-{import_id}"
    if bytes(row["head"] or b"") == b"PK\x03\x04" and name.lower().endswith(".shp"):
        name = name[:-4] + ".zip"  # a shapefile's parts, kept as one ZIP
    return StreamingResponse(
        files.read_stored(write_engine(request), row["file_sha256"], int(row["size"])),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(name),
            "Content-Length": str(row["size"]),
            "X-Content-SHA256": row["file_sha256"],
            "Cache-Control": "no-store",
        },
    )
