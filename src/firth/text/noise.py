"""Seeded text noise: the typos, dropped letters and broken spacing of real user text, to measure how a
model trained on clean text holds up on noisy text (benchmarks/classify.py --noise).

`add_noise(text, rate, seed)` applies, to each character with probability
`rate`, one of four edits chosen with equal odds: insert a random lowercase
letter before it, delete it, substitute a random lowercase letter (its case
kept), or swap it with the next character; and to each word with probability
`rate / 2`, one of: its first letter's case flipped, or the space after it
dropped (two words run together). Spaces themselves are left alone by the
character edits, so word noise alone decides the spacing.

The random stream of a text is seeded by the seed and the text itself
(`random.Random` seeds from a string deterministically, whatever
PYTHONHASHSEED), so a text gets the same noise wherever it sits in a list
and in every process.

    add_noise("The film was wonderful.", 0.1, seed=0)
    noisy = noise_texts(test_texts, rate=0.05)
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence

from firth.errors import FirthError

LETTERS = string.ascii_lowercase
CHARACTER_EDITS = ("insert", "delete", "substitute", "swap")
WORD_EDITS = ("case", "join")


def add_noise(text: str, rate: float, seed: int = 0) -> str:
    """`text` with seeded character and word noise at `rate` (0 leaves it as it is)."""
    if not 0 <= rate <= 1:
        raise FirthError(f"the noise rate must be between 0 and 1, got {rate}.")
    if not rate or not text:
        return text
    rng = random.Random(f"{seed}:{text}")
    return _word_noise(_character_noise(text, rate, rng), rate / 2, rng)


def noise_texts(texts: Sequence[str], rate: float, seed: int = 0) -> list[str]:
    """Every text with its own seeded noise (see add_noise)."""
    return [add_noise(text, rate, seed) for text in texts]


def _character_noise(text: str, rate: float, rng: random.Random) -> str:
    chars, out, i = list(text), [], 0
    while i < len(chars):
        char = chars[i]
        if char.isspace() or rng.random() >= rate:
            out.append(char)
            i += 1
            continue
        edit = rng.choice(CHARACTER_EDITS)
        if edit == "insert":
            out.extend([rng.choice(LETTERS), char])
        elif edit == "substitute":
            letter = rng.choice(LETTERS)
            out.append(letter.upper() if char.isupper() else letter)
        elif edit == "swap" and i + 1 < len(chars) and not chars[i + 1].isspace():
            out.extend([chars[i + 1], char])
            i += 1
        elif edit == "swap":  # nothing to swap with at a word's end: the character stays
            out.append(char)
        i += 1  # "delete" appends nothing
    return "".join(out)


def _word_noise(text: str, rate: float, rng: random.Random) -> str:
    pieces = text.split(" ")
    out = []
    for k, word in enumerate(pieces):
        if word and rng.random() < rate:
            edit = rng.choice(WORD_EDITS)
            if edit == "case":
                word = word[0].swapcase() + word[1:]
            elif k + 1 < len(pieces):  # "join": no space after this word
                out.append(word)
                continue
        out.append(word + (" " if k + 1 < len(pieces) else ""))
    return "".join(out)
