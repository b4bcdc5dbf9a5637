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


# Shares are counted on a capture about this wide: a 4K PNG screenshot cost the browser
# ~0.6 s of CPU to encode, two per view, and a share needs no more pixels than this.
MEASURE_WIDTH = 960


def land_pixels(png: bytes) -> np.ndarray:
    """A mask of the painted land's pixels in a screenshot."""
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))  # uint8: compared as is
    return (a[..., 0] > 200) & (a[..., 1] < 70) & (a[..., 2] > 200)


def _capture(page, scale: float) -> bytes:
    """The viewport as a PNG drawn at ``scale`` (Chrome's DevTools capture, which
    Playwright's ``screenshot`` does not scale)."""
    import base64

    w, h = page.viewport_size["width"], page.viewport_size["height"]
    cdp = page.context.new_cdp_session(page)
    try:
        shot = cdp.send(
            "Page.captureScreenshot",
            {"format": "png", "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": scale}},
        )
    finally:
        cdp.detach()
    return base64.b64decode(shot["data"])


def measure(page) -> dict:
    """The layout's measures for the view on screen now."""
    out = page.evaluate(LAYOUT_JS)
    w = page.viewport_size["width"]
    scale = min(1.0, MEASURE_WIDTH / w)
    page.evaluate(PAINT_JS, [True, False])
    bare = land_pixels(_capture(page, scale))
    page.evaluate(PAINT_JS, [True, True])
    covered = land_pixels(_capture(page, scale))
    page.evaluate(PAINT_JS, [False, True])
    total = int(bare.sum())
    out["landShare"] = total / bare.size
    out["hidden"] = 1 - int(covered.sum()) / total if total else 1.0
    rows = np.nonzero(bare.any(axis=1))[0]
    map_h = out["map"][3] - out["map"][1]
    out["landHeight"] = (rows[-1] - rows[0] + 1) / scale / map_h if len(rows) else 0.0
    return out
