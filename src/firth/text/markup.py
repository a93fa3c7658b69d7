"""Reduce markup (MediaWiki, reStructuredText) to prose paragraphs.

Models learn from running text; markup, tables, code and navigation would
teach them the wrong company for words. Both reducers return only
paragraphs that read as prose, of at least `MIN_WORDS` words.
"""

from __future__ import annotations

import re

import mwparserfromhell
from mwparserfromhell.nodes import (
    ExternalLink,
    HTMLEntity,
    Node,
    Tag,
    Template,
    Text,
    Wikilink,
)
from mwparserfromhell.wikicode import Wikicode

from firth.text.segment import iter_paragraphs, words

MIN_WORDS = 5

# --- MediaWiki --------------------------------------------------------------

# Tags whose content is not prose: footnotes, tables, formulas, code, media.
# Other tags (<b>, <span>, <sup>, <blockquote>, <nowiki>, ...) keep their text.
_DROPPED_TAGS = frozenset(
    {
        "ref", "references", "table", "math", "chem", "ce", "gallery",
        "timeline", "pre", "syntaxhighlight", "source", "score", "graph",
        "hiero", "imagemap", "mapframe", "templatestyles", "includeonly",
    }
)

# Link namespaces of media and categories (English, and the commonest other
# languages' names); such links are not part of the running text.
_MEDIA_NAMESPACES = frozenset(
    {
        "file", "image", "media", "category",
        "datei", "bild", "kategorie", "fichier", "catégorie", "archivo",
        "imagen", "categoría", "файл", "изображение", "картинка", "категория",
    }
)

# Inline templates that show words of the sentence: "{{lang|grc|λύκος}}",
# "{{nowrap|5 May}}" show their last positional parameter. Every other
# template (infobox, citation, navigation box, ...) is dropped.
_TEXT_TEMPLATES = frozenset(
    {"lang", "transl", "nowrap", "nobr", "small", "smaller", "script", "sc", "smallcaps"}
)

# "{{convert|5|to|10|km|mi}}" shows "5 to 10 km (3.1 to 6.2 mi)"; the words
# that join the two values of a range:
_RANGE_WORDS = frozenset({"-", "–", "to", "and", "or", "by", "x", "×"})

# Interlanguage links ("[[de:Paris]]") are prefixed by a language code.
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z]+)*")

# Marks a rendered list item (a "*", "#", ";" or ":" line) for removal.
_LIST_ITEM = "\x00"

_LEFTOVER_QUOTES = re.compile(r"'{2,}")  # of unbalanced bold/italic
_MAGIC_WORD = re.compile(r"__[A-Z]+__")  # __NOTOC__ and the like
_EMPTY_PARENTHESES = re.compile(r"\(\s*[,;:]*\s*\)")
_LEADING_SEPARATOR = re.compile(r"\(\s*[,;:]?\s*")
_TRAILING_SEPARATOR = re.compile(r"\s*[,;:]?\s*\)")
_JUNK_STARTS = ("|", "!", "{", "}")
_JUNK_PARTS = ("{{", "}}", "[[", "]]")


def wiki_to_prose(wikitext: str) -> list[str]:
    """Return the prose paragraphs of a MediaWiki article.

    Templates (infoboxes, citations), footnotes, tables, comments, headings,
    list items, media, category and interlanguage links are removed; links
    and formatting keep their visible text and HTML entities are decoded.
    Paragraphs of fewer than `MIN_WORDS` words, or with leftover markup, are
    dropped as not prose.
    """
    # Bold and italic quotes are left as text (and removed from it): parsing
    # them as tags makes the parser give up on unbalanced ones, and then on
    # the <ref> tags around them.
    text = _render(mwparserfromhell.parse(wikitext, skip_style_tags=True))
    lines = ("" if line.startswith(_LIST_ITEM) else line for line in text.splitlines())
    paragraphs = (_tidy_parentheses(p) for p in iter_paragraphs(lines))
    return [p for p in paragraphs if _is_wiki_prose(p)]


def _render(code: Wikicode) -> str:
    return "".join(_render_node(node) for node in code.nodes)


