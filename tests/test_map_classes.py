"""Class breaks, colours and legend text: what a reader of the legend relies on."""

from __future__ import annotations

from maps import theme
from maps.choropleth import (
    HATCH_FILL,
    class_breaks,
    class_labels,
    classes,
    colour_for,
    decimals_for,
    palette_for,
)


def test_quantiles_split_units_evenly():
    values = [float(v) for v in range(1, 101)]
    breaks = class_breaks(values, method="quantiles")
    assert len(breaks) == 5 and breaks[-1] == 100
    counts = [
        sum(1 for v in values if lo < v <= hi)
        for lo, hi in zip([0, *breaks[:-1]], breaks, strict=True)
    ]
    assert max(counts) - min(counts) <= 1


def test_natural_breaks_give_zero_its_own_class():
    values = [0.0] * 20 + [1, 2, 2, 3, 9, 10, 11, 40, 41]
    breaks = class_breaks(values, method="natural_breaks")
    assert breaks[0] == 0
    assert class_labels(breaks, 0)[0] == "0"
    assert colour_for(0, breaks, palette_for(len(breaks))) != colour_for(1, breaks, palette_for(5))


def test_missing_values_are_hatched_never_the_lowest_colour():
    breaks = class_breaks([10.0, 20.0, 30.0, 40.0, 50.0])
    palette = palette_for(len(breaks))
    assert colour_for(None, breaks, palette) == HATCH_FILL
    assert colour_for(10.0, breaks, palette) == palette[0] != HATCH_FILL
    assert class_breaks([None, None]) == []


def test_legend_labels_use_vietnamese_numbers():
    labels = class_labels([1234.5, 2345.25], 1, "%", lowest=1000)
    assert labels == ["1.000,0 – 1.234,5\u00a0%", "1.234,5 – 2.345,2\u00a0%"]
    assert class_labels([100.0], 1, "%", lowest=100.0) == ["100,0\u00a0%"]
    assert theme.vn_number(56.97, 2) == "56,97"


def test_few_classes_still_span_the_ramp():
    assert palette_for(2) == [theme.SEQUENTIAL[0], theme.SEQUENTIAL[-1]]
    assert palette_for(3, higher_is_better=False)[0] == theme.SEQUENTIAL_BAD[0]


def test_decimals_follow_the_scale():
    assert decimals_for([0.51, 0.73]) == 3
    assert decimals_for([56.9, 80.1]) == 1


def test_one_class_is_never_drawn_in_the_best_colour():
    """All 34 provinces at 0 % (as of 1 Jan) must not look like the best possible map."""
    breaks, palette, single = classes([0.0] * 34, "quantiles", 2)
    assert single and breaks == [0.0]
    assert palette == [theme.SEQUENTIAL[0]] and palette[0] != theme.SEQUENTIAL[-1]
    breaks, palette, single = classes([100.0] * 130, "quantiles", 2)  # Nghệ An's communes
    assert single and palette[0] not in (theme.SEQUENTIAL[-1], theme.SEQUENTIAL[0])
    # no overdue task anywhere: the calm end of the "bad" ramp, not its alarm colour
    breaks, palette, _ = classes([0.0] * 10, "natural_breaks", 0, higher_is_better=False)
    assert palette == [theme.SEQUENTIAL_BAD[0]]


def test_breaks_are_rounded_once_to_the_shown_decimals():
    values = [31.94, 44.05, 48.0125, 53.04, 56.25, 62.03, 66.95, 70.0, 75.0, 82.28]
    breaks, _, _ = classes(values, "quantiles", 2)
    assert all(round(b, 2) == b for b in breaks)
    assert breaks[-1] == max(values)  # the top class still holds the largest value
    # 56.25 reads the same in the legend as in a ranking (no second rounding)
    assert class_labels([56.25], 2, "%", lowest=56.25) == ["56,25\u00a0%"]


def test_english_numbers():
    assert theme.fmt_number(1954, 0, "en") == "1,954"
    assert theme.fmt_number(56.97, 2, "en") == "56.97"
    assert class_labels([1234.5, 2345.25], 2, "%", 1000, "en")[1] == "1,234.50 – 2,345.25\u00a0%"
