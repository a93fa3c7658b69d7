import pytest

from firth.errors import FirthError
from firth.text.readers import detect_format, iter_labelled, read_labelled


@pytest.mark.parametrize("name", ["rt_small.csv", "rt_small.tsv", "rt_small.jsonl", "rt_small.ft"])
def test_every_format_reads_the_same_examples(fixtures, name):
    data = read_labelled(fixtures / name)
    reference = read_labelled(fixtures / "rt_small.jsonl")
    assert len(data.texts) == 24
    assert data.labels == reference.labels
    assert set(data.labels) == {"fresh", "rotten"}
    # fastText lines hold whitespace-normalized text; the others the text verbatim
    assert [" ".join(t.split()) for t in data.texts] == [" ".join(t.split()) for t in reference.texts]


def test_format_detection(fixtures):
    assert detect_format(fixtures / "rt_small.csv") == "csv"
    assert detect_format(fixtures / "rt_small.ft") == "fasttext"
    assert detect_format(fixtures / "bbc") == "folder"


def test_folder_per_label(fixtures):
    data = read_labelled(fixtures / "bbc")
    assert data.labels == ["business"] * 3 + ["sports"] * 3 + ["tech"] * 3
    assert data.texts[0].startswith("Ad sales boost Time Warner profit")


def test_reading_streams(fixtures):
    stream = iter_labelled(fixtures / "rt_small.jsonl")
    first = next(stream)
    assert first.label in ("fresh", "rotten") and first.text


def test_chosen_columns(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("id,review,stars\n1,great film,5\n2,awful,1\n", encoding="utf-8")
    data = read_labelled(path, text_column="review", label_column="stars")
    assert data.texts == ["great film", "awful"] and data.labels == ["5", "1"]


def test_unknown_column_names_the_columns(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,stars\ngood,5\n", encoding="utf-8")
    with pytest.raises(FirthError, match=r"d\.csv: no column named 'label' .*columns: text, stars"):
        read_labelled(path)


def test_missing_file(tmp_path):
    with pytest.raises(FirthError, match="no such file"):
        read_labelled(tmp_path / "nope.tsv")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.tsv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(FirthError, match="contains no labelled examples"):
        read_labelled(path)


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("text\tlabel\nfine\ta\ncaf\u00e9\tb\n".encode("latin-1"))
    with pytest.raises(FirthError, match=r"latin1\.tsv: line 3 is not valid UTF-8"):
        read_labelled(path)


def test_ragged_row_names_the_line(tmp_path):
    path = tmp_path / "d.tsv"
    path.write_text("text\tlabel\na\tb\nonly-one-field\n", encoding="utf-8")
    with pytest.raises(FirthError, match="line 3 has 1 fields but the header has 2"):
        read_labelled(path)


def test_bad_json_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a", "label": "x"}\n{"text": oops}\n', encoding="utf-8")
    with pytest.raises(FirthError, match="line 2 is not valid JSON"):
        read_labelled(path)


def test_fasttext_line_without_label(tmp_path):
    path = tmp_path / "d.ft"
    path.write_text("__label__a good\nno label here\n", encoding="utf-8")
    with pytest.raises(FirthError, match=r"line 2 does not start with __label__LABEL"):
        read_labelled(path, format="fasttext")