def _render_node(node: Node) -> str:
    """The text a reader of the rendered page would see of `node`, as prose.

    Headings, comments and template arguments show nothing. Block elements
    (headings, tables, media) stand on lines of their own, so removing them
    leaves a blank line that separates the paragraphs around them.
    """
    if isinstance(node, Text):
        return _MAGIC_WORD.sub("", _LEFTOVER_QUOTES.sub("", node.value))
    if isinstance(node, HTMLEntity):
        return node.normalize()
    if isinstance(node, Wikilink):
        return _render_wikilink(node)
    if isinstance(node, ExternalLink):
        return _render(node.title) if node.title else ""
    if isinstance(node, Tag):
        return _render_tag(node)
    if isinstance(node, Template):
        return _render_template(node)
    return ""


def _render_wikilink(link: Wikilink) -> str:
    title = _render(link.title).strip()
    if title.startswith(":"):  # "[[:Category:X]]" shows as a plain link
        title = title[1:]
    else:
        namespace, colon, _ = title.partition(":")
        if colon and namespace.strip().lower() in _MEDIA_NAMESPACES:
            return ""
        if colon and _LANGUAGE_CODE.fullmatch(namespace) and not link.text:
            return ""
    if link.text and str(link.text).strip():
        return _render(link.text)
    return title


def _render_template(template: Template) -> str:
    name = str(template.name).strip().replace("_", " ").lower()
    values = [_render(p.value).strip() for p in template.params if not p.showkey]
    if name in _TEXT_TEMPLATES and values:
        return values[-1]
    if name in ("convert", "cvt") and values:
        return _render_convert(values)
    return ""


def _render_convert(values: list[str]) -> str:
    """The quantity in its original unit: "5 km", "5 to 10 km"."""
    shown, rest = values[:1], values[1:]
    while len(rest) >= 2 and rest[0] in _RANGE_WORDS:
        shown, rest = shown + rest[:2], rest[2:]
    return " ".join(shown + rest[:1])


def _render_tag(tag: Tag) -> str:
    name = str(tag.tag).strip().lower()
    if tag.wiki_markup and name in ("li", "dt", "dd"):
        return _LIST_ITEM
    if name in _DROPPED_TAGS:
        return ""
    if name == "br":
        return " "
    return _render(tag.contents) if tag.contents else ""


def _tidy_parentheses(paragraph: str) -> str:
    """Remove what removed templates leave in parentheses: "( )", "(; born"."""
    paragraph = _EMPTY_PARENTHESES.sub("", paragraph)
    paragraph = _LEADING_SEPARATOR.sub("(", paragraph)
    paragraph = _TRAILING_SEPARATOR.sub(")", paragraph)
    return " ".join(paragraph.split())


def _is_wiki_prose(paragraph: str) -> bool:
    if paragraph.startswith(_JUNK_STARTS) or any(p in paragraph for p in _JUNK_PARTS):
        return False
    return len(words(paragraph)) >= MIN_WORDS


# --- reStructuredText -------------------------------------------------------

# Directives whose indented body is prose. Admonitions may also start their
# text on the directive line ("`.. note:: Text`"); object descriptions
# ("`.. function:: f(x)`") lose their signature and option lines.
_ADMONITIONS = frozenset(
    {
        "note", "warning", "important", "tip", "caution", "attention",
        "danger", "hint", "impl-detail",
    }
)
_DESCRIPTIONS = frozenset(
    {
        "function", "method", "class", "attribute", "data", "exception",
        "module", "decorator", "decoratormethod", "classmethod",
        "staticmethod", "abstractmethod", "coroutinefunction",
        "coroutinemethod", "opcode", "cmdoption", "option", "envvar",
        "describe", "object", "pdbcommand", "type", "member", "var", "macro",
    }
)

_EXPLICIT_MARKUP = re.compile(r"\.\.(?:\s|$)")
_DIRECTIVE = re.compile(r"\.\.\s+(?:[\w-]+:)?(?P<name>[\w-]+)::(?P<argument>.*)")
_ADORNMENT = re.compile(r"([!-/:-@\[-`{-~])\1{2,}")  # "=====", "-----", "~~~~~"
_SIMPLE_TABLE_BORDER = re.compile(r"=+(?:\s+=+)+")
_GRID_TABLE_BORDER = re.compile(r"\+(?:[-=]+\+)+")  # "+-----+----+"
_ITEM = re.compile(
    r"""(?:[-*+•]|\#\.|\d+\.|\(?\d+\))(?:\s+|$)   # list item marker
      | :[^:`\s][^:`]*:(?:\s+|$)                   # field name
    """,
    re.VERBOSE,
)

