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


LABEL_TEXT = ["fresh\tA warm, funny film.", "rotten\tDull and far too long.", "fresh\tThe cast shines.",
              "rotten\tA mess from start to end."]


@pytest.mark.parametrize("name", ["train.tsv", "train.txt"])
def test_a_headerless_label_tab_text_file_is_detected(tmp_path, name):
    path = tmp_path / name
    path.write_text("\n".join(LABEL_TEXT) + "\n", encoding="utf-8")
    data = read_labelled(path)
    assert data.labels == ["fresh", "rotten", "fresh", "rotten"] and data.texts[0] == "A warm, funny film."
    assert read_labelled(path, header=False) == data
    flipped = tmp_path / "flipped.tsv"  # text first: the short, repeating column is still found
    flipped.write_text("\n".join("\t".join(line.split("\t")[::-1]) for line in LABEL_TEXT) + "\n", encoding="utf-8")
    assert read_labelled(flipped) == data


def test_headerless_columns_by_number(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("1,great film,5\n2,awful,1\n3,fine,5\n", encoding="utf-8")
    data = read_labelled(path, text_column=1, label_column=2)
    assert data.texts == ["great film", "awful", "fine"] and data.labels == ["5", "1", "5"]
    assert read_labelled(path, text_column="1", label_column="2", header=False) == data  # as the CLI passes them
    with pytest.raises(FirthError, match=r"d\.csv: line 2 has 2 fields; the label and text are in columns 3 and 1"):
        path.write_text("1,great film,5,x\n2,awful\n", encoding="utf-8")
        read_labelled(path, text_column=1, label_column=3)


@pytest.mark.parametrize("content, message", [
    ("id\treview\tstars\n1\tgreat film\t5\n2\tawful\t1\n",  # a header with other names, three columns
     "the first line names no 'label' and 'text' columns, and the rows have 3 fields, not two"),
    ("one text\nanother\n", "the rows have 1 field, not two"),
    ("category\treview\nfresh\tA warm film.\nrotten\tDull.\nfresh\tFine.\n",  # a header with other names
     "neither of the two columns looks like the label"),
    ("a b c\td e f\ng h i\tj k l\n", "neither of the two columns looks like the label"),
])
def test_an_ambiguous_table_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "d.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FirthError, match=message) as error:
        read_labelled(path)
    assert "pass --no-header" in str(error.value) and str(error.value).count(".") >= 1


def test_no_header_takes_column_numbers_only(tmp_path):
    path = tmp_path / "d.tsv"
    path.write_text("\n".join(LABEL_TEXT) + "\n", encoding="utf-8")
    with pytest.raises(FirthError, match="without a header, columns are numbers"):
        read_labelled(path, text_column="review", header=False)
