import io
import unicodedata

import pytest

from firth.text.segment import (
    ABBREVIATIONS,
    iter_paragraphs,
    split_paragraphs,
    split_sentences,
    tokenize,
    words,
)

# --- Paragraphs -------------------------------------------------------------

TEXT = "First line\nof one.\n\n  \n\nSecond   paragraph\t here.\n\n\n"


def test_paragraphs_are_separated_by_blank_lines_and_collapsed():
    assert split_paragraphs(TEXT) == ["First line of one.", "Second paragraph here."]


def test_paragraphs_handle_crlf_and_whitespace_only_lines():
    text = "One\r\ntwo\r\n \t \r\nThree\r\n"
    assert split_paragraphs(text) == ["One two", "Three"]


def test_paragraphs_of_empty_or_blank_text():
    assert split_paragraphs("") == []
    assert split_paragraphs("\n \n\t\n") == []


def test_iter_paragraphs_streams_a_file_like_split_paragraphs():
    stream = iter_paragraphs(io.StringIO(TEXT))
    assert next(stream) == "First line of one."  # before the rest is read
    assert [next(stream), *stream] == split_paragraphs(TEXT)[1:]


def test_iter_paragraphs_over_lines_without_newlines():
    assert list(iter_paragraphs(["a", "b", "", "c"])) == ["a b", "c"]


# --- Sentences --------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("It rained. We stayed in!", ["It rained.", "We stayed in!"]),
        ("Really?! Yes.", ["Really?!", "Yes."]),
        ("Wait... Then it came.", ["Wait...", "Then it came."]),
        ("Wait… Then it came.", ["Wait…", "Then it came."]),
        ("He said \"Stop.\" Then he left.", ['He said "Stop."', "Then he left."]),
        ("(He left.) She stayed.", ["(He left.)", "She stayed."]),
        ("She asked. \"Why?\"", ["She asked.", '"Why?"']),
        ("It cost 5. 12 people paid.", ["It cost 5.", "12 people paid."]),
        ("Это начало. Это конец.", ["Это начало.", "Это конец."]),
        ("Ça va. Élodie dort.", ["Ça va.", "Élodie dort."]),
        ("Er kam um 3.5 Uhr. Dann ging er.", ["Er kam um 3.5 Uhr.", "Dann ging er."]),
        ("Τέλος. Ωραία.", ["Τέλος.", "Ωραία."]),
        ("So did I. Then we left.", ["So did I.", "Then we left."]),
        ("Is it? No. The answer is no.", ["Is it?", "No.", "The answer is no."]),
        ("We sold pears etc. Then we left.", ["We sold pears etc.", "Then we left."]),
    ],
)
def test_sentences_split(text, expected):
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Mr. Smith met Dr. Jones and Mrs. Brown at St. Paul's.",
        "The theory is due to J. R. Firth of London.",
        "Pi is 3.14 and the deal was worth $1.13bn last year.",
        "Fruit, e.g. Apples and pears, i.e. Food for all.",
        "Acme Inc. Announced it, cf. The report of Jan. Twelfth.",
        "See No. 5 for the details of the case.",
        "Apples, pears, etc. are sold here.",
        "He paused... and then went on.",
        "He moved to the U.S. Army base.",
        "Why? because we said so.",
    ],
)
def test_sentences_not_split(text):
    assert split_sentences(text) == [text]


def test_dotted_acronym_before_a_capital_keeps_the_sentence_whole():
    # The documented choice: "U.S. Army" matters more than this case.
    assert split_sentences("He lives in the U.S. The next day he left.") == [
        "He lives in the U.S. The next day he left."
    ]


def test_sentences_without_terminal_punctuation_empty_and_whitespace():
    assert split_sentences("  no punctuation at all  ") == ["no punctuation at all"]
    assert split_sentences("") == []
    assert split_sentences(" \n ") == []


def test_sentences_across_line_breaks_are_stripped():
    assert split_sentences(" One.\nTwo.\n") == ["One.", "Two."]


