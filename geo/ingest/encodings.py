"""Legacy Vietnamese text encodings (TCVN3/ABC, VNI-Windows) and telling them apart.

Why: official DBF files from provincial offices are still often written by software of the
1990s–2000s in TCVN3 (``Hµ Néi``) or VNI (``Haø Noäi``), with no ``.cpg`` saying so. Python
has no codec for either. TCVN3 is one byte per letter (the table below is the lower half of
TCVN 5712:1993 VN1, as glibc's iconv ``TCVN5712-1`` has it); VNI writes a base letter then a
mark byte, Latin-1 code points standing for the marks.

Detection decodes the raw bytes with every candidate and keeps the one whose words are
Vietnamese syllables; when official names are given, a guess must also match them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

CANDIDATES = ("utf-8", "cp1258", "tcvn3", "vni")
LABELS = {
    "utf-8": "UTF-8",
    "cp1258": "Windows-1258",
    "tcvn3": "TCVN3 (ABC)",
    "vni": "VNI-Windows",
}

# --- TCVN3 -------------------------------------------------------------------------------
# Bytes 0x80–0xFF. TCVN3 proper defines 0xA1–0xFF (lower-case toned letters and the plain
# capitals Ă Â Ê Ô Ơ Ư Đ); 0x80–0x9F hold VN1's toned capitals, harmless to decode too.
_TCVN3_HIGH = (
    "ÀẢÃÁẠẶẬÈẺẼÉẸỆÌỈĨ"  # 0x80
    "ÍỊÒỎÕÓỌỘỜỞỠỚỢÙỦŨ"  # 0x90
    "\u00a0ĂÂÊÔƠƯĐăâêôơưđẰ"  # 0xA0
    "\u0300\u0309\u0303\u0301\u0323àảãáạẲằẳẵắẴ"  # 0xB0 (five combining tone marks first)
    "ẮẦẨẪẤỀặầẩẫấậèỂẻẽ"  # 0xC0
    "éẹềểễếệìỉỄẾỒĩíịò"  # 0xD0
    "Ổỏõóọồổỗốộờởỡớợù"  # 0xE0
    "ỖủũúụừửữứựỳỷỹýỵỐ"  # 0xF0
)
assert len(_TCVN3_HIGH) == 128
_TCVN3_DECODE = {0x80 + i: ch for i, ch in enumerate(_TCVN3_HIGH)}
_TCVN3_ENCODE = {ch: bytes([b]) for b, ch in _TCVN3_DECODE.items() if not 0xB0 <= b <= 0xB4}


def decode_tcvn3(raw: bytes) -> str:
    """TCVN3 bytes → NFC text."""
    text = "".join(_TCVN3_DECODE.get(b, chr(b)) for b in raw)
    return unicodedata.normalize("NFC", text)


def encode_tcvn3(text: str) -> bytes:
    """Text → TCVN3 bytes (for building test files the way old software wrote them)."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        if ord(ch) < 0x80:
            out += ch.encode("ascii")
        elif ch in _TCVN3_ENCODE:
            out += _TCVN3_ENCODE[ch]
        else:
            raise UnicodeEncodeError("tcvn3", text, 0, len(text), f"no TCVN3 code for {ch!r}")
    return bytes(out)


# --- VNI-Windows -------------------------------------------------------------------------
# A toned vowel is its base letter followed by one mark byte; i/ĩ… and ỵ, ơ, ư, đ are single
# bytes. Marks in the order: no tone, sắc, huyền, hỏi, ngã, nặng.
_TONE_MARKS = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
_VNI_PLAIN = ("", "Ù", "Ø", "Û", "Õ", "Ï")
_VNI_CIRC = ("Â", "Á", "À", "Å", "Ã", "Ä")
_VNI_BREVE = ("Ê", "É", "È", "Ú", "Ü", "Ë")
_VNI_I = ("I", "Í", "Ì", "Æ", "Ó", "Ò")


def _vni_table() -> dict[str, str]:
    """VNI sequence (as Latin-1 text) → Unicode letter, capitals and small letters."""
    upper: dict[str, str] = {}

    def put(base_vni: str, marks: Sequence[str], base_uni: str) -> None:
        for tone, mark in zip(_TONE_MARKS, marks, strict=True):
            upper[base_vni + mark] = unicodedata.normalize("NFC", base_uni + tone)

    for v in "AEOUY":
        put(v, _VNI_PLAIN, v)
    put("A", _VNI_CIRC, "Â")
    put("E", _VNI_CIRC, "Ê")
    put("O", _VNI_CIRC, "Ô")
    put("A", _VNI_BREVE, "Ă")
    put("Ô", _VNI_PLAIN, "Ơ")
    put("Ö", _VNI_PLAIN, "Ư")
    for tone, seq in zip(_TONE_MARKS, _VNI_I, strict=True):
        upper[seq] = unicodedata.normalize("NFC", "I" + tone)
    upper["YÏ"] = "Ỵ"  # also written as the single byte Î
    upper["Î"] = "Ỵ"
    upper["Ñ"] = "Đ"
    table = {k: v for k, v in upper.items() if k not in ("A", "E", "O", "U", "Y", "I")}
    table.update({k.lower(): v.lower() for k, v in table.items()})
    return table


_VNI_DECODE = _vni_table()
_VNI_ENCODE: dict[str, str] = {}
for _seq, _ch in sorted(_VNI_DECODE.items(), key=lambda kv: -len(kv[0])):
    _VNI_ENCODE.setdefault(_ch, _seq)
_VNI_ENCODE["Ỵ"], _VNI_ENCODE["ỵ"] = "Î", "î"
_VNI_TOKEN = re.compile("|".join(re.escape(k) for k in sorted(_VNI_DECODE, key=len, reverse=True)))