_INLINE = re.compile(
    r"""
      ``(?P<literal>.+?)``                         # ``code``
    | :(?:[\w.+-]+:)?(?P<role_name>[\w.+-]+):`(?P<role>.+?)`  # :role:`target`
    | `(?P<link>[^`]+?)\s*<[^`<>]*>`__?            # `text <url>`_
    | `(?P<reference>[^`]+)`(?:__?)?               # `text`_ and `text`
    | \*\*(?P<strong>\S(?:.*?\S)?)\*\*             # **strong**
    | (?<![\w*\\])\*(?P<emphasis>(?=[^\s*])(?:\\.|[^*\\])+?)(?<!\s)\*(?![\w*])
    | \|(?P<substitution>[^|\s](?:[^|]*[^|\s])?)\|(?:__?)?
    | (?<!\w)(?P<word>[^\W_](?:\w*[^\W_])?)__?(?!\w)  # reference_
    | \[(?:\#[\w-]*|\*|\d+)\]_                     # footnote reference
    | \\(?P<escaped>.)                             # backslash escape
    """,
    re.VERBOSE,
)
_ROLE_TITLE = re.compile(r"(?P<title>.+?)\s*<[^<>]*>", re.DOTALL)
_BACKSLASH_ESCAPE = re.compile(r"\\(.)")


def rest_to_prose(rst: str) -> list[str]:
    """Return the prose paragraphs of a reStructuredText (Sphinx) document.

    Lines are read one at a time by a small state machine:

    * Skipping a block: after a dropped directive or a comment (a line
      starting with ".. " that is not a kept directive: also ".. _label:",
      ".. |name| ...", ".. [1] ..."), and after a paragraph ending in "::",
      blank lines and lines indented deeper than the block's first line are
      dropped.
    * Skipping to a blank line: doctests (">>>" and their output), grid
      tables ("+---"), and the signature continuation and option lines of an
      object description.
    * Skipping a simple table: from a "===  ===" border up to a border that is
      followed by a blank line.
    * Otherwise a blank line ends the current paragraph. A line followed by
      an underline of one repeated punctuation character ("====", "----",
      "~~~~") is a section title, dropped with its underline and any
      overline; a lone such line (overline, transition) is dropped. A list
      item ("* ", "- ", "#. ", "1. ") or field (":param x: ") starts a
      paragraph of its own, without its marker; its continuation lines are
      the ones indented deeper than the marker. A line of ordinary text
      continues the paragraph if it is indented as deep as its first line;
      otherwise it starts a new paragraph (a definition list's term and
      definition become two paragraphs).

    Kept directives: admonitions (note, warning, important, tip, caution,
    attention, danger, hint, impl-detail) keep their text and body;
    Python-domain and other object descriptions (function, class, method,
    data, ...) keep their body but not their signature. All other directives
    (code-block, seealso, versionadded, toctree, index, image, tables, ...)
    are dropped with their body.

    A paragraph's final "::" becomes ":" ("Example::"), or disappears after
    a space or on its own. Inline markup is reduced to its text: roles to
    their title or target (":class:`~a.B`" to "B"), literals, emphasis,
    hyperlinks and substitutions to their text; footnote references are
    removed. Paragraphs are whitespace-collapsed, and those of fewer than
    `MIN_WORDS` words dropped.
    """
    reader = _RestReader()
    lines = rst.splitlines()
    for line, next_line in zip(lines, [*lines[1:], ""]):
        reader.read(line, next_line)
    reader.end_paragraph()
    paragraphs = (" ".join(_plain_inline(p).split()) for p in reader.paragraphs)
    return [p for p in paragraphs if len(words(p)) >= MIN_WORDS]