def test_abbreviations_are_lowercase_without_dots():
    assert {"mr", "dr", "eg", "ie", "inc", "jan"} <= ABBREVIATIONS
    assert all(a == a.lower() and "." not in a for a in ABBREVIATIONS)


# --- Words ------------------------------------------------------------------


def test_tokenize_contractions_hyphens_numbers_and_acronyms():
    text = "Don't e-mail the state-of-the-art U.S. team: 3.14, 1,000 and l’homme."
    assert tokenize(text) == [
        "Don't", "e-mail", "the", "state-of-the-art", "U.S.", "team", ":",
        "3.14", ",", "1,000", "and", "l'homme", ".",
    ]


def test_tokenize_currency_and_quotes_are_separate_tokens():
    assert tokenize('It cost $5 or £3, "cheap".') == [
        "It", "cost", "$", "5", "or", "£", "3", ",", '"', "cheap", '"', ".",
    ]


def test_tokenize_other_scripts():
    assert tokenize("Привет, мир! Ωμέγα.") == ["Привет", ",", "мир", "!", "Ωμέγα", "."]
    assert tokenize("東京は晴れ") == ["東", "京", "は", "晴", "れ"]  # ideographs one by one
    assert tokenize("हिन्दी भाषा") == ["हिन्दी", "भाषा"]  # combining vowel signs stay


def test_tokenize_normalizes_to_nfc():
    decomposed = unicodedata.normalize("NFD", "café")
    assert decomposed != "café"
    assert tokenize(decomposed) == tokenize("café") == ["café"]


def test_tokenize_lowercase_and_empty():
    assert tokenize("The CAT", lowercase=True) == ["the", "cat"]
    assert tokenize("") == []


def test_fast_token_pattern_agrees_with_the_full_one_where_it_is_used(fixtures):
    from firth.text.segment import _TOKEN, _TOKEN_SIMPLE, _WORD, _WORD_SIMPLE, _is_special

    bbc = [path.read_text(encoding="utf-8") for path in sorted((fixtures / "bbc").rglob("*.txt"))]
    texts = [*bbc, (fixtures / "bbc_article.txt").read_text(encoding="utf-8"), "Crème brûlée costs £3.50 — naïve_word __ x\x1cy 1,000.5"]
    for text in texts:
        assert not _is_special(text)
        assert _TOKEN_SIMPLE.findall(text) == _TOKEN.findall(text)
        assert _WORD_SIMPLE.findall(text) == _WORD.findall(text)
    assert _is_special("हिन्दी") and _is_special("東京")


def test_words_are_the_tokens_holding_a_letter_or_digit():
    texts = ["snake_case __ _x_ a_b", "U.S. e.g. 3.14 don't state-of-the-art $5", "é\u0301_ \u0301\u0301 ‿ x",
             "東京は晴れ, hi", "हिन्दी भाषा!", "Crème brûlée £3.50 — naïve_word", "... !? $"]
    for text in texts:
        for lowercase in (False, True):
            expected = [t for t in tokenize(text, lowercase) if any(char.isalnum() for char in t)]
            assert words(text, lowercase) == expected


def test_words_drop_punctuation_and_lowercase_by_default():
    assert words('He said: "Don\'t!" -- 42 times, in the U.S.') == [
        "he", "said", "don't", "42", "times", "in", "the", "u.s.",
    ]
    assert words("Paris", lowercase=False) == ["Paris"]
    assert words("... !? $") == []


def test_real_text_round_trip():
    text = (
        "The term was coined by J. R. Firth in 1957. He wrote: "
        "\"You shall know a word by the company it keeps!\" Linguists "
        "(e.g. Harris) had said similar things before."
    )
    sentences = split_sentences(text)
    assert len(sentences) == 3
    assert sentences[1].endswith('keeps!"')
    assert words(sentences[0]) == [
        "the", "term", "was", "coined", "by", "j", "r", "firth", "in", "1957",
    ]
