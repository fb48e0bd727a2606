"""NormalizedTexts: texts that carry their normalised forms through the pipeline."""

from __future__ import annotations

import pickle

import pytest

from neardup.errors import InputError
from neardup.text import NormalizedTexts, normalize, normalize_all


def test_normalize_all_reuses_carried_forms_and_checks_plain_lists() -> None:
    texts = NormalizedTexts(["A, b", "C"], ["carried", "forms"])
    assert normalize_all(texts) == ["carried", "forms"]  # read, not recomputed
    assert normalize_all(["A, b", "C"]) == ["a b", "c"]
    # another normaliser is applied, whatever the texts carry
    assert normalize_all(texts, str.upper) == ["A, B", "C"]
    with pytest.raises(InputError, match=r"row 1: expected a string, got NoneType None"):
        normalize_all(["ok", None])  # type: ignore[list-item]


def test_normalized_texts_are_read_only_and_survive_concatenation_and_pickling() -> None:
    a = NormalizedTexts(["A"], [normalize("A")])
    b = NormalizedTexts(["B b"], [normalize("B b")])
    both = a + b
    assert isinstance(both, NormalizedTexts) and both.normalized == ["a", "b b"]
    assert not isinstance(a + ["x"], NormalizedTexts) and a + ["x"] == ["A", "x"]
    assert pickle.loads(pickle.dumps(both)).normalized == both.normalized
    assert both.kept is None
    kept = NormalizedTexts(["A."], ["a"], ["a."]) + NormalizedTexts(["B!"], ["b"], ["b!"])
    assert kept.kept == ["a.", "b!"] and pickle.loads(pickle.dumps(kept)).kept == ["a.", "b!"]
    assert (NormalizedTexts(["A."], ["a"], ["a."]) + a).kept is None  # one side has none
    with pytest.raises(ValueError, match="2 punctuation-kept forms for 1 texts"):
        NormalizedTexts(["a"], ["a"], ["a", "b"])
    for change in (lambda: a.append("x"), lambda: a.__setitem__(0, "x"), lambda: a.sort()):
        with pytest.raises(TypeError, match="read-only"):
            change()
    assert list(a) == ["A"] and a.normalized == ["a"]
    with pytest.raises(ValueError, match="1 normalised forms for 2 texts"):
        NormalizedTexts(["a", "b"], ["a"])


def test_combining_marks_are_kept() -> None:
    from neardup.text import normalize

    # vowel signs and tone marks are letters' parts, not punctuation
    assert normalize("मुझे दाल पसंद है") != normalize("मुझे दिल पसंद है")
    assert normalize("ที่นี่") != normalize("ทีนี")
    # (Arabic harakat are the exception: optional, and most text leaves them out, so they go,
    # as in Lucene's Arabic normaliser: vocalised and plain copies of a text must match)
    assert normalize("كَتَبَ") == normalize("كُتُب") == normalize("كتب")
    assert normalize("Hello, World!") == "hello world"
    assert normalize("Привет, мир!") == "привет мир"


@pytest.mark.parametrize(
    ("variant", "plain"),
    [
        ("fix\u200bed", "fixed"),                      # zero-width space
        ("Informa\u00adtion", "Information"),          # soft hyphen
        ("\ufeffhello", "hello"),                      # byte-order mark
        ("I \u2764\ufe0f NY", "I \u2764 NY"),          # emoji variation selector
        ("葛\U000E0100城市", "葛城市"),                   # ideographic variation selector
        ("كَتَبَ الطَّالِبُ", "كتب الطالب"),               # Arabic harakat
        ("كـتـاب", "كتاب"),                              # Arabic tatweel
        ("שָׁלוֹם", "שלום"),                               # Hebrew niqqud
        ("İstanbul", "istanbul"),                       # Turkish dotted capital I
    ],
)
def test_invisible_and_optional_characters_do_not_split_or_separate_words(variant, plain):
    assert normalize(variant) == normalize(plain)
    assert normalize(variant).count(" ") == normalize(plain).count(" ")


def test_marks_that_change_the_word_still_count():
    assert normalize("दाल") != normalize("दिल")  # Devanagari vowel signs
    assert normalize("Ёлка") != normalize("Елка")  # NFKC keeps Cyrillic yo