class _RestReader:
    """The state machine of `rest_to_prose`; collects raw paragraphs."""

    def __init__(self) -> None:
        self.paragraphs: list[str] = []
        self.lines: list[str] = []  # of the current paragraph, stripped
        self.indent = 0  # of the current paragraph's first line
        self.is_item = False  # a list item, field or admonition text: continued
        # by any deeper line, where other paragraphs need their own indent
        self.skip_deeper_than: int | None = None
        self.skip_to_blank = False
        self.in_simple_table = False

    def read(self, line: str, next_line: str) -> None:
        """Take one line; `next_line` is needed to recognise titles and tables."""
        text = line.strip()
        indent = len(line) - len(line.lstrip())
        if self.skip_deeper_than is not None:
            if not text or indent > self.skip_deeper_than:
                return
            self.skip_deeper_than = None
        if self.skip_to_blank:
            if text:
                return
            self.skip_to_blank = False
        if self.in_simple_table:
            if _SIMPLE_TABLE_BORDER.fullmatch(text) and not next_line.strip():
                self.in_simple_table = False
            return
        if not text:
            self.end_paragraph()
        elif _EXPLICIT_MARKUP.match(text):
            self.end_paragraph()
            self.read_explicit_markup(text, indent)
        elif text.startswith(">>>") or _GRID_TABLE_BORDER.fullmatch(text):
            self.end_paragraph()
            self.skip_to_blank = True
        elif _SIMPLE_TABLE_BORDER.fullmatch(text):
            self.end_paragraph()
            self.in_simple_table = True
        elif _ADORNMENT.fullmatch(text):
            self.end_paragraph()
        elif not self.lines and _ADORNMENT.fullmatch(next_line.strip()):
            pass  # a section title
        else:
            self.read_text(text, indent)

    def read_explicit_markup(self, text: str, indent: int) -> None:
        directive = _DIRECTIVE.match(text)
        name = directive["name"].lower() if directive else ""
        if name in _ADMONITIONS:
            if directive["argument"].strip():
                self.start_paragraph(directive["argument"].strip(), indent, is_item=True)
        elif name in _DESCRIPTIONS:
            self.skip_to_blank = True
        else:
            self.skip_deeper_than = indent

    def read_text(self, text: str, indent: int) -> None:
        item = _ITEM.match(text)
        if item and (not self.lines or self.is_item):
            self.end_paragraph()
            self.start_paragraph(text[item.end() :], indent, is_item=True)
        elif self.lines and self.continues_paragraph(indent):
            self.lines.append(text)
        else:
            self.end_paragraph()
            self.start_paragraph(text, indent, is_item=False)

    def continues_paragraph(self, indent: int) -> bool:
        return indent > self.indent if self.is_item else indent == self.indent

    def start_paragraph(self, text: str, indent: int, is_item: bool) -> None:
        self.lines = [text]
        self.indent = indent
        self.is_item = is_item

    def end_paragraph(self) -> None:
        """Store the current paragraph; one ending in "::" drops the block after it."""
        text = " ".join(self.lines)
        self.lines = []
        if text.endswith("::"):
            self.skip_deeper_than = self.indent
            text = text[:-2].rstrip() if text == "::" or text.endswith(" ::") else text[:-1]
        if text:
            self.paragraphs.append(text)


def _plain_inline(text: str) -> str:
    """`text` with its inline markup reduced to the words a reader sees."""
    return _INLINE.sub(_inline_text, text)


def _inline_text(match: re.Match[str]) -> str:
    kind = match.lastgroup
    if kind == "role":
        return _role_text(match["role_name"], match["role"])
    if kind in ("strong", "emphasis"):
        return _plain_inline(match[kind])  # may hold escapes: *\*args*
    if kind == "escaped":
        return "" if match["escaped"] == " " else match["escaped"]
    return match[kind] if kind else ""  # footnote references have no text


def _role_text(name: str, content: str) -> str:
    """What Sphinx shows of a role: "Title <target>" → Title, "~a.b.c" → c.

    A leading "!" (no link) or "." (search nearby first) is not shown.
    """
    content = _BACKSLASH_ESCAPE.sub(r"\1", content)
    titled = _ROLE_TITLE.fullmatch(content)
    if titled:
        return titled["title"]
    if name in ("pep", "rfc"):
        return f"{name.upper()} {content}"
    target = content.removeprefix("!").lstrip(".")
    if target.startswith("~"):
        return target[1:].rsplit(".", 1)[-1]
    return target
