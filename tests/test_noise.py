"""The seeded text noise of the robustness benchmark."""

import subprocess
import sys

import pytest

from firth.errors import FirthError
from firth.text.noise import add_noise, noise_texts

TEXT = "The film was a wonderful surprise, with a cast that never once lets the story down."


def test_noise_is_seeded_per_text_and_the_same_in_every_process():
    noisy = add_noise(TEXT, 0.1, seed=3)
    assert noisy != TEXT and noisy == add_noise(TEXT, 0.1, seed=3) != add_noise(TEXT, 0.1, seed=4)
    assert noise_texts(["Other text here.", TEXT], 0.1, seed=3)[1] == noisy  # its place in a list does not matter
    code = f"from firth.text.noise import add_noise; print(add_noise({TEXT!r}, 0.1, seed=3))"
    for hash_seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={"PYTHONHASHSEED": hash_seed, "PATH": ""}).stdout
        assert out.rstrip("\n") == noisy


def test_the_rate_sets_how_much_changes():
    texts = [TEXT] * 1 + [f"{TEXT} Sentence number {k} of many." for k in range(200)]

    def changed_share(rate: float) -> float:
        """The share of characters of the clean texts that an alignment-free count sees changed."""
        import difflib

        total = sum(len(t) for t in texts)
        same = sum(difflib.SequenceMatcher(None, t, n, autojunk=False).ratio() * (len(t) + len(n)) / 2
                   for t, n in zip(texts, noise_texts(texts, rate)))
        return 1 - same / total

    assert noise_texts(texts, 0.0) == texts
    low, high = changed_share(0.05), changed_share(0.1)
    assert 0.02 < low < 0.08 and 0.05 < high < 0.15 and high > low


def test_every_edit_happens_and_spaces_are_only_dropped():
    noisy = [n.rsplit(" ", 1)[0] for n in noise_texts([f"{TEXT} {k}" for k in range(300)], 0.2)]
    originals = set(TEXT.split())
    assert any(len(n) > len(TEXT) for n in noisy) and any(len(n) < len(TEXT) for n in noisy)
    assert all(n.count(" ") <= TEXT.count(" ") for n in noisy)  # words may run together, never split
    assert any(n.count(" ") < TEXT.count(" ") for n in noisy)
    assert any(w[0].islower() and w.capitalize() in originals for n in noisy for w in n.split())  # "the", not "The"


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_a_rate_outside_zero_to_one_is_refused(rate):
    with pytest.raises(FirthError, match=f"the noise rate must be between 0 and 1, got {rate}."):
        add_noise(TEXT, rate)
