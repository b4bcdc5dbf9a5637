"""The IOC look: dark background, one sequential palette for progress, status colours.

Status colours are from the Okabe–Ito colour-blind-safe set (green/orange/vermillion
stay distinct under deuteranopia); the sequential palette is viridis-like for the same
reason. "No data" is a hatched grey, never the lowest class colour.
"""

from __future__ import annotations

BACKGROUND = "#0b1220"
PANEL = "#111a2e"
TEXT = "#e6edf7"
MUTED = "#8da2c0"
BORDER = "#22304d"
NO_DATA = "#3a4256"
HATCH_LINE = "#7d8aa6"  # the diagonal lines of the "no data" pattern
BORDER_LINE = "#0b1220"  # polygon outlines: the background colour, a clean gap

STATUS = {
    "completed": "#009E73",  # Đã hoàn thành
    "completed_late": "#56B4E9",  # Hoàn thành quá hạn
    "on_time": "#E69F00",  # Đang thực hiện (trong hạn)
    "overdue": "#D55E00",  # Quá hạn
}
STATUS_LABELS_VI = {
    "completed": "Đã hoàn thành",
    "completed_late": "Hoàn thành quá hạn",
    "on_time": "Đang thực hiện (trong hạn)",
    "overdue": "Quá hạn",
}
# Second cue next to each status colour (never colour alone): an icon name the JS draws
# as inline SVG (no icon font needed offline) and a short text label.
STATUS_ICONS = {
    "completed": "check",
    "completed_late": "check-clock",
    "on_time": "clock",
    "overdue": "alert",
}
STATUS_LABELS_EN = {
    "completed": "Completed",
    "completed_late": "Completed late",
    "on_time": "In progress (on time)",
    "overdue": "Overdue",
}
# The deadline forecast's classes (geo/read/forecast.py), categorical: the status colours
# meanings (green: fine, orange: watch, vermillion: late), sky blue for "done" (nothing left
# to forecast) and a neutral slate for "too little history" — distinct from the hatched
# "no data". Always with the class in words (legend, tooltip, panel).
FORECAST = {
    "on_track": "#009E73",
    "at_risk": "#E69F00",
    "will_miss": "#D55E00",
    "done": "#56B4E9",
    "no_history": "#8d96a8",
}
# 5 classes, dark → bright, readable on the dark background.
SEQUENTIAL = ["#3b2a6b", "#2f5d8a", "#21908d", "#5ec962", "#d8e219"]
# For measures where more is worse (overdue tasks): magma-like, dark → bright, so the
# units that need attention stand out; perceptually ordered, so readable by everyone.
SEQUENTIAL_BAD = ["#2c115f", "#721f81", "#b73779", "#f1605d", "#feb078"]
ACCENT = "#38bdf8"
# the pages' family (ioc-base.css --font); drawings served as images name it themselves
FONT = "'Be Vietnam Pro', 'Segoe UI', 'Noto Sans', 'DejaVu Sans', Arial, sans-serif"


def vn_number(value: float | None, decimals: int = 1) -> str:
    """Vietnamese number format: 1.234,5 (dot thousands, comma decimals)."""
    return fmt_number(value, decimals, "vi")


def fmt_number(value: float | None, decimals: int = 1, lang: str = "vi") -> str:
    """A number as the reader's language writes it: 1.234,5 (vi) or 1,234.5 (en).

    Values arrive already rounded by the server (completion % to 2 decimals), and pages
    show them with those decimals, so Python and the browser never round differently."""
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"
    if lang == "en":
        return text
    return text.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")
