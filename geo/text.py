"""Vietnamese text helpers: NFC with one tone-mark placement, and diacritic-free keys.

Why: sources disagree on tone placement (``Hoà`` vs ``Hòa``, both NFC) and users type
without diacritics (``ca mau`` must find ``Cà Mau``). ``đ``/``Đ`` are letters of their own
in Unicode, so NFD decomposition does not strip them: they are mapped explicitly.
"""

from __future__ import annotations

import re
import unicodedata

# Old-style ("oà") → new-style ("òa") tone placement for the open diphthongs oa, oe, uy.
_TONED = {
    "a": "àáảãạ",
    "e": "èéẻẽẹ",
    "y": "ỳýỷỹỵ",
    "o": "òóỏõọ",
    "u": "ùúủũụ",
}
_BASE_OF = {ch: (base, i) for base, toned in _TONED.items() for i, ch in enumerate(toned)}
# o+a/e or u+y at the end of a syllable, not after q (in "quý" the u is part of "qu").
_OLD_STYLE = re.compile(r"(?i)(o)([àáảãạèéẻẽẹ])(?![\wđĐ])|(?<!q)(u)([ỳýỷỹỵ])(?![\wđĐ])")


def _move_tone(m: re.Match[str]) -> str:
    first = m.group(1) or m.group(3)
    second = m.group(2) or m.group(4)
    base, tone = _BASE_OF[second.lower()]
    toned_first = _TONED[first.lower()][tone]
    return (toned_first.upper() if first.isupper() else toned_first) + (
        base.upper() if second.isupper() else base
    )


def _tone_placement(text: str) -> str:
    """Move the tone of a syllable-final oa/oe/uy onto the first vowel (``hoà`` → ``hòa``)."""
    return _OLD_STYLE.sub(_move_tone, text)


def normalise_name(text: str) -> str:
    """NFC, single spaces, and one tone-mark placement, for storing names."""
    text = unicodedata.normalize("NFC", text or "")
    text = " ".join(text.split())
    return unicodedata.normalize("NFC", _tone_placement(text))


def search_key(text: str) -> str:
    """Lower-case ASCII key without diacritics: ``Đắk Lắk`` → ``dak lak``."""
    text = unicodedata.normalize("NFC", text or "").replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", stripped.lower()).split())
