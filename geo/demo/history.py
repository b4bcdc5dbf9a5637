"""The demo's history over 2025: when tasks were recorded, how late tasks caught up, which
overdue tasks state a reason. Applied after the figures are drawn, with generators of its
own, so every figure on the reporting date (and every other seeded value) stays as it was.

Why: the series (``geo/read/series.py``) replay ``task_event``; with every task recorded on
its start date and late tasks finished at random, Q3 2025 showed *more* overdue than Q2,
the opposite of what the reports say.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from geo.demo.dates import REPORTING_DATE, YEAR

# When the tasks entered the monitoring system (the history's ``create`` events): the
# provinces' programme tasks at the start of 2025, Plan 02 with the new communes (1 July).
NQ57_RECORDED = dt.date(YEAR, 1, 2)
KH02_RECORDED = dt.date(YEAR, 7, 1)
NQ57_FLOOR, KH02_FLOOR = dt.date(YEAR, 3, 1), dt.date(YEAR, 7, 10)  # earliest completions drawn
REASONS = [
    "Thiếu kinh phí bố trí cho nhiệm vụ",
    "Chưa có hướng dẫn của bộ, ngành trung ương",
    "Hạ tầng mạng, thiết bị chưa đáp ứng yêu cầu",
    "Thiếu nhân lực có chuyên môn về công nghệ thông tin",
    "Thủ tục đầu tư, mua sắm kéo dài",
    "Sắp xếp tổ chức bộ máy, đơn vị hành chính mới sau ngày 01/7/2025",
]
PROPOSALS = [
    "Đề nghị bổ sung kinh phí trong dự toán năm sau",
    "Kiến nghị bộ, ngành sớm ban hành hướng dẫn",
    "Đẩy nhanh thủ tục mua sắm, đầu tư hạ tầng",
    "Tăng cường tập huấn, điều động cán bộ hỗ trợ",
    "Gia hạn thời hạn hoàn thành đến hết quý I năm sau",
]


def _catch_up(rng: np.random.Generator, tasks: pd.DataFrame) -> None:
    """Late programme tasks are finished sooner after the mid-year review (as the Q3 reports
    say: more completed, fewer overdue than Q2): up to 75 days late before July, up to 20
    after. Only the completion day moves, so every status on the reporting date stays.

    A separate generator, so the other figures keep their seeded values."""
    late = (tasks.program == "NQ57") & tasks.completed_at.notna()
    late &= tasks.completed_at > tasks.deadline
    for i in tasks.index[late]:
        deadline = tasks.at[i, "deadline"]
        most = 75 if deadline < dt.date(YEAR, 7, 1) else 20
        most = min(most, (REPORTING_DATE - deadline).days)
        tasks.at[i, "completed_at"] = deadline + dt.timedelta(days=int(rng.integers(1, most + 1)))


# Tempo of a unit's on-time completions over the year (the exponent of a time warp, see
# ``tempo``): most keep a steady pace; some finish early and then stall, some start slowly
# and speed up towards the reporting date, as real units do.
TEMPI = ((1.0, 0.5), (2.5, 0.25), (0.45, 0.25))  # (exponent, share): steady, stall, speed up


def tempo(tasks: pd.DataFrame, seed: int) -> None:
    """Move each on-time completion within its own window [earliest, min(deadline, reporting
    date)] by the unit's tempo: u → u**γ on the window's relative position (γ > 1 earlier,
    the unit stalls later; γ < 1 later, it speeds up). Done and on-time stays done and on
    time, before the deadline, so every status on the reporting date — and every overdue
    count on every day — stays; only when the completions happened moves. In place; a
    generator of its own, so the other figures keep their seeded values."""
    rng = np.random.default_rng(seed)
    holder = tasks.unit_code.where(tasks.unit_code.notna(), tasks.get("agency_code"))
    units = sorted(holder.dropna().unique())
    exps, shares = zip(*TEMPI, strict=True)
    gamma = dict(zip(units, rng.choice(exps, size=len(units), p=shares), strict=True))
    for i in tasks.index[tasks.completed_at.notna()]:
        done, deadline = tasks.at[i, "completed_at"], tasks.at[i, "deadline"]
        g = gamma.get(holder[i], 1.0)
        if done > deadline or g == 1.0:
            continue
        floor = KH02_FLOOR if tasks.at[i, "program"] == "KH02" else NQ57_FLOOR
        start = tasks.at[i, "start_date"]
        lo = max(floor, start) if start is not None and not pd.isna(start) else floor
        hi = min(deadline, REPORTING_DATE)
        span = (hi - lo).days
        if span <= 0 or not lo <= done <= hi:
            continue
        u = (done - lo).days / span
        tasks.at[i, "completed_at"] = lo + dt.timedelta(days=round(span * u**g))


def _reasons(rng: np.random.Generator, tasks: pd.DataFrame) -> None:
    """Most overdue tasks state a reason and a proposal; about a quarter do not (the data
    problem the summary counts and the panel lists). A separate generator, as above."""
    overdue = tasks.completed_at.isna() & (tasks.deadline < REPORTING_DATE)
    tasks["reason"] = None
    tasks["proposal"] = None
    for i in tasks.index[overdue]:
        if rng.random() < 0.75:
            tasks.at[i, "reason"] = REASONS[int(rng.integers(0, len(REASONS)))]
            if rng.random() < 0.85:
                tasks.at[i, "proposal"] = PROPOSALS[int(rng.integers(0, len(PROPOSALS)))]


def shape(tasks: pd.DataFrame, seed: int) -> None:
    """Add ``recorded_at``, ``reason``, ``proposal``; move late completion days (in place)."""
    tasks["recorded_at"] = [
        KH02_RECORDED if program == "KH02" else min(start, NQ57_RECORDED)
        for program, start in zip(tasks.program, tasks.start_date, strict=True)
    ]
    _catch_up(np.random.default_rng(seed + 1), tasks)
    _reasons(np.random.default_rng(seed + 2), tasks)
    tempo(tasks, seed + 3)
