"""A small trend chart drawn on the server as SVG: completion % (line) and overdue tasks
(bars) per step of a series.

Why SVG from the server: it works offline and in a standalone export, needs no charting
library in the page (nothing new to vendor and pin), and is cached with the series per
data version. Text is escaped; sizes are fixed, so a chart is a few kilobytes.
"""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT = 320, 120
PAD_L, PAD_R, PAD_T, PAD_B = 28, 26, 10, 18


def trend_svg(points: list[dict], title: str) -> str:
    """An SVG with ``role="img"``, a <title>, one bar per step for overdue and a line for
    completion %; the first and last step are labelled."""
    n = len(points)
    inner_w, inner_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B
    top_overdue = max([p["tasks_overdue"] for p in points] + [1])
    step = inner_w / max(n, 1)
    bars, line = [], []
    for i, p in enumerate(points):
        x = PAD_L + i * step
        h = inner_h * p["tasks_overdue"] / top_overdue
        if p["tasks_overdue"]:
            bars.append(
                f'<rect class="od" x="{x + step * 0.15:.1f}" y="{PAD_T + inner_h - h:.1f}"'
                f' width="{max(step * 0.7, 1):.1f}" height="{h:.1f}" fill="#d7301f"'
                f' fill-opacity="0.55"><title>{escape(p["period"])}: {p["tasks_overdue"]}'
                "</title></rect>"
            )
        pct = p["completion_pct"] or 0.0
        line.append(f"{x + step / 2:.1f},{PAD_T + inner_h * (1 - pct / 100):.1f}")
    last = points[-1] if points else None
    labels = ""
    if points:
        labels = (
            f'<text x="{PAD_L}" y="{HEIGHT - 4}" font-size="9">{escape(points[0]["period"])}</text>'
            f'<text x="{WIDTH - PAD_R}" y="{HEIGHT - 4}" font-size="9" text-anchor="end">'
            f"{escape(points[-1]['period'])}</text>"
        )
    summary = (
        f"{escape(title)}: {last['completion_pct']}% · quá hạn {last['tasks_overdue']}"
        if last
        else escape(title)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' width="{WIDTH}" height="{HEIGHT}" role="img" class="ioc-trend"'
        f' data-points="{n}"><title>{summary}</title>'
        f'<rect x="{PAD_L}" y="{PAD_T}" width="{inner_w}" height="{inner_h}" fill="none"'
        ' stroke="#bbb" stroke-width="0.5"/>'
        f'<text x="{PAD_L - 3}" y="{PAD_T + 8}" font-size="9" text-anchor="end">100%</text>'
        f'<text x="{PAD_L - 3}" y="{PAD_T + inner_h}" font-size="9" text-anchor="end">0</text>'
        f'<text x="{WIDTH - PAD_R + 3}" y="{PAD_T + 8}" font-size="9" fill="#d7301f">'
        f"{top_overdue}</text>"
        + "".join(bars)
        + f'<polyline class="pct" points="{" ".join(line)}" fill="none" stroke="#1a9850"'
        ' stroke-width="2"/>' + labels + "</svg>"
    )
