import pytest

from firth.errors import FirthError
from firth.text.corpus import iter_corpus, iter_wiki_dump


def test_plain_paragraph_file(fixtures):
    paragraphs = list(iter_corpus(fixtures / "bbc_article.txt"))
    assert paragraphs[0].text == "Ad sales boost Time Warner profit"
    assert paragraphs[1].text.startswith("Quarterly profits at US media giant TimeWarner jumped 76%")
    assert all("\n" not in p.text for p in paragraphs)
    assert {p.doc for p in paragraphs} == {"bbc_article.txt"}


def test_wiki_dump_skips_redirects_and_keeps_prose(fixtures):
    articles = list(iter_wiki_dump(fixtures / "wiki_small.xml.bz2"))
    titles = [a.title for a in articles]
    assert "AccessibleComputing" not in titles  # a redirect
    assert titles == ["Algorithms (journal)", "Affirming the consequent", "Actrius"]
    actrius = " ".join(articles[2].paragraphs)
    assert "is a 1997 Catalan language Spanish drama film" in actrius
    for junk in ("{{", "}}", "[[", "cite news", "Infobox", "<ref", "accessdate"):
        assert junk not in actrius


def test_wiki_paragraphs_stream_with_titles(fixtures):
    paragraphs = list(iter_corpus(fixtures / "wiki_small.xml.bz2"))
    assert paragraphs and paragraphs[0].doc == "Algorithms (journal)"


def test_broken_dump_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text("<mediawiki><page><title>x</title>", encoding="utf-8")
    with pytest.raises(FirthError, match="not a readable MediaWiki XML dump"):
        list(iter_wiki_dump(path))