@pytest.mark.parametrize("a, b", [
    ("C++ tutorial", "C# tutorial"),
    ("$5 off", "€5 off"),
    ("great day 😀", "great day 😢"),
    ("50% off", "50 off"),
    ("Москва: 5₽", "Москва: 5$"),
])
def test_symbols_that_carry_meaning_keep_texts_apart(a: str, b: str) -> None:
    assert normalize(a) != normalize(b)


@pytest.mark.parametrize("a, b", [
    ("great day😀", "great day 😀"),
    ("Hello, World!", "hello world"),
    ("I ❤️ NY", "I ❤ NY"),
    ("R&D—dept.", "r & d dept"),
    ("Цена: 5₽!", "цена 5 ₽"),
])
def test_punctuation_separates_and_symbols_stand_apart(a: str, b: str) -> None:
    assert normalize(a) == normalize(b)


def test_the_unicode_table_agrees_with_the_ascii_one() -> None:
    # the same ASCII characters through both paths (a non-ASCII letter forces the table)
    for c in map(chr, range(32, 127)):
        if c.isalnum():
            continue
        assert normalize(f"ж{c}ж") == normalize(f"z{c}z").replace("z", "ж"), repr(c)


def test_a_minus_sign_is_not_punctuation() -> None:
    from neardup.text import normalize

    assert normalize("Overnight low -5 C") != normalize("Overnight low 5 C")
    assert normalize("Bitcoin price -10%") != normalize("Bitcoin price 10%")
    assert normalize("low -5 C") == normalize("low −5 C")  # ASCII and Unicode minus agree
    assert normalize("low  -5 C") == normalize("low\t-5 C") == normalize("low -5 C")
    assert normalize("  -5") == normalize("-5")
    # hyphens inside words and number ranges, spaced or not, stay separators
    assert normalize("x86-64") == "x86 64"
    assert normalize("Jeans 811 - 821") == normalize("Jeans 811-821") == "jeans 811 821"
    assert normalize("well-known") == "well known"


def test_a_superscript_or_fraction_after_a_number_stays_apart_from_it() -> None:
    from neardup.scoring import digit_tokens
    from neardup.text import normalize

    # NFKC alone reads "10²" as "102" and "1½" as "11⁄2"
    assert normalize("10²") != normalize("102")
    assert normalize("10\u00ad²") == normalize("10\u200b²") == normalize("10²")  # invisible
    assert digit_tokens("1½ inch") == digit_tokens("1 1/2 inch") == {"1", "1/2inch"}
    assert normalize("3¼ kg") == normalize("3 1/4 kg")
    assert normalize("½ kg") == normalize("1/2 kg")
    # after a letter they are read as the digit, as NFKC reads them
    assert normalize("20 m²") == normalize("20 m2")
    assert normalize("H₂O") == "h2o"


@pytest.mark.parametrize(("text", "kept", "stripped"), [
    ("Hello,  World!", "hello, world!", "hello world"),
    ("  a\u2003b\u2028c  ", "a b c", "a b c"),  # unicode spaces fold like ASCII ones
    ("a\x1cb\x85c", "a b c", "a b c"),  # so do the control characters \s matches
    ("\u00a0x\u00a0", "x", "x"),
    ("R&D\u2014dept.", "r&d\u2014dept.", "r & d dept"),
    ("C++ / C#", "c++ / c#", "c + + c #"),
    ("Цена: 5₽!", "цена: 5₽!", "цена 5 ₽"),
    ("great day😀", "great day😀", "great day 😀"),
    ("10²", "10 2", "10 2"),
    ("İ.", "i.", "i"),
    ("- - -5", "- - \u22125", "\u2212 5"),  # a minus sign is a symbol, set apart
    ("...", "...", ""),
    ("", "", ""),
])
def test_the_stripped_form_comes_from_the_kept_one(text: str, kept: str, stripped: str) -> None:
    from neardup.text import punctuation_stripped

    assert normalize(text, strip_punctuation=False) == kept
    assert punctuation_stripped(kept) == normalize(text) == stripped
