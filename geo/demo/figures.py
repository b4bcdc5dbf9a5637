"""Demo tasks and indicators that reproduce the published late-2025 figures exactly.

Why a generator and not a data file: we may not ship data copied from elsewhere, and
the figures we must reproduce are totals (3,430 provincial tasks due in 2025, 1,954
done; Nghệ An 100/51; Cà Mau 123/66 with 65/38 due in 2025; Đắk Lắk 8th on the service
index in 2025-Q3). Everything else is a seeded, plausible spread; titles are generic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.demo.dates import REPORTING_DATE, YEAR

NATIONAL_TOTAL = 3430
NATIONAL_COMPLETED = 1954
NGHE_AN, CA_MAU, DAK_LAK = "40", "96", "66"
FIXED = {
    # province: (tasks due 2025, completed of those, tasks due later, completed of those)
    NGHE_AN: (100, 51, 0, 0),
    CA_MAU: (65, 38, 58, 28),
}

LEAD_AGENCIES = [
    "Sở Khoa học và Công nghệ",
    "Văn phòng UBND tỉnh",
    "Sở Nội vụ",
    "Sở Tài chính",
    "Công an tỉnh",
    "Sở Giáo dục và Đào tạo",
    "Sở Y tế",
    "Sở Công Thương",
    "Sở Nông nghiệp và Môi trường",
    "Sở Xây dựng",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Trung tâm Phục vụ hành chính công",
]
NQ57_THEMES = [
    "Hoàn thiện thể chế, cơ chế chính sách về khoa học, công nghệ",
    "Xây dựng, vận hành Trung tâm điều hành thông minh (IOC)",
    "Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
    "Phát triển hạ tầng số, mạng 5G và cáp quang đến thôn, bản",
    "Xây dựng cơ sở dữ liệu chuyên ngành, kết nối dữ liệu quốc gia",
    "Nâng cao kỹ năng số cho cán bộ, công chức và người dân",
    "Thúc đẩy đổi mới sáng tạo, khởi nghiệp và doanh nghiệp công nghệ số",
    "Bảo đảm an toàn, an ninh mạng cho hệ thống thông tin",
    "Triển khai dịch vụ công trực tuyến toàn trình",
    "Ứng dụng trí tuệ nhân tạo trong quản lý nhà nước",
    "Phát triển kinh tế số, thương mại điện tử",
    "Chuyển đổi số trong y tế, giáo dục",
]
# Demo wording of the 16 Plan 02 phase-1 task groups (generic titles, not the official text).
KH02_GROUPS = [
    "Kiện toàn Ban Chỉ đạo và tổ công nghệ số cộng đồng",
    "Bảo đảm hạ tầng mạng, đường truyền số liệu chuyên dùng",
    "Trang thiết bị CNTT cho bộ phận một cửa",
    "Cấp chữ ký số cho cán bộ, công chức",
    "Triển khai hệ thống quản lý văn bản và điều hành",
    "Vận hành hệ thống thông tin giải quyết thủ tục hành chính",
    "Cung cấp dịch vụ công trực tuyến toàn trình",
    "Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
    "Kết nối, khai thác cơ sở dữ liệu quốc gia về dân cư",
    "Tái sử dụng dữ liệu đã số hóa",
    "Cổng/Trang thông tin điện tử cấp xã",
    "Bảo đảm an toàn thông tin theo cấp độ",
    "Bồi dưỡng kỹ năng số cho cán bộ cấp xã",
    "Thanh toán trực tuyến phí, lệ phí",
    "Tuyên truyền, hướng dẫn người dân sử dụng dịch vụ số",
    "Báo cáo, cập nhật số liệu lên hệ thống giám sát",
]
KH02_DEADLINES = {
    g: dt.date(YEAR, 9, 30) if g <= 10 else dt.date(YEAR, 12, 31) for g in range(1, 17)
}

INDICATORS = [
    # code, name, name_en, unit, higher_is_better, level
    (
        "service_index",
        "Chỉ số phục vụ người dân, doanh nghiệp",
        "Index of serving people and businesses",
        "điểm",
        True,
        "province",
    ),
    ("dti", "Chỉ số chuyển đổi số (DTI)", "Digital transformation index", "điểm", True, "province"),
    (
        "pii",
        "Chỉ số đổi mới sáng tạo cấp địa phương (PII)",
        "Provincial innovation index",
        "điểm",
        True,
        "province",
    ),
    ("online_rate", "Tỷ lệ hồ sơ trực tuyến", "Online dossier rate", "%", True, "both"),
    ("ontime_rate", "Tỷ lệ hồ sơ giải quyết đúng hạn", "On-time dossier rate", "%", True, "both"),
    ("data_reuse_rate", "Tỷ lệ tái sử dụng dữ liệu", "Data reuse rate", "%", True, "both"),
    # the country's own figures (no province): documents issued since 1 January, cumulative
    ("laws_issued", "Số luật được ban hành (lũy kế từ đầu năm)", "Laws passed (year to date)",
     "văn bản", True, "national"),
    ("decrees_issued", "Số nghị định được ban hành (lũy kế từ đầu năm)",
     "Decrees issued (year to date)", "văn bản", True, "national"),
    ("circulars_issued", "Số thông tư được ban hành (lũy kế từ đầu năm)",
     "Circulars issued (year to date)", "văn bản", True, "national"),
    ("local_docs_issued", "Số văn bản của địa phương được ban hành (lũy kế từ đầu năm)",
     "Local legal documents issued (year to date)", "văn bản", True, "national"),
    ("digital_economy_gdp", "Tỷ trọng kinh tế số trong GDP", "Digital economy share of GDP",
     "%", True, "national"),
]  # fmt: skip
# National values: the published first-nine-months figures (17 / 56 / 60 / 704) at 2025-Q3,
# a half-year before them, and the digital economy's share (demo values).
NATIONAL_VALUES = [
    ("laws_issued", "2025-Q2", 11.0), ("laws_issued", "2025-Q3", 17.0),
    ("decrees_issued", "2025-Q2", 31.0), ("decrees_issued", "2025-Q3", 56.0),
    ("circulars_issued", "2025-Q2", 38.0), ("circulars_issued", "2025-Q3", 60.0),
    ("local_docs_issued", "2025-Q2", 452.0), ("local_docs_issued", "2025-Q3", 704.0),
    ("digital_economy_gdp", "2024", 18.3), ("digital_economy_gdp", "2025-Q3", 19.5),
]  # fmt: skip
PERIODS = ["2025-Q2", "2025-Q3"]


@dataclass
class DemoFigures:
    """Rows ready for the database: tasks, their creation/completion events, indicator values."""

    tasks: pd.DataFrame
    indicator_values: pd.DataFrame
    indicators: list[tuple] = field(default_factory=lambda: list(INDICATORS))
    reporting_date: dt.date = REPORTING_DATE


def _split_total(rng: np.random.Generator, total: int, n: int, low: int, high: int) -> np.ndarray:
    """n integers in [low, high] that add up to total (a seeded, plausible spread)."""
    values = rng.integers(low, high + 1, size=n).astype(float)
    values = np.clip(np.round(values * total / values.sum()), low, high).astype(int)
    i = 0
    while values.sum() != total:  # nudge one at a time, staying inside the bounds
        j = i % n
        step = 1 if values.sum() < total else -1
        if low <= values[j] + step <= high:
            values[j] += step
        i += 1
    return values


def _random_date(rng: np.random.Generator, start: dt.date, end: dt.date) -> dt.date:
    days = max((end - start).days, 0)
    return start + dt.timedelta(days=int(rng.integers(0, days + 1)))


def _province_tasks(rng: np.random.Generator, provinces: list[str]) -> list[dict]:
    """NQ57 action-programme tasks held by each province."""
    others = [p for p in provinces if p not in FIXED]
    rest_total = NATIONAL_TOTAL - sum(v[0] for v in FIXED.values())
    rest_done = NATIONAL_COMPLETED - sum(v[1] for v in FIXED.values())
    totals = _split_total(rng, rest_total, len(others), 60, 160)
    # completion rate per province spread around the national mean, then fixed to the sum
    rates = np.clip(rng.normal(rest_done / rest_total, 0.12, len(others)), 0.25, 0.9)
    done = np.minimum(np.round(totals * rates).astype(int), totals)
    i = 0
    while done.sum() != rest_done:
        j = i % len(others)
        step = 1 if done.sum() < rest_done else -1
        if 0 <= done[j] + step <= totals[j]:
            done[j] += step
        i += 1
    plan: dict[str, tuple[int, int, int, int]] = dict(FIXED)
    late_provinces = set(rng.choice(others, size=10, replace=False))
    for p, t, d in zip(others, totals, done, strict=True):
        later = int(rng.integers(0, 25)) if rng.random() < 0.3 else 0
        plan[p] = (int(t), int(d), later, int(later * rng.uniform(0.1, 0.4)))

    rows: list[dict] = []
    for p in provinces:
        due, due_done, later, later_done = plan[p]
        tasks: list[dict] = []

        strict = p in FIXED  # Nghệ An and Cà Mau: nothing late, nothing overdue
        for k in range(due):
            if k < due_done:
                deadline = _random_date(rng, dt.date(YEAR, 3, 31), dt.date(YEAR, 12, 31))
                late = (not strict) and deadline < REPORTING_DATE and rng.random() < 0.12
                if late:
                    completed = _random_date(rng, deadline + dt.timedelta(days=1), REPORTING_DATE)
                else:
                    completed = _random_date(
                        rng, dt.date(YEAR, 3, 1), min(deadline, REPORTING_DATE)
                    )
            else:  # in progress and not yet due (the published 43.03% "in progress")
                deadline = _random_date(rng, REPORTING_DATE, dt.date(YEAR, 12, 31))
                completed = None
            _append_nq57(tasks, rng, p, deadline, completed, YEAR)
        for k in range(later):
            year = int(rng.integers(YEAR + 1, 2031))
            deadline = dt.date(year, int(rng.integers(1, 13)), 28)
            completed = (
                _random_date(rng, dt.date(YEAR, 2, 1), REPORTING_DATE) if k < later_done else None
            )
            _append_nq57(tasks, rng, p, deadline, completed, year)
        if p in late_provinces:  # tasks carried over from 2024, still open: overdue (red)
            for _ in range(int(rng.integers(2, 10))):
                _append_nq57(
                    tasks,
                    rng,
                    p,
                    _random_date(rng, dt.date(2024, 6, 30), dt.date(2024, 12, 31)),
                    None,
                    2024,
                )
        rows.extend(tasks)
    return rows


def _append_nq57(
    tasks: list[dict],
    rng: np.random.Generator,
    province: str,
    deadline: dt.date,
    completed: dt.date | None,
    year: int,
) -> None:
    seq = len(tasks) + 1
    start = dt.date(min(year, YEAR) - (year < YEAR), 1, 15) + dt.timedelta(
        days=int(rng.integers(0, 60))
    )
    if completed is not None and completed < start:
        start = completed - dt.timedelta(days=30)
    tasks.append(
        {
            "external_id": f"NQ57-{province}-{seq:04d}",
            "program": "NQ57",
            "group_no": None,
            "phase": None,
            "year": year,
            "title": f"{NQ57_THEMES[seq % len(NQ57_THEMES)]} (nhiệm vụ {seq})",
            "unit_code": province,
            "lead_agency": LEAD_AGENCIES[int(rng.integers(0, len(LEAD_AGENCIES)))],
            "start_date": start,
            "deadline": deadline,
            "completed_at": completed,
        }
    )


def _commune_tasks(rng: np.random.Generator, communes: pd.DataFrame) -> list[dict]:
    """The 16 Plan 02 phase-1 task groups for every commune; Nghệ An has all 16 done."""
    province_skill = {p: rng.uniform(0.55, 0.97) for p in sorted(communes.province_code.unique())}
    rows: list[dict] = []
    for code, province in zip(communes.code, communes.province_code, strict=True):
        skill = (
            1.0
            if province == NGHE_AN
            else float(np.clip(province_skill[province] + rng.normal(0, 0.1), 0.2, 1.0))
        )
        for g in range(1, 17):
            deadline = KH02_DEADLINES[g]
            done = province == NGHE_AN or rng.random() < skill
            completed = None
            if done:
                late = province != NGHE_AN and rng.random() < 0.08 and deadline < REPORTING_DATE
                completed = (
                    _random_date(rng, deadline + dt.timedelta(days=1), REPORTING_DATE)
                    if late
                    else _random_date(rng, dt.date(YEAR, 7, 10), min(deadline, REPORTING_DATE))
                )
            rows.append(
                {
                    "external_id": f"KH02-{code}-{g:02d}",
                    "program": "KH02",
                    "group_no": g,
                    "phase": 1,
                    "year": YEAR,
                    "title": KH02_GROUPS[g - 1],
                    "unit_code": code,
                    "lead_agency": "UBND cấp xã",
                    "start_date": dt.date(YEAR, 7, 1),
                    "deadline": deadline,
                    "completed_at": completed,
                }
            )
    return rows


def _ranks(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """1 = best; ties share the better rank."""
    return values.rank(ascending=not higher_is_better, method="min").astype(int)


def _distinct(values: pd.Series, step: float) -> pd.Series:
    """Nudge exact ties apart so that published-style ranks run 1…n without gaps."""
    values = values.copy()
    while values.duplicated().any():
        dup = values.duplicated()
        values[dup] = (values[dup] + step).round(6)
    return values


def _province_indicator_values(rng: np.random.Generator, provinces: list[str]) -> pd.DataFrame:
    frames = []
    base = {
        "service_index": rng.normal(80, 6, len(provinces)),
        "dti": rng.normal(0.62, 0.06, len(provinces)),
        "pii": rng.normal(42, 6, len(provinces)),
        "online_rate": rng.normal(62, 12, len(provinces)),
        "ontime_rate": rng.normal(93, 3, len(provinces)),
        "data_reuse_rate": rng.normal(55, 12, len(provinces)),
    }
    bounds = {
        "service_index": (50, 98),
        "dti": (0.4, 0.85),
        "pii": (25, 65),
        "online_rate": (20, 98),
        "ontime_rate": (75, 99.9),
        "data_reuse_rate": (15, 95),
    }
    for period_no, period in enumerate(PERIODS):
        for code, start in base.items():
            drift = rng.normal(0.8 * period_no, 1.5, len(provinces)) * (
                0.01 if code == "dti" else 1
            )
            lo, hi = bounds[code]
            values = pd.Series(np.clip(start + drift, lo, hi), index=provinces).round(
                3 if code == "dti" else 2
            )
            values = _distinct(values, 0.001 if code == "dti" else 0.01)
            if code == "service_index" and period == "2025-Q3":
                # Đắk Lắk 8th of 34 (published, Nov 2025): give it the 8th-best value
                ordered = values.drop(DAK_LAK).sort_values(ascending=False)
                # strictly between the 7th and 8th others (distinct at 0.01, so 0.005 fits)
                values[DAK_LAK] = round(float(ordered.iloc[6]) - 0.005, 3)
            if code == "data_reuse_rate" and period == "2025-Q3":
                values[NGHE_AN] = 74.0  # published, 14 Nov 2025
            frames.append(
                pd.DataFrame(
                    {
                        "indicator_code": code,
                        "unit_code": values.index,
                        "period": period,
                        "value": values.values,
                        "rank": _ranks(values).values,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def _commune_indicator_values(
    rng: np.random.Generator, communes: pd.DataFrame, province_values: pd.DataFrame
) -> pd.DataFrame:
    """Commune rates scattered around their province's rate for the same period."""
    frames = []
    for code in ("online_rate", "ontime_rate", "data_reuse_rate"):
        for period in PERIODS:
            pv = province_values[
                (province_values.indicator_code == code) & (province_values.period == period)
            ].set_index("unit_code")["value"]
            centre = communes.province_code.map(pv).to_numpy()
            spread = 2.0 if code == "ontime_rate" else 8.0
            values = pd.Series(
                np.clip(centre + rng.normal(0, spread, len(communes)), 0, 100).round(1),
                index=communes.code.to_numpy(),
            )
            frames.append(
                pd.DataFrame(
                    {
                        "indicator_code": code,
                        "unit_code": values.index,
                        "period": period,
                        "value": values.values,
                        "rank": _ranks(values).values,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def generate(communes: pd.DataFrame, seed: int = 57) -> DemoFigures:
    """Tasks and indicator values for the given communes (columns code, province_code)."""
    rng = np.random.default_rng(seed)
    communes = communes.sort_values("code")
    provinces = sorted(communes.province_code.unique())
    tasks = pd.DataFrame(_province_tasks(rng, provinces) + _commune_tasks(rng, communes))
    from geo.demo import history  # shapes the history after the draws

    history.shape(tasks, seed)
    pvals = _province_indicator_values(rng, provinces)
    cvals = _commune_indicator_values(rng, communes, pvals)
    nvals = pd.DataFrame(
        [(code, None, period, value, None) for code, period, value in NATIONAL_VALUES],
        columns=["indicator_code", "unit_code", "period", "value", "rank"],
    )
    return DemoFigures(
        tasks=tasks, indicator_values=pd.concat([pvals, cvals, nvals], ignore_index=True)
    )
