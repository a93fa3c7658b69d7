"""Split text into paragraphs, sentences and words.

Rule-based and dependency-free, so that every model in firth sees the same
units whichever corpus they come from. The rules aim at edited prose in any
alphabetic script (Wikipedia, documentation, news), not at chat or code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

# --- Paragraphs -------------------------------------------------------------


def iter_paragraphs(lines: Iterable[str]) -> Iterator[str]:
    """Yield the paragraphs of a text given line by line (an open file, say).

    Paragraphs are separated by one or more blank (or whitespace-only) lines;
    inside one, line breaks and runs of whitespace become single spaces.
    Only the current paragraph is held in memory, so a corpus of any size can
    be streamed.
    """
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            yield _collapse_whitespace(current)
            current = []
    if current:
        yield _collapse_whitespace(current)


def split_paragraphs(text: str) -> list[str]:
    """Return the paragraphs of `text` (see `iter_paragraphs` for the rules)."""
    return list(iter_paragraphs(text.splitlines()))


def _collapse_whitespace(lines: list[str]) -> str:
    return " ".join(" ".join(lines).split())


# --- Sentences --------------------------------------------------------------

# Abbreviations after which a period never ends a sentence, even before a
# capital ("Mr. Smith", "Acme Inc. Ltd."). Lowercase, without dots. "etc." is
# deliberately absent: it ends sentences often, and before a lowercase word
# no period splits anyway.
ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "eg", "ie",
        "cf", "al", "approx", "dept", "gen", "gov", "capt", "col", "lt", "sgt",
        "rev", "hon", "mt", "ft",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
        "nov", "dec",
        "inc", "ltd", "corp", "co", "bros",
    }
)

# Abbreviations that only introduce a number ("No. 5", "pp. 12-14"); before
# a capital they are ordinary words ending a sentence ("Is it? No. The ...").
NUMBER_ABBREVIATIONS = frozenset({"no", "nos", "p", "pp", "vol", "fig", "ch", "art"})

_OPENERS = "\"'“‘„«([{"
_CLOSERS = "\"'”’“‘»)]}"

# A candidate sentence end: the word before, the terminal punctuation, any
# closing quotes or brackets, then (not consumed) whitespace, optional opening
# quotes or brackets, and the first character of the next sentence.
_SENTENCE_END = re.compile(
    rf"""
    (?<!\S)(?P<word>\S*?)
    (?P<stop>[.!?…]+)
    [{re.escape(_CLOSERS)}]*
    (?=\s+[{re.escape(_OPENERS)}]*(?P<next>\S))
    """,
    re.VERBOSE,
)

# A single letter ("J" in "J. R. Firth") or dotted letters ("U.S", "e.g").
_INITIALS = re.compile(r"(?:[^\W\d_]\.)*[^\W\d_]")


def split_sentences(text: str) -> list[str]:
    """Split `text` into sentences, each stripped of surrounding whitespace.

    A sentence ends at ".", "!", "?", "…" or a run of them ("?!", "..."),
    together with any closing quotes or brackets, when whitespace and a
    plausible sentence start follow: an uppercase or caseless letter of any
    script, or a digit, possibly behind an opening quote or bracket.

    A lone period does not end a sentence after a known abbreviation
    ("Mr. Smith", see `ABBREVIATIONS`), after "No."-like abbreviations before
    a digit, after a single-letter initial ("J. R. Firth"; the pronoun "I"
    excepted), or after a dotted acronym. The last rule keeps "U.S. Army"
    whole at the price of also keeping "in the U.S. The next ..." as one
    sentence, the lesser error for word statistics. Decimals ("3.14") never
    split because no whitespace follows their period.
    """
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if _ends_sentence(match):
            sentences.append(text[start : match.end()].strip())
            start = match.end()
    sentences.append(text[start:].strip())
    return [sentence for sentence in sentences if sentence]


def _ends_sentence(match: re.Match[str]) -> bool:
    next_char = match["next"]
    if not _starts_sentence(next_char):
        return False
    if match["stop"] != ".":
        return True
    return not _is_abbreviation(match["word"].lstrip(_OPENERS), next_char)


def _starts_sentence(char: str) -> bool:
    return char.isdigit() or (char.isalpha() and not char.islower())


def _is_abbreviation(word: str, next_char: str) -> bool:
    key = word.lower().replace(".", "")
    if key in ABBREVIATIONS:
        return True
    if key in NUMBER_ABBREVIATIONS:
        return next_char.isdigit()
    return word != "I" and _INITIALS.fullmatch(word) is not None


# --- Words ------------------------------------------------------------------


def _combining_marks() -> str:
    """Character-class ranges of the combining marks in planes 0 and 1.

    Python's `\\w` leaves out marks, which would cut words of scripts like
    Devanagari ("हिन्दी") or vocalised Arabic into pieces.
    """
    ranges: list[list[int]] = []
    for code in range(0x20000):
        if not unicodedata.category(chr(code)).startswith("M"):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(f"{chr(first)}-{chr(last)}" for first, last in ranges)


# CJK ideographs are tokens of their own, as written Chinese and Japanese put
# no spaces between words (the same fallback as BERT's tokenizer).
_IDEOGRAPHS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_OTHER = r"| [^\w\s]"  # any other character but a space: a token of its own


def _token_pattern(word_char: str, ideograph: str | None, punctuation: bool = True) -> re.Pattern[str]:
    """The token regex, given what a word character is and, if any, what an ideograph is; without
    `punctuation`, the characters that are no part of a word are skipped rather than made tokens."""
    return re.compile(
        rf"""
          (?:[^\W\d_]\.){{2,}}(?!\w)         # dotted acronym: U.S., e.g.
        | {word_char}+                       # word or number, possibly joined by
          (?:(?:['-]|(?<=\d)[.,](?=\d))      #   an apostrophe, a hyphen, or a
          {word_char}+)*                     #   decimal/thousands separator
        {f"| {ideograph}" if ideograph else ""}  # one CJK ideograph
        {_OTHER if punctuation else ""}
        """,
        re.VERBOSE,
    )


_MARKS = _combining_marks()
_WORD_CHAR = rf"(?:[^\W{_IDEOGRAPHS}]|[{_MARKS}])"
_TOKEN = _token_pattern(_WORD_CHAR, f"[{_IDEOGRAPHS}]")
_WORD = _token_pattern(_WORD_CHAR, f"[{_IDEOGRAPHS}]", punctuation=False)
# The same tokens for text with no combining mark or ideograph, twice as fast.
_TOKEN_SIMPLE = _token_pattern(r"\w", None)
_WORD_SIMPLE = _token_pattern(r"\w", None, punctuation=False)
_MARK_OR_IDEOGRAPH = re.compile(f"[{_MARKS}{_IDEOGRAPHS}]")


def _is_special(text: str) -> bool:
    """Whether `text` holds a combining mark or an ideograph (which the simple patterns do not know)."""
    return not text.isascii() and _MARK_OR_IDEOGRAPH.search(text) is not None


def _normalized(text: str, lowercase: bool) -> str:
    """NFC, with ’ read as ', lowercased or not: the text the token patterns read."""
    text = unicodedata.normalize("NFC", text).replace("’", "'")
    return text.lower() if lowercase else text


def tokenize(text: str, lowercase: bool = False) -> list[str]:
    """Split `text` into word and punctuation tokens, in any script.

    Words keep internal apostrophes ("don't", with ’ read as ') and hyphens
    ("state-of-the-art"); numbers keep decimal and thousands separators
    ("3.14", "1,000"); dotted acronyms stay whole ("U.S."); every other
    non-space character is a token of its own ("$", ","). Text is NFC
    normalised first so that equal-looking words compare equal.
    """
    text = _normalized(text, lowercase)
    return (_TOKEN if _is_special(text) else _TOKEN_SIMPLE).findall(text)


def words(text: str, lowercase: bool = True) -> list[str]:
    """Return the tokens of `text` that contain a letter or digit.

    This drops punctuation and symbols: the units word-level models count.
    """
    text = _normalized(text, lowercase)
    found = (_WORD if _is_special(text) else _WORD_SIMPLE).findall(text)
    if text.isascii() and "_" not in text:  # then every word character is a letter or digit
        return found
    return [token for token in found if token.isalnum() or any(char.isalnum() for char in token)]


def usable_sentences(text: str, min_words: int = 3) -> list[str]:
    """The sentences of a paragraph with at least `min_words` words (the units sentence encoders learn from)."""
    return [s for s in split_sentences(text) if len(words(s)) >= min_words]
