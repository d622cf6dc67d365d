"""Text that reads the same to every eye: what a text field may hold, and the confusable
skeleton that region matching compares (SPEC §7, Unicode TS #39 §4).

A statement is signed and stored exactly as written, so text is refused rather than
cleaned: a name holding a zero-width space, a soft hyphen, a word joiner or a
right-to-left override would show as one thing on a page and compare as another in a
policy check. ``refusal`` says why a text is refused, or returns ``None``.

``skeleton`` is TS #39's: NFD, default-ignorable code points removed, each character
replaced by its prototype in the confusables table (``data/confusables.txt``, with its
source note), NFD again. Two strings with one skeleton look alike: "Xinjiang" written with
a Cyrillic "а" has the skeleton of "Xinjiang".
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

# Explicit bidirectional formatting characters (Unicode TR #9): all are Cf but U+061C,
# U+200E and U+200F are named here so the message can say "bidirectional control".
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt), as ranges.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
# Categories refused: controls, format characters, surrogates, line and paragraph separators.
_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "a format character",
    "Cs": "a lone surrogate",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}
MULTILINE_ALLOWED = "\n\t"


def default_ignorable(c: str) -> bool:
    n = ord(c)
    return any(lo <= n <= hi for lo, hi in _DEFAULT_IGNORABLE)


def refusal(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot stand in a text field, or ``None`` if it can.

    Refused: characters of category Cc (but tab and line feed where ``multiline``), Cf
    (zero-width and bidirectional controls among them), Cs, Zl, Zp; any other
    default-ignorable code point (U+034F, U+3164, variation selectors…); text not in NFC.
    """
    for i, c in enumerate(value):
        if multiline and c in MULTILINE_ALLOWED:
            continue
        cat = unicodedata.category(c)
        what = _REFUSED_CATEGORIES.get(cat)
        if c in BIDI_CONTROLS:
            what = "a bidirectional control character"
        elif what is None and default_ignorable(c):
            what = "an invisible (default-ignorable) character"
        if what is not None:
            return f"holds {what} (U+{ord(c):04X}) at position {i}"
    if not unicodedata.is_normalized("NFC", value):
        return "is not in Unicode NFC (normalise it to composed form first)"
    return None


@functools.cache
def _prototypes() -> dict[str, str]:
    table: dict[str, str] = {}
    path = Path(__file__).with_name("data") / "confusables.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        source, target = line.split(";")
        table[chr(int(source, 16))] = "".join(chr(int(cp, 16)) for cp in target.split())
    return table


def skeleton(value: str) -> str:
    """The TS #39 skeleton of ``value``: strings that look alike share it."""
    table = _prototypes()
    decomposed = unicodedata.normalize("NFD", value)
    mapped = "".join(table.get(c, c) for c in decomposed if not default_ignorable(c))
    return unicodedata.normalize("NFD", mapped)
