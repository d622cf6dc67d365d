"""RFC 8785 (JCS) canonical bytes and strict parsing, against published vectors.

Vectors (tests/vectors/jcs/): the RFC 8785 §3.2.2 sample and §3.2.3 sorting example, the
JCS author's reference test data (cyberphone/json-canonicalization testdata/input and
testdata/output), and the integer-valued samples of RFC 8785 Appendix B. Inputs with
floating-point numbers are refused by our parser (SPEC §2: amounts are decimal strings),
so for those we check the refusal, and the published output through the ``rfc8785``
library we compare against.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.crypto import canonical
from ledger.errors import Malformed, TooLarge

VECTORS = Path(__file__).parent / "vectors" / "jcs"
INPUTS = sorted((VECTORS / "input").glob("*.json"))
REFUSE = sorted((VECTORS / "refuse").glob("*.json"))
INTEGERS = json.loads((VECTORS / "integers.json").read_text())["cases"]
SAFE = 2**53 - 1


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    return False


def _published(path: Path) -> tuple[bytes, bytes, Any]:
    raw = path.read_bytes()
    want = (VECTORS / "output" / path.name).read_bytes()
    return raw, want, json.loads(raw)


FLOAT_FREE = [p for p in INPUTS if not _has_float(json.loads(p.read_bytes()))]
WITH_FLOATS = [p for p in INPUTS if p not in FLOAT_FREE]


def test_vector_sets_are_not_empty() -> None:
    assert len(FLOAT_FREE) >= 5 and len(WITH_FLOATS) >= 3 and len(REFUSE) >= 20


@pytest.mark.parametrize("path", INPUTS, ids=[p.stem for p in INPUTS])
def test_reference_library_reproduces_published_output(path: Path) -> None:
    """The library the property test compares against agrees with every published vector."""
    _, want, value = _published(path)
    assert rfc8785.dumps(value) == want


@pytest.mark.parametrize("path", FLOAT_FREE, ids=[p.stem for p in FLOAT_FREE])
def test_published_vector(path: Path) -> None:
    raw, want, _ = _published(path)
    value = canonical.parse(raw)
    assert canonical.jcs(value) == want
    # Canonical bytes parse back to the same value and are a fixed point.
    assert canonical.parse(want) == value
    assert canonical.jcs(canonical.parse(want)) == want


@pytest.mark.parametrize("path", WITH_FLOATS, ids=[p.stem for p in WITH_FLOATS])
def test_published_vector_with_floats_is_refused(path: Path) -> None:
    raw, _, _ = _published(path)
    with pytest.raises(Malformed):
        canonical.parse(raw)


def _drop_numbers(text: str) -> str:
    """The published canonical output without its "numbers" member (an array of scalars)."""
    text, n = re.subn(r'"numbers":\[[^\]]*\],?', "", text)
    assert n == 1
    return text.replace(",}", "}")


@pytest.mark.parametrize("path", [p for p in WITH_FLOATS if "numbers" in p.read_text()], ids=lambda p: p.stem)
def test_published_string_escaping_and_literals(path: Path) -> None:
    """The string-escaping and literal parts of the RFC 8785 §3.2.2 sample (and its cyberphone
    twin): the published output with the float member removed."""
    raw, want, value = _published(path)
    del value["numbers"]
    expected = _drop_numbers(want.decode("utf-8")).encode("utf-8")
    assert canonical.jcs(value) == expected
    assert canonical.jcs(canonical.parse(expected)) == expected


def test_rfc8785_sorting_is_by_utf16_code_units() -> None:
    """§3.2.3: U+1F600 (D83D DE00 in UTF-16) sorts before U+FB33, unlike code point order."""
    value = canonical.parse((VECTORS / "input" / "rfc8785-3.2.3-sorting.json").read_bytes())
    order = list(json.loads(canonical.jcs(value)).values())
    assert order == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]
    assert sorted(value) != sorted(value, key=lambda k: k.encode("utf-16-be"))


@pytest.mark.parametrize("case", INTEGERS, ids=[c["name"] for c in INTEGERS])
def test_rfc8785_appendix_b_integers(case: dict) -> None:
    assert canonical.jcs(canonical.parse(case["json"])) == case["want"].encode()


@pytest.mark.parametrize(
    "value,want",
    [
        ("\u0000\u0008\u0009\u000a\u000c\u000d\u001f", '"\\u0000\\b\\t\\n\\f\\r\\u001f"'),
        ('"\\/', '"\\"\\\\/"'),
        ("\u007f\u0080\u2028\u2029", '"\u007f\u0080\u2028\u2029"'),
        ("<>&'", '"<>&\'"'),
        ("\U0001f600", '"\U0001f600"'),
    ],
    ids=[
        "c0-controls",
        "quote-backslash-solidus",
        "del-c1-separators-raw",
        "html-raw",
        "astral-raw",
    ],
)
def test_string_escaping(value: str, want: str) -> None:
    """RFC 8785 §3.2.2.2: only ", \\ and U+0000..U+001F are escaped, the short forms where
    JSON has them, else \\u00xx in lowercase; everything else is raw UTF-8."""
    assert canonical.jcs(value) == want.encode("utf-8")
    assert canonical.jcs([value, {"k": value}]) == rfc8785.dumps([value, {"k": value}])


# --- refusals --------------------------------------------------------------------------

_KNOWN_REFUSAL_BUGS: dict[str, str] = {}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            p,
            id=p.stem,
            marks=[pytest.mark.xfail(strict=True, raises=ValueError, reason=_KNOWN_REFUSAL_BUGS[p.stem])]
            if p.stem in _KNOWN_REFUSAL_BUGS
            else [],
        )
        for p in REFUSE
    ],
)
def test_refused(path: Path) -> None:
    with pytest.raises(Malformed):
        canonical.parse(path.read_bytes())


@pytest.mark.parametrize("depth", [33, 100, 1000, 100_000])
def test_too_deep_is_refused(depth: int) -> None:
    with pytest.raises(Malformed):
        canonical.parse("[" * depth + "1" + "]" * depth)
    with pytest.raises(Malformed):
        canonical.parse('{"a":' * depth + "1" + "}" * depth)


def test_nesting_within_limit_is_accepted() -> None:
    depth = canonical.MAX_DEPTH
    assert canonical.parse("[" * depth + "1" + "]" * depth) is not None
    assert canonical.parse('{"a":' * depth + "1" + "}" * depth) is not None


def test_safe_integer_boundaries_are_accepted() -> None:
    assert canonical.parse(str(SAFE)) == SAFE
    assert canonical.parse(str(-SAFE)) == -SAFE
    assert canonical.jcs([SAFE, -SAFE]) == b"[9007199254740991,-9007199254740991]"


def test_limit() -> None:
    with pytest.raises(TooLarge):
        canonical.parse(b'"' + b"x" * 100 + b'"', limit=64)
    assert canonical.parse(b'"' + b"x" * 62 + b'"', limit=64) == "x" * 62


@pytest.mark.parametrize("value", ["\ud800", "a\udc00b", {"\ud83d": 1}, ["\ude00\ud83d"]])
def test_jcs_refuses_lone_surrogates(value: Any) -> None:
    with pytest.raises(Malformed):
        canonical.jcs(value)
    with pytest.raises(Malformed):  # also on the non-BMP fallback path
        canonical.jcs([value, "\U0001f600"])


@pytest.mark.parametrize(
    "value", [1.5, float("nan"), 2**53, -(2**53), 2**53 + 1, -(2**53) - 1, b"bytes", {1, 2}, (1,)]
)
def test_check_value_refuses_what_jcs_cannot_carry(value: Any) -> None:
    with pytest.raises(Malformed):
        canonical.check_value({"k": [value]})


def test_everything_parse_accepts_jcs_canonicalizes() -> None:
    # 2^53 - 1 is the edge of SPEC v2 §2's range (I-JSON; v1 allowed 2^53), also on the
    # path that orders non-BMP keys by UTF-16 code units.
    value = canonical.parse('{"n": 9007199254740991, "\\ud83d\\ude00": 1, "\\uffff": 2}')
    assert canonical.jcs(value) == '{"n":9007199254740991,"\U0001f600":1,"\uffff":2}'.encode()


# --- property: jcs == rfc8785 ----------------------------------------------------------------

_astral = st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF)
_tricky = st.sampled_from(
    [
        "",
        "\r",
        "1",
        "\u0080",
        "\u00f6",
        "\u20ac",
        "\ufb33",
        "\uffff",
        "\U0001f600",
        "\U00010000",
        "a\x00b",
    ]
)
_keys = st.one_of(
    st.text(max_size=6),
    st.text(alphabet=_astral, min_size=1, max_size=3),
    st.text(
        alphabet=st.one_of(_astral, st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"])),
        max_size=4,
    ),
    _tricky,
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-SAFE, max_value=SAFE),
    st.sampled_from([0, 1, -1, SAFE, -SAFE, 2**31, -(2**31), 2**32]),
    st.text(max_size=12),
    _tricky,
)
_json = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(_keys, children, max_size=6),
    ),
    max_leaves=25,
)


@settings(max_examples=200)
@given(_json)
def test_jcs_matches_rfc8785(value: Any) -> None:
    want = rfc8785.dumps(value)
    assert canonical.jcs(value) == want
    # What we produce, we parse back (strictly) to the same value, and it is a fixed point.
    assert canonical.parse(want) == value
    # Parsing any JSON spelling of the value (here: everything escaped) gives the same bytes.
    assert canonical.jcs(canonical.parse(json.dumps(value, ensure_ascii=True))) == want


@settings(max_examples=200)
@given(st.dictionaries(_keys, st.integers(-SAFE, SAFE), min_size=2, max_size=12))
def test_object_keys_sort_by_utf16(value: dict[str, int]) -> None:
    out = json.loads(canonical.jcs(value))
    assert list(out) == sorted(value, key=lambda k: k.encode("utf-16-be"))
