"""What a choropleth can show: task measures (fixed) and indicators (read from the database).

Why a registry: the page, the legend, the click panel and the wall must agree on a
measure's name, unit, direction (is more better?) and classing method.

Classing method, per measure kind:
- ``quantiles`` for rates and indices (completion %, DTI, …): every class holds about the
  same number of units, so the map reads as a ranking — which is how leaders use it;
- ``categorical`` for the deadline forecast (``maps/forecast_map.py``): one colour per
  class of ``geo.read.forecast.CLASSES``; the value is the class's index in that tuple.
- ``natural_breaks`` (Fisher–Jenks) for counts (overdue tasks): they are skewed with many
  zeros, where quantiles give empty or duplicate classes. Zero gets a class of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Measure:
    """One mappable measure."""

    code: str
    label_vi: str
    label_en: str
    unit: str  # "%", "điểm", "" (count)
    decimals: int
    levels: tuple[str, ...]  # province, commune
    higher_is_better: bool = True
    method: str = "quantiles"  # quantiles | natural_breaks | categorical
    indicator: bool = False
    notes: dict[str, str] = field(default_factory=dict)

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_vi


TASK_MEASURES: tuple[Measure, ...] = (
    Measure(
        "completion_pct",
        "Tỷ lệ hoàn thành nhiệm vụ",
        "Task completion rate",
        "%",
        2,  # the server's rounding (geo.read.progress.pct): shown as computed
        ("province", "commune"),
        notes={
            "province": "NQ57",
            "commune": "KH02",
        },
    ),
    Measure(
        "tasks_overdue",
        "Số nhiệm vụ quá hạn",
        "Overdue tasks",
        "",
        0,
        ("province", "commune"),
        higher_is_better=False,
        method="natural_breaks",
    ),
    Measure(
        "groups_done",
        "Nhóm nhiệm vụ KH02 đã hoàn thành (trên 16)",
        "Plan 02 task groups done (of 16)",
        "",
        0,
        ("commune",),
        method="natural_breaks",
    ),
    Measure(
        "days_since_report",
        "Số ngày từ lần báo cáo cuối",
        "Days since last report",
        "",
        0,
        ("province", "commune"),
        higher_is_better=False,
        method="natural_breaks",
    ),
    Measure(
        "all_groups_pct",
        "Tỷ lệ xã hoàn thành đủ 16 nhóm KH02",
        "Share of communes with all 16 Plan 02 groups done",
        "%",
        2,
        ("province",),
    ),
    Measure(
        "blocked_central_pct",
        "Tỷ lệ nhiệm vụ quá hạn do chờ trung ương",
        "Share of overdue tasks blocked by central guidance",
        "%",
        2,
        ("province", "commune"),
        higher_is_better=False,
    ),
    Measure(
        "forecast",
        "Dự báo: kịp / có nguy cơ / không kịp",
        "Forecast: on track / at risk / will miss",
        "",
        0,
        ("province", "commune"),
        method="categorical",
        notes={"province": "NQ57", "commune": "KH02"},
    ),
)

DEFAULT_MEASURE = "completion_pct"


def indicator_measures(defs: list[dict]) -> list[Measure]:
    """Measures for the indicator definitions read from the ``indicator`` table."""
    out = []
    for d in defs:
        levels = ("province", "commune") if d["level"] == "both" else (d["level"],)
        unit = "%" if d["unit"] == "%" else d["unit"]
        out.append(
            Measure(
                d["code"],
                d["name"],
                d["name_en"],
                unit,
                1,
                levels,
                higher_is_better=bool(d["higher_is_better"]),
                indicator=True,
            )
        )
    return out


def available(level: str, defs: list[dict]) -> list[Measure]:
    """Every measure that exists at this level (task measures first)."""
    return [m for m in (*TASK_MEASURES, *indicator_measures(defs)) if level in m.levels]


def find(code: str | None, level: str, defs: list[dict]) -> Measure | None:
    """The measure named code at this level, or None."""
    return next((m for m in available(level, defs) if m.code == code), None)
