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


# Characters an identifier may not hold although NFKC keeps them: they are invisible or
# blank (so ``NQ57-1`` and ``NQ57-1<ZWSP>`` would be two look-alike tasks) — every format
# character (Cf: zero-width space/joiners, BOM, bidi controls, soft hyphen), control and
# private-use characters, and the blank letters and joiners not in Cf.
_INVISIBLE = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0}
_DENIED_CATEGORIES = {"Cf", "Cc", "Co", "Cs", "Cn", "Zl", "Zp"}
# letters of scripts that look like Latin ones (Cyrillic а, Greek ο …): Vietnamese ids
# are Latin, so these are look-alikes, not a second alphabet
_CONFUSABLE_SCRIPTS = ("CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC")


class IdentifierError(ValueError):
    """An identifier holding an invisible or look-alike character; the message names it."""


def identifier(text: str) -> str:
    """``text`` as an identifier: NFKC (full-width and compatibility forms folded to the
    character they stand for), refused when it holds an invisible character or a letter
    of a Latin look-alike script. Why: a zero-width space in a task id made a second task
    that looks like the first in every list (issue 21)."""
    folded = unicodedata.normalize("NFKC", text)
    for ch in folded:
        cp = ord(ch)
        bad = (
            unicodedata.category(ch) in _DENIED_CATEGORIES
            or cp in _INVISIBLE
            or 0xFE00 <= cp <= 0xFE0F  # variation selectors
            or 0xE0100 <= cp <= 0xE01EF
        )
        name = unicodedata.name(ch, f"U+{cp:04X}")
        if bad:
            raise IdentifierError(
                f"chứa ký tự ẩn U+{cp:04X} ({name}) / holds an invisible character"
                f" U+{cp:04X} {name}"
            )
        if ch.isalpha() and name.startswith(_CONFUSABLE_SCRIPTS):
            raise IdentifierError(
                f"chứa ký tự dễ nhầm '{ch}' U+{cp:04X} ({name}) / holds a look-alike letter"
                f" '{ch}' U+{cp:04X} {name}"
            )
    return folded
