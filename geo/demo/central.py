"""Demo data for the whole picture: central-level tasks, reporting dates, targets, Plan 02
phase-2 greening — seeded, and pinned where a published figure says so.

Published (DOMAIN.md): the central level held 1,132 tasks in Q3 2025, 485 done (43 %),
561 in progress on time, 86 overdue; Đắk Lắk aims for the top 10 on the service index,
the top 15 on DTI and PII, and every Plan 02 phase-2 indicator green by 15 Dec 2025.
Kept apart from ``figures.py`` so the published provincial figures there stay untouched.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geo.agencies import AGENCIES, agency_rows
from geo.demo.figures import DAK_LAK, NQ57_THEMES, PERIODS, REPORTING_DATE, YEAR, _split_total
from geo.demo.history import tempo

CENTRAL_TOTAL, CENTRAL_DONE, CENTRAL_ON_TIME, CENTRAL_OVERDUE = 1132, 485, 561, 86
PHASE2 = "KH02-2"
# code, name, name_en, green when the value reaches (%)
PHASE2_INDICATORS = (
    ("kh02p2_full_online", "Tỷ lệ TTHC cung cấp dịch vụ công trực tuyến toàn trình",
     "Procedures offered fully online", 80.0),
    ("kh02p2_digitised", "Tỷ lệ hồ sơ, kết quả giải quyết TTHC được số hóa",
     "Dossiers and results digitised", 90.0),
    ("kh02p2_reuse", "Tỷ lệ khai thác, tái sử dụng dữ liệu đã số hóa",
     "Digitised data reused", 50.0),
    ("kh02p2_epay", "Tỷ lệ thanh toán trực tuyến phí, lệ phí",
     "Fees paid online", 50.0),
    ("kh02p2_signature", "Tỷ lệ cán bộ cấp xã có chữ ký số",
     "Commune officials with a digital signature", 95.0),
    ("kh02p2_ioc_link", "Tỷ lệ xã kết nối dữ liệu với IOC tỉnh",
     "Communes feeding the provincial IOC", 100.0),
)  # fmt: skip
DAK_LAK_TARGETS = (
    # subject, kind, threshold, due, label
    ("service_index", "rank_max", 10.0, dt.date(2025, 12, 31),
     "Top 10 Chỉ số phục vụ người dân, doanh nghiệp"),
    ("dti", "rank_max", 15.0, dt.date(2025, 12, 31), "Top 15 DTI"),
    ("pii", "rank_max", 15.0, dt.date(2025, 12, 31), "Top 15 PII"),
    (PHASE2, "all_green", None, dt.date(2025, 12, 15),
     "Xanh hóa toàn bộ chỉ tiêu Kế hoạch 02 giai đoạn 2"),
)  # fmt: skip
DAK_LAK_PINNED_RANKS = {"dti": 9, "pii": 19}  # seeded: DTI met, PII not met on 2025-Q3
# units that stopped reporting (days before the reporting date); everyone else reported
# within the last three days, before 17:00
STALE_REPORTS = {"11": 19, "DTNVN": 30}
DEMO_REPORT_FILE = "demo: báo cáo định kỳ"


def agency_tasks(seed: int = 1132) -> pd.DataFrame:
    """1,132 NQ57 tasks of the agencies, all due in 2025: 485 done (some late), 561 in
    progress and not yet due on 13 Nov 2025, 86 overdue."""
    rng = np.random.default_rng(seed)
    n = len(AGENCIES)
    totals = _split_total(rng, CENTRAL_TOTAL, n, 25, 90)
    states = ["done"] * CENTRAL_DONE + ["on_time"] * CENTRAL_ON_TIME + ["overdue"] * CENTRAL_OVERDUE
    order = rng.permutation(len(states))
    rows: list[dict] = []
    k = 0
    for agency, total in zip(AGENCIES, totals, strict=True):
        for seq in range(1, int(total) + 1):
            state = states[order[k]]
            k += 1
            start = dt.date(YEAR, 1, 15) + dt.timedelta(days=int(rng.integers(0, 60)))
            if state == "on_time":
                deadline = REPORTING_DATE + dt.timedelta(days=int(rng.integers(0, 48)))
                done = None
            else:
                deadline = start + dt.timedelta(days=int(rng.integers(60, 290)))
                deadline = min(deadline, REPORTING_DATE - dt.timedelta(days=1))
                done = None
                if state == "done":
                    late = rng.random() < 0.1
                    lo, hi = (
                        (deadline + dt.timedelta(days=1), REPORTING_DATE)
                        if late
                        else (start + dt.timedelta(days=20), deadline)
                    )
                    done = lo + dt.timedelta(days=int(rng.integers(0, max((hi - lo).days, 0) + 1)))
            rows.append(
                {
                    "external_id": f"NQ57-{agency.code}-{seq:04d}",
                    "program": "NQ57",
                    "group_no": None,
                    "phase": None,
                    "year": YEAR,
                    "title": f"{NQ57_THEMES[seq % len(NQ57_THEMES)]} (nhiệm vụ {seq})",
                    "unit_code": None,
                    "agency_code": agency.code,
                    "lead_agency": agency.name,
                    "start_date": start,
                    "deadline": deadline,
                    "completed_at": done,
                }
            )
    tasks = pd.DataFrame(rows)
    tempo(tasks, seed + 1)  # some agencies stall, some speed up (statuses kept)
    return tasks


def pin_dak_lak(values: pd.DataFrame) -> pd.DataFrame:
    """Give Đắk Lắk the pinned DTI/PII ranks in the last period by swapping values with the
    province that holds that rank (the set of values, and so every other figure, stays)."""
    values = values.copy()
    last = PERIODS[-1]
    for code, rank in DAK_LAK_PINNED_RANKS.items():
        sel = (values.indicator_code == code) & (values.period == last)
        mine = sel & (values.unit_code == DAK_LAK)
        other = sel & (values["rank"] == rank)
        if not other.any() or other.equals(mine):
            continue
        i, j = values.index[mine][0], values.index[other][0]
        values.loc[[i, j], ["value", "rank"]] = values.loc[[j, i], ["value", "rank"]].to_numpy()
    return values


def phase2_values(provinces: list[str], seed: int = 2) -> pd.DataFrame:
    """Phase-2 indicator values per province and period; Đắk Lắk is green on four of six in
    2025-Q3 (so its 'all green' target is not met yet)."""
    rng = np.random.default_rng(seed)
    frames = []
    for i, period in enumerate(PERIODS):
        for code, _name, _en, green in PHASE2_INDICATORS:
            base = rng.normal(green - 4 + 3 * i, 9, len(provinces))
            vals = pd.Series(np.clip(base, 0, 100).round(1), index=provinces)
            if period == PERIODS[-1]:
                vals[DAK_LAK] = (
                    green + 2 if code not in ("kh02p2_epay", "kh02p2_ioc_link") else (green - 6)
                )
            frames.append(
                pd.DataFrame(
                    {
                        "indicator_code": code,
                        "unit_code": vals.index,
                        "period": period,
                        "value": vals.values,
                        "rank": vals.rank(ascending=False, method="min").astype(int).values,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def load_central(conn: Connection, provinces: list[str]) -> dict[str, int]:
    """Write the agencies, the phase-2 indicators, Đắk Lắk's targets and the demo reporting
    record (called by the demo loader inside its transaction, before the tasks)."""
    conn.execute(
        text(
            "insert into agency (code, name, name_en, kind, name_key, sort_order)"
            " values (:code, :name, :name_en, :kind, :name_key, :sort_order)"
        ),
        agency_rows(),
    )
    return {"agencies": len(AGENCIES)}


def load_central_after(conn: Connection, provinces: list[str]) -> dict[str, int]:
    """After indicators exist: phase-2 indicators and values, targets, demo reports."""
    conn.execute(
        text(
            "insert into indicator (code, name, name_en, unit, higher_is_better, level,"
            " programme, green_at) values (:c, :n, :e, '%', true, 'province', :p, :g)"
        ),
        [{"c": c, "n": n, "e": e, "p": PHASE2, "g": g} for c, n, e, g in PHASE2_INDICATORS],
    )
    vals = phase2_values(provinces)
    conn.execute(
        text(
            "insert into indicator_value (indicator_code, unit_code, period, value, rank)"
            " values (:indicator_code, :unit_code, :period, :value, :rank)"
        ),
        [{**r, "value": float(r["value"]), "rank": int(r["rank"])}
         for r in vals.to_dict("records")],
    )  # fmt: skip
    conn.execute(
        text(
            "insert into target (unit_code, subject, kind, threshold, due, label, source)"
            " values (:u, :s, :k, :t, :d, :l, 'iocmap demo (published targets, Nov 2025)')"
        ),
        [
            {"u": DAK_LAK, "s": s, "k": k, "t": t, "d": d, "l": lbl}
            for s, k, t, d, lbl in DAK_LAK_TARGETS
        ],
    )
    n = record_demo_reports(conn, provinces + [a.code for a in AGENCIES])
    return {"phase2_values": len(vals), "targets": len(DAK_LAK_TARGETS), "reports": n}


def record_demo_reports(conn: Connection, codes: list[str]) -> int:
    """One demo import run per unit: the day it last sent its sheet (16:00–16:59 local)."""
    rng = np.random.default_rng(17)
    n = 0
    for code in codes:
        days = STALE_REPORTS.get(code, int(rng.integers(0, 3)))
        day = REPORTING_DATE - dt.timedelta(days=days)
        at = dt.datetime(day.year, day.month, day.day, 9, int(rng.integers(0, 60)), tzinfo=dt.UTC)
        run = conn.execute(
            text(
                "insert into import_run (at, kind, file, actor, created, updated, unchanged,"
                " rejected) values (:at, 'tasks', :f, 'demo', 0, 0, 0, 0) returning id"
            ),
            {"at": at, "f": f"{DEMO_REPORT_FILE} {code}"},
        ).scalar_one()
        conn.execute(
            text("insert into import_run_unit (import_run_id, unit_code) values (:r, :u)"),
            {"r": run, "u": code},
        )
        conn.execute(  # a province's sheet covers its communes
            text(
                "insert into import_run_unit (import_run_id, unit_code)"
                " select :r, code from admin_unit where parent_code = :u"
            ),
            {"r": run, "u": code},
        )
        n += 1
    return n