def decode_vni(raw: bytes) -> str:
    """VNI-Windows bytes → NFC text."""
    return _VNI_TOKEN.sub(lambda m: _VNI_DECODE[m.group(0)], raw.decode("latin-1"))


def encode_vni(text: str) -> bytes:
    """Text → VNI-Windows bytes (for test files)."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        out.append(_VNI_ENCODE.get(ch, ch))
    return "".join(out).encode("latin-1")


def encode_cp1258(text: str) -> bytes:
    """Text → Windows-1258 the way Windows writes it: a letter with its vowel mark
    precomposed when the code page has it, the tone as a combining mark after it."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in _TONE_CHARS)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_CHARS))
        out += (base + tones).encode("cp1258")
    return bytes(out)


def decode(raw: bytes, encoding: str) -> str:
    """Decode with any candidate (strict for UTF-8 and cp1258), NFC-normalised."""
    enc = normalise_encoding_name(encoding)
    if enc == "tcvn3":
        return decode_tcvn3(raw)
    if enc == "vni":
        return decode_vni(raw)
    return unicodedata.normalize("NFC", raw.decode(enc))


def normalise_encoding_name(name: str) -> str:
    """Accept the names people type: ``TCVN3``, ``abc``, ``VNI``, ``windows-1258``, ``utf8``."""
    key = re.sub(r"[^0-9a-z]", "", name.lower())
    aliases = {
        "utf8": "utf-8",
        "utf8sig": "utf-8",
        "tcvn3": "tcvn3",
        "tcvn": "tcvn3",
        "abc": "tcvn3",
        "tcvn57121": "tcvn3",
        "vni": "vni",
        "vniwindows": "vni",
        "cp1258": "cp1258",
        "windows1258": "cp1258",
        "1258": "cp1258",
    }
    return aliases.get(key, name)


# --- plausibility ------------------------------------------------------------------------
_TONE_CHARS = set(_TONE_MARKS[1:])
_ONSET = r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|kr|[bcdđghklmnprstvx])?"
_NUCLEI = [  # longest first, so the regex tries "ươi" before "ư"
    *("iêu", "yêu", "oai", "oao", "oay", "oeo", "uây", "uôi", "uya", "uyê", "uyu", "ươi", "ươu"),
    *("ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iê", "iu", "oa", "oă", "oe", "oi"),
    *("ôi", "ơi", "oo", "ua", "uâ", "uê", "ui", "uô", "uơ", "uy", "ưa", "ưi", "ươ", "ưu", "yê"),
    *("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"),
]
_SYLLABLE = re.compile(
    _ONSET + "(?:" + "|".join(_NUCLEI) + ")" + r"(?:ch|nh|ng|[cmnptk])?", re.IGNORECASE
)
_WORD = re.compile(r"[^\W\d_]+")


def is_vietnamese_syllable(word: str) -> bool:
    """A word that could be one Vietnamese syllable: onset, vowel nucleus, coda, ≤ 1 tone."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    if sum(ch in _TONE_CHARS for ch in decomposed) > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_CHARS))
    return _SYLLABLE.fullmatch(base) is not None


def syllable_score(texts: Iterable[str]) -> tuple[float, int]:
    """Share of non-ASCII words that are Vietnamese syllables, and how many were judged."""
    judged = good = 0
    for text in texts:
        for word in _WORD.findall(text or ""):
            if word.isascii():
                continue
            judged += 1
            good += is_vietnamese_syllable(word)
    return (good / judged if judged else 1.0), judged


@dataclass
class Detection:
    """Which encoding a column of raw strings is in, and how sure we are."""

    encoding: str
    score: float  # share of words that are Vietnamese syllables
    matched: float | None  # share of names found among the official names (None: not checked)
    confirmed: bool
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return LABELS.get(self.encoding, self.encoding)


def detect(
    raw_values: Sequence[bytes],
    official: set[str] | None = None,
    key=None,
    declared: str | None = None,
) -> Detection:
    """Guess the encoding of ``raw_values``; ``official`` (names passed through ``key``)
    confirms a guess.

    UTF-8 wins when the bytes are valid UTF-8 and read as Vietnamese. Otherwise every
    candidate is decoded and scored; the best one is ``confirmed`` when its words are
    syllables (≥ 90 %) and, if official names are given, most names (≥ 50 %) match them.
    """
    values = [v for v in raw_values if v]
    order = list(CANDIDATES)
    if declared and normalise_encoding_name(declared) in order:
        order.remove(normalise_encoding_name(declared))
        order.insert(0, normalise_encoding_name(declared))
    if all(v.isascii() for v in values):
        enc = order[0]
        return Detection(enc, 1.0, None, True, {enc: 1.0})
    results: dict[str, tuple[float, float | None]] = {}
    for enc in CANDIDATES:
        try:
            texts = [decode(v, enc) for v in values]
        except (UnicodeDecodeError, LookupError):
            continue
        score, _ = syllable_score(texts)
        matched = None
        if official:
            k = key or (lambda s: s)
            matched = sum(k(t) in official for t in texts) / len(texts)
        results[enc] = (score, matched)
        if enc == "utf-8" and score >= 0.9:
            break  # valid UTF-8 that reads as Vietnamese is not an accident

    def rank(enc: str) -> tuple:
        score, matched = results[enc]
        return (matched or 0.0, score, -order.index(enc))

    best = max(results, key=rank)
    score, matched = results[best]
    confirmed = score >= 0.9 and (matched is None or matched >= 0.5)
    return Detection(best, score, matched, confirmed, {k: v[0] for k, v in results.items()})
