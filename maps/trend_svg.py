"""A small trend chart drawn on the server as SVG: completion % (line) and overdue tasks
(bars) per step of a series.

Why SVG from the server: it works offline and in a standalone export, needs no charting
library in the page (nothing new to vendor and pin), and is cached with the series per
data version. Text is escaped; sizes are fixed, so a chart is a few kilobytes.

Text is FONT user units in a WIDTH-unit-wide chart, so it stays readable wherever the chart
is drawn at least 300 px wide: ≥ 14 px in a phone's panel (390 px screen), and the wall
(which draws it inline, recoloured by its CSS through the classes ``frame``, ``pct``,
``od``, at the side column's width) gets text of ~ 1 wall unit. No background box: it
reads on the panel's light card and, inline, on the wall's dark one.
"""

from __future__ import annotations

from html import escape

from maps.theme import FONT as THEME_FONT
from maps.theme import MUTED, PANEL

WIDTH, HEIGHT = 320, 150
FONT = 15  # user units: ≥ 14 px once drawn ≥ 300 px wide


def trend_svg(
    points: list[dict], title: str, width: int = WIDTH, height: int = HEIGHT, font: int = FONT
) -> str:
    """An SVG with ``role="img"``, a <title>, one bar per step for overdue and a line for
    completion %; the first and last step are labelled. ``width``, ``height`` and ``font``
    (user units) let a page draw it at the shape of its box (the wall's side column)."""
    n = len(points)
    pad_l, pad_r, pad_t, pad_b = round(font * 3), round(font * 2.4), round(font * 0.8), font + 10
    inner_w, inner_h = width - pad_l - pad_r, height - pad_t - pad_b
    top_overdue = max([p["tasks_overdue"] for p in points] + [1])
    step = inner_w / max(n, 1)
    bars, line = [], []
    for i, p in enumerate(points):
        x = pad_l + i * step
        h = inner_h * p["tasks_overdue"] / top_overdue
        if p["tasks_overdue"]:
            bars.append(
                f'<rect class="od" x="{x + step * 0.15:.1f}" y="{pad_t + inner_h - h:.1f}"'
                f' width="{max(step * 0.7, 1):.1f}" height="{h:.1f}" fill="#d7301f"'
                f' fill-opacity="0.55"><title>{escape(p["period"])}: {p["tasks_overdue"]}'
                "</title></rect>"
            )
        pct = p["completion_pct"] or 0.0
        line.append(f"{x + step / 2:.1f},{pad_t + inner_h * (1 - pct / 100):.1f}")
    last = points[-1] if points else None
    labels = ""
    base = height - round(font * 0.35)  # the descenders stay inside the drawing
    if points:
        labels = (
            f'<text x="{pad_l}" y="{base}" font-size="{font}">'
            f"{escape(points[0]['period'])}</text>"
            f'<text x="{width - pad_r}" y="{base}" font-size="{font}" text-anchor="end">'
            f"{escape(points[-1]['period'])}</text>"
        )
    summary = (
        f"{escape(title)}: {last['completion_pct']}% · quá hạn {last['tasks_overdue']}"
        if last
        else escape(title)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" role="img" class="ioc-trend"'
        # as an <img> it gets none of the page's CSS: its own font, text colour and ground
        # (the text was the serif default, in black on the dark panel)
        f' font-family="{THEME_FONT}" fill="{MUTED}"'
        f' data-points="{n}"><title>{summary}</title>'
        f'<rect class="ground" width="{width}" height="{height}" fill="{PANEL}"/>'
        f'<rect class="frame" x="{pad_l}" y="{pad_t}" width="{inner_w}" height="{inner_h}"'
        ' fill="none" stroke="#bbb" stroke-width="0.5"/>'
        f'<text x="{pad_l - 3}" y="{pad_t + font - 2}" font-size="{font}" text-anchor="end">'
        "100%</text>"
        f'<text x="{pad_l - 3}" y="{pad_t + inner_h}" font-size="{font}" text-anchor="end">0</text>'
        f'<text class="od" x="{width - pad_r + 3}" y="{pad_t + font - 2}" font-size="{font}"'
        f' fill="#d7301f">{top_overdue}</text>'
        + "".join(bars)
        + f'<polyline class="pct" points="{" ".join(line)}" fill="none" stroke="#1a9850"'
        ' stroke-width="2"/>' + labels + "</svg>"
    )
