"""Display levels of the stored geometry: the zoom bands and their simplification
tolerances (degrees). A module of its own so that readers (routes, tiles) can name the bands
without importing the topology code (shapely, numpy) that computes them."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_LEVELS: Mapping[str, float] = {"z6": 0.01, "z9": 0.002, "z12": 0.0002}
