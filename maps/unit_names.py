"""Short forms of Vietnamese unit names for labels that must fit their box (the wall).

One rule, here and in ``IOC.shortName`` (``maps/assets/js/ioc-wall.js``): where the
context says the units are provinces, "Tỉnh " is dropped and "Thành phố " becomes "TP."
("Thành phố Hồ Chí Minh" → "TP. Hồ Chí Minh"); for communes, "Phường " becomes "P." and
"Thị trấn " "TT." ("Xã " and "Đặc khu " stay: short already, and a commune's kind matters).
Anything else is left as written; names are NFC-normalised first."""

from __future__ import annotations

import unicodedata

PREFIXES = (
    ("Thành phố ", "TP. "),
    ("Tỉnh ", ""),
    ("Phường ", "P. "),
    ("Thị trấn ", "TT. "),
)


def short_name(name: str) -> str:
    """The short label of a province's or commune's full name (see the module docstring)."""
    text = unicodedata.normalize("NFC", (name or "").strip())
    for long, short in PREFIXES:
        if text.startswith(long) and len(text) > len(long):
            return short + text[len(long) :]
    return text
