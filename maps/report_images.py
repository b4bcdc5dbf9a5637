"""The report's pictures, drawn on the server offline: a choropleth of the provinces (or of a
province's communes) and the year's trend, as PNG bytes for the DOCX.

Why matplotlib and the web map's classing: a printed map must read like the one on the
screen, so the classes, breaks and colours come from ``maps.choropleth.classes`` with the
measure's method (``maps.measures``), and units with no value are hatched, never the
lowest class colour. Paper is white, so outlines are grey instead of the dark background.
matplotlib loads on first use (the serving process does not import it at start); polygons
go from shapely to matplotlib paths directly, without geopandas and pandas.
"""

from __future__ import annotations

import io

from maps import choropleth, i18n, measures, theme

DPI = 200
OUTLINE = "#6b7280"


def _figure(size_in: tuple[float, float]):
    """A figure of its own, outside pyplot's global state: two reports drawn at once on
    two build threads never share a figure (pyplot is not thread-safe)."""
    from matplotlib.figure import Figure

    return Figure(figsize=size_in, dpi=DPI)


def _png(fig) -> bytes:
    out = io.BytesIO()
    fig.tight_layout()
    fig.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def _patches(geoms, colours: list[str], hatch: str | None = None):
    """Polygons (holes kept) as one collection: shapely rings → matplotlib paths, with no
    geopandas (and its ~80 MB of pandas) in the serving process."""
    import numpy as np
    import shapely
    from matplotlib.collections import PathCollection
    from matplotlib.path import Path

    paths, faces = [], []
    for geom, colour in zip(geoms, colours, strict=True):
        for poly in shapely.get_parts(geom):
            if poly.is_empty or poly.geom_type != "Polygon":
                continue
            rings = [poly.exterior, *poly.interiors]
            verts = np.concatenate([np.asarray(r.coords)[:, :2] for r in rings])
            codes = np.concatenate(
                [[Path.MOVETO] + [Path.LINETO] * (len(r.coords) - 2) + [Path.CLOSEPOLY]
                 for r in rings]
            )  # fmt: skip
            paths.append(Path(verts, codes))
            faces.append(colour)
    return PathCollection(paths, facecolors=faces, edgecolors=OUTLINE, linewidths=0.3,
                          hatch=hatch)  # fmt: skip


def choropleth_png(
    shapes: list[tuple[str, bytes]],
    values: dict[str, float | None],
    title: str,
    level: str = "province",
    size_in: tuple[float, float] = (6.2, 7.4),
) -> bytes:
    """Units filled by the class of their completion % (the web map's default measure)."""
    import shapely
    from matplotlib.patches import Patch

    measure = measures.find(measures.DEFAULT_MEASURE, level, [])
    assert measure is not None
    codes = [c for c, _ in shapes]
    vals = [values.get(c) for c in codes]
    breaks, palette, single = choropleth.classes(
        vals, measure.method, measure.decimals, measure.higher_is_better
    )
    geoms = shapely.from_wkb([w for _, w in shapes])
    fig = _figure(size_in)
    ax = fig.subplots()
    colours = [choropleth.colour_for(v, breaks, palette) for v in vals]
    filled = [(g, c) for g, c in zip(geoms, colours, strict=True) if not c.startswith("url(")]
    empty = [g for g, c in zip(geoms, colours, strict=True) if c.startswith("url(")]
    ax.add_collection(_patches([g for g, _ in filled], [c for _, c in filled]))
    if empty:
        ax.add_collection(_patches(empty, ["white"] * len(empty), hatch="////"))
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    pad = 0.02 * max(maxx - minx, maxy - miny)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_axis_off()
    ax.set_aspect(1 / 0.95)  # ~cos(18°): lon/lat near Vietnam's middle latitude
    labels = choropleth.class_labels(breaks, measure.decimals, measure.unit)
    handles = [
        Patch(facecolor=c, edgecolor=OUTLINE, label=lab)
        for c, lab in zip(palette, labels, strict=False)
    ]
    handles.append(
        Patch(facecolor="white", edgecolor=OUTLINE, hatch="////", label="Không có dữ liệu")
    )
    note = "một lớp: mọi đơn vị cùng giá trị" if single else "phân lớp: phân vị"
    # the national map leaves the sea east of the north empty; a province fills its box,
    # so its legend goes under the map
    place = (
        {"loc": "upper right"}
        if level == "province"
        else {"loc": "upper center", "bbox_to_anchor": (0.5, 0.0), "ncol": 3}
    )
    ax.legend(
        handles=handles, title=f"{measure.label_vi} ({note})", fontsize=7,
        title_fontsize=7, frameon=False, **place,
    )  # fmt: skip
    if level == "province" and maxx > 111:  # the national map: name the archipelagos
        words = i18n.strings("vi")
        for (lon, lat), key in (((112.0, 16.1), "hoang_sa"), ((114.2, 9.6), "truong_sa")):
            ax.annotate(words[key], (lon, lat), fontsize=6, ha="center", va="top",
                        color=theme.MUTED)  # fmt: skip
    ax.set_title(title, fontsize=9)
    return _png(fig)


def trend_png(points: list[dict], title: str, size_in: tuple[float, float] = (6.2, 2.6)) -> bytes:
    """Completion % (line, left axis) and overdue tasks (bars, right axis) per point."""
    fig = _figure(size_in)
    ax = fig.subplots()
    labels = [f"{p['day'][8:10]}/{p['day'][5:7]}" for p in points]
    xs = list(range(len(points)))
    ax2 = ax.twinx()
    ax2.bar(xs, [p["tasks_overdue"] for p in points], color=theme.STATUS["overdue"], alpha=0.45,
            width=0.6, label="Số nhiệm vụ quá hạn")  # fmt: skip
    pcts = [p.get("completion_pct") or 0.0 for p in points]
    ax.plot(xs, pcts, color=theme.SEQUENTIAL[1], marker="o", linewidth=1.6,
            label="Tỷ lệ hoàn thành (%)")  # fmt: skip
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.set_ylim(0, 100)
    ax.set_xticks(xs, labels, fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax2.tick_params(axis="y", labelsize=7)
    ax.set_ylabel("%", fontsize=7)
    ax2.set_ylabel("quá hạn", fontsize=7)
    for x, v in zip(xs, pcts, strict=True):
        ax.annotate(theme.vn_number(v, 1), (x, v), textcoords="offset points", xytext=(0, 5),
                    ha="center", fontsize=6)  # fmt: skip
    lines = ax.get_legend_handles_labels()
    bars = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + bars[0], lines[1] + bars[1], fontsize=7, loc="upper left",
              frameon=False)  # fmt: skip
    ax.set_title(title, fontsize=9)
    return _png(fig)
