"""`iocmap worker`: sends queued notices (e-mail, webhook) and escalates silent holders.

Its own process beside the server (`make demo`, `make prod-local`, the compose stack): the
server only queues (``geo/remind/deliver.py``), so a mail server that is down never slows a
page. ``--once`` works what is due and returns (tests; cron); ``--today`` moves its clock for
the escalation (tests move time instead of sleeping)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import threading

import typer

log = logging.getLogger("iocmap.worker")


def _escalation_due(escalate_at: str, now: dt.datetime, last_day: dt.date | None) -> bool:
    if not escalate_at:
        return False
    hour, minute = (int(x) for x in escalate_at.split(":"))
    return now.date() != last_day and (now.hour, now.minute) >= (hour, minute)


def worker(
    once: bool = typer.Option(False, "--once", help="work what is due, escalate, then exit"),
    today: str | None = typer.Option(
        None, help="YYYY-MM-DD: escalate as on this day (with --once; default: today)"
    ),
    label: str | None = typer.Option(
        None, help="a name in the process list (make prod-local tells its worker apart by it)"
    ),
) -> None:
    """Send queued notices over the channels configured here (IOCMAP_SMTP_URL,
    IOCMAP_WEBHOOK_URL + IOCMAP_WEBHOOK_SECRET); others stay queued for a worker that has
    them. At IOCMAP_ESCALATE_AT (Vietnam time), issue the next round to holders silent past
    their reply-by date. Ctrl-C / SIGTERM stop it between two deliveries."""
    from api.settings import Settings
    from geo.db import app_database_url, make_engine
    from geo.read.progress import VN_TZ
    from geo.remind.deliver import work_due
    from geo.remind.escalate import escalate

    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    settings = Settings()
    settings.configure_reply_links()  # e-mails and escalated notices carry the reply link
    cfg = settings.delivery_config()
    day: dt.date | None = None
    if today:
        try:
            day = dt.date.fromisoformat(today)
        except ValueError as exc:
            typer.echo(f"lỗi: --today phải có dạng YYYY-MM-DD (got {today!r})", err=True)
            raise typer.Exit(2) from exc
    engine = make_engine(app_database_url())
    channels = settings.delivery_channels

    def run_escalation(on: dt.date) -> dict:
        return escalate(engine, on, channels, settings.escalate_reply_days, settings.escalate_max)

    try:
        if once:
            report: dict = {"channels": cfg.channels}
            if day is not None or _escalation_due(
                settings.escalate_at, dt.datetime.now(VN_TZ), None
            ):
                report["escalation"] = run_escalation(day or dt.datetime.now(VN_TZ).date())
            report["deliveries"] = work_due(engine, cfg)  # the escalations' notices too
            typer.echo(json.dumps(report, ensure_ascii=False, default=str))
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        log.info(
            "channels: %s; escalation at %s",
            ", ".join(cfg.channels) or "none (deliveries stay queued)",
            settings.escalate_at or "never",
        )
        last_escalation: dt.date | None = None
        while not stop.is_set():
            try:
                now = dt.datetime.now(VN_TZ)
                if _escalation_due(settings.escalate_at, now, last_escalation):
                    last_escalation = now.date()
                    result = run_escalation(now.date())
                    log.info("escalation %s: %d notices", now.date(), len(result["escalated"]))
                for outcome in work_due(engine, cfg, limit=50):
                    log.info("delivery %(id)s %(channel)s: %(status)s", outcome)
                    if stop.is_set():
                        break
            except Exception:  # noqa: BLE001 — a database outage: wait, then try again
                log.exception("worker step failed; retrying after the poll interval")
            stop.wait(settings.worker_poll_seconds)
    finally:
        engine.dispose()
