"""Measures of a wall page in a real browser, for the room tests (``tests/test_wall_room.py``)
and for looking at a layout by hand: how much of the screen the map and the land take, what
the cards hide, whether any two cards meet, whether any text overflows its box, and the
smallest text on screen (SVG chart text included, at its drawn size)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

LAND = "#ff00ff"  # the land painted in one colour while it is counted

HERE = Path(__file__).resolve().parent
LAYOUT_JS = (HERE / "wall_measure_layout.js").read_text(encoding="utf-8").split("\n", 1)[1]

PAINT_JS = ((HERE / "wall_measure_paint.js").read_text(encoding="utf-8").split("\n", 1)[1]).replace(
    "%LAND%", LAND
)  # the first line: a comment


def land_pixels(png: bytes) -> np.ndarray:
    """A mask of the painted land's pixels in a screenshot."""
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))  # uint8: compared as is
    return (a[..., 0] > 200) & (a[..., 1] < 70) & (a[..., 2] > 200)


def measure(page) -> dict:
    """The layout's measures for the view on screen now."""
    out = page.evaluate(LAYOUT_JS)
    w, h = page.viewport_size["width"], page.viewport_size["height"]
    page.evaluate(PAINT_JS, [True, False])
    bare = land_pixels(page.screenshot())
    page.evaluate(PAINT_JS, [True, True])
    covered = land_pixels(page.screenshot())
    page.evaluate(PAINT_JS, [False, True])
    total = int(bare.sum())
    out["landShare"] = total / (w * h)
    out["hidden"] = 1 - int(covered.sum()) / total if total else 1.0
    rows = np.nonzero(bare.any(axis=1))[0]
    map_h = out["map"][3] - out["map"][1]
    out["landHeight"] = (rows[-1] - rows[0] + 1) / map_h if len(rows) else 0.0
    return out
