"""Text normalisation shared by exact matching, MinHash and character n-gram scoring."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence

from neardup.errors import InputError

_SPACE = re.compile(r"\s+", re.UNICODE)
#: Symbols that carry meaning ("C++" and "C#", "$5" and "€5", "great 😀" and "great 😢" must not
#: normalise alike): kept, each set apart by spaces so that "day😀" and "day 😀" still agree.
#: Punctuation that only separates words (.,;:!?'"()[]-/ ...) becomes a space.
_KEPT_ASCII = "$+<=>|~#%&@"
#: The same for an ASCII text, as one str.translate pass instead of two regex substitutions
_ASCII_TABLE = {
    **{ord(c): " " for c in map(chr, range(128)) if not (c.isalnum() or c.isspace() or c == "_")},
    **{ord(c): f" {c} " for c in _KEPT_ASCII},
}


def _ranges(keep: Callable[[str], bool], limit: int = 0x20000) -> str:
    """A regex class body of the characters below ``limit`` whose category ``keep`` accepts."""
    parts: list[str] = []
    start = prev = -1
    for cp in range(limit + 1):
        if cp < limit and keep(unicodedata.category(chr(cp))):
            if start < 0:
                start = cp
            prev = cp
        elif start >= 0:
            last = "" if prev == start else "-" + re.escape(chr(prev))
            parts.append(re.escape(chr(start)) + last)
            start = -1
    return "".join(parts)


def _mark_ranges() -> str:
    """The combining marks (categories Mn, Mc, Me)."""
    return _ranges(lambda category: category[0] == "M")


@functools.cache
def _ignorable() -> re.Pattern[str]:
    # Deleted, not turned into spaces, so they cannot split a word: format characters (zero
    # width space and joiners, soft hyphen, direction marks, BOM, tags), variation selectors
    # (U+FE0F after a heart, U+E0100... in Japanese place names), the Arabic tatweel and the
    # optional vowel points of Arabic (harakat) and Hebrew (niqqud), which writers add or leave
    # out freely. Other combining marks stay (they tell Devanagari words apart, see below).
    hebrew_points = "".join(
        re.escape(chr(cp)) for cp in range(0x0591, 0x05C8)
        if unicodedata.category(chr(cp))[0] == "M"
    )
    return re.compile(
        f"[{_ranges(lambda category: category == 'Cf')}"
        f"\\U000E0000-\\U000E0FFF\\uFE00-\\uFE0F\\u0640\\u064B-\\u065F\\u0670{hebrew_points}]"
    )


@functools.cache
def _punct_unicode() -> re.Pattern[str]:
    # \w does not match combining marks, and NFKC composes them only for some scripts:
    # without them in the class, Devanagari vowel signs, Thai tone marks or Arabic harakat
    # became spaces, and "दाल" (lentils) and "दिल" (heart) normalised alike. Built on the first
    # non-ASCII text (~20 ms), not at import; ASCII texts use _ASCII_TABLE.
    return re.compile(f"[^\\w\\s{_mark_ranges()}{_symbol_ranges()}#%&@]")


@functools.cache
def _symbol_ranges() -> str:
    """Math, currency and other symbols (categories Sm, Sc, So: emoji among them)."""
    return _ranges(lambda category: category in ("Sm", "Sc", "So"))


@functools.cache
def _symbol_unicode() -> re.Pattern[str]:
    return re.compile(f"([{_symbol_ranges()}#%&@])")


@functools.cache
def _unicode_table() -> dict[int, str]:
    """The two classes above as one str.translate table, built from the regexes themselves so
    the two cannot disagree (normalising 100,000 synthetic English and Russian texts: 0.70 s
    against 1.30 s for the two substitutions). Built on the first non-ASCII text (~0.2 s, once
    per process); characters from U+20000 up (historic CJK, private use) are left as they are."""
    punct, symbol = _punct_unicode(), _symbol_unicode()
    table: dict[int, str] = {}
    for cp in range(0x20000):
        c = chr(cp)
        if symbol.fullmatch(c):
            table[cp] = f" {c} "
        elif punct.fullmatch(c):
            table[cp] = " "
    return table


#: An ASCII hyphen that is a minus sign: before a digit, at the start of the text or after a
#: space or "(" that does not follow a digit ("low -5 C", "(-10%)"; not "x86-64", "10-20" or
#: the range "811 - 821"). It becomes U+2212, a symbol that normalisation keeps, so "-5" and
#: "5" do not normalise alike while "-5" and "−5" do.
_MINUS = re.compile(r"(?:^|(?<=^[\s(])|(?<=[^\d\s][\s(]))-(?=\d)")


def mark_minus(text: str) -> str:
    """``text`` with every ASCII hyphen that is a minus sign (see :data:`_MINUS`) as U+2212.

    Whitespace runs are folded to one space first, so "low  -5" reads as "low -5" does.
    """
    return _MINUS.sub("\u2212", _SPACE.sub(" ", text)) if "-" in text else text


#: A superscript or subscript digit or a vulgar fraction right after a digit. NFKC turns them
#: into plain digits, which would join the two numbers ("10²" read "102", "1½" read "11⁄2");
#: a space before them keeps the numbers apart ("10 2", "1 1/2", as "1 1/2" is typed).
_SUPERSCRIPTS = ("[\u00b2\u00b3\u00b9\u2070\u2074-\u2079\u2080-\u2089\u00bc-\u00be"
                 "\u2150-\u215f\u2189]")
_ATTACHED_DIGIT = re.compile(f"(?<=\\d)(?={_SUPERSCRIPTS})")
_HAS_SUPERSCRIPT = re.compile(_SUPERSCRIPTS)


def normalize(text: str, *, strip_punctuation: bool = True) -> str:
    """Canonical form used for matching: NFKC, case-folded, punctuation to space, symbols set
    apart by spaces, spaces folded.

    NFKC folds full-width and compatibility characters (common in OCR and marketplace data),
    with a space kept between a number and a superscript, subscript or fraction after it;
    casefold handles more than ``lower`` (German sharp s, Cyrillic variants). Invisible format
    characters, variation selectors and optional Arabic and Hebrew vowel points are deleted.
    """
    if not text.isascii() and _HAS_SUPERSCRIPT.search(text):
        # invisible characters first, so that a soft hyphen cannot hide the digit before one
        text = _ATTACHED_DIGIT.sub(" ", _ignorable().sub("", text))
    text = mark_minus(unicodedata.normalize("NFKC", text).casefold())
    if not text.isascii():
        # casefold turns the Turkish dotted capital I into "i" + combining dot above; NFKC
        # writes a fraction with the fraction slash, which is read as the "/" typed instead
        text = _ignorable().sub("", text).replace("i\u0307", "i").replace("\u2044", "/")
    kept = " ".join(text.split())  # _SPACE.sub(" ", text).strip(), see punctuation_stripped
    return punctuation_stripped(kept) if strip_punctuation else kept


def punctuation_stripped(kept: str) -> str:
    """``normalize(text)`` from ``kept = normalize(text, strip_punctuation=False)``.

    :func:`normalize` itself goes this way, so the two forms of a text always agree and a
    caller that needs both (exact copies by the first, number tokens by the second) normalises
    once. The two translate tables agree on ASCII characters, so it does not matter that
    folding unicode spaces may have made an ASCII string of a non-ASCII one.
    """
    text = kept.translate(_ASCII_TABLE if kept.isascii() else _unicode_table())
    # str.split() splits on what the regex \s matches (both use Py_UNICODE_ISSPACE), so this
    # is _SPACE.sub(" ", text).strip(), only faster
    return " ".join(text.split())


def is_blank(text: str) -> bool:
    """Nothing visible: only spaces and invisible characters (a zero-width space alone too).
    Such rows are "empty" everywhere (kept as singletons); symbols alone are not."""
    return not text.strip() or (not text.isascii() and not normalize(text, strip_punctuation=False))


class NormalizedTexts(list[str]):
    """A read-only list of texts that carries their :func:`normalize` forms (``normalized``).

    The pipeline normalises every row once to collapse exact copies; handing the distinct texts
    on as this type lets character n-grams and number tokens reuse those forms instead of
    normalising each text twice more (~1 s per 100,000 texts). Any other sequence of texts
    works as well, only slower; :func:`normalize_all` is the one reader.
    """

    def __init__(self, texts: Sequence[str], normalized: Sequence[str],
                 kept: Sequence[str] | None = None) -> None:
        super().__init__(texts)
        if len(normalized) != len(self):
            raise ValueError(f"{len(normalized)} normalised forms for {len(self)} texts")
        if kept is not None and len(kept) != len(self):
            raise ValueError(f"{len(kept)} punctuation-kept forms for {len(self)} texts")
        self.normalized: list[str] = list(normalized)
        #: ``normalize(text, strip_punctuation=False)`` of each text, when the producer had
        #: it (number tokens read it: "3.5" and "3 5" differ there)
        self.kept: list[str] | None = None if kept is None else list(kept)

    def __add__(self, other: object) -> list[str]:  # type: ignore[override]
        if isinstance(other, NormalizedTexts):
            kept = (self.kept + other.kept
                    if self.kept is not None and other.kept is not None else None)
            return NormalizedTexts(list(self) + list(other), self.normalized + other.normalized,
                                   kept)
        return list(self) + list(other)  # type: ignore[call-overload]

    def __reduce__(self) -> tuple[type, tuple[list[str], list[str], list[str] | None]]:
        # list's own pickling appends item by item, which the read-only guard refuses
        return (NormalizedTexts, (list(self), self.normalized, self.kept))

    def _read_only(self, *args: object, **kwargs: object) -> None:
        raise TypeError("NormalizedTexts is read-only: copy it with list() to change it")

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only  # type: ignore[assignment]
    append = extend = insert = pop = remove = clear = sort = reverse = _read_only  # type: ignore[assignment]


def normalize_all(
    texts: Sequence[str], normalizer: Callable[[str], str] = normalize
) -> list[str]:
    """``normalizer`` of every row (reusing the forms a :class:`NormalizedTexts` carries for
    :func:`normalize`), rejecting non-strings with the offending row and value.

    Missing values (``None``, pandas ``NaN``) are a common input mistake; failing here with the
    row number beats a ``TypeError`` from deep inside ``unicodedata``.
    """
    if normalizer is normalize and isinstance(texts, NormalizedTexts):
        return texts.normalized
    out: list[str] = []
    for row, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(
                f"row {row}: expected a string, got {type(text).__name__} {text!r}; "
                "fill or drop missing texts before deduplicating"
            )
        out.append(normalizer(text))
    return out
