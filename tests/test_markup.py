from firth.text.markup import rest_to_prose, wiki_to_prose

# --- MediaWiki --------------------------------------------------------------

ARTICLE = """\
{{Short description|City in France}}
{{Infobox settlement
| name = Lutetia
| population = {{formatnum:2165423}}
| image = {{Photo montage|Eiffel.jpg|Louvre.jpg}}
}}
'''Lutetia''' ({{IPA-fr|lytesja}}; {{lang|la|Lutetia Parisiorum}}) was a ''Gallo-Roman'' town \
on the [[Seine|river Seine]], the ancestor of [[Paris]].<ref name="b">{{cite web|url=http://x.org|\
title=Hidden citation title}}</ref> It covered {{convert|50|ha|acre}} on the left bank.<ref name="b"/>
<!-- Editors: the secret comment text. -->
[[File:Lutetia map.jpg|thumb|upright|Map caption text]]

== History ==
The [[Parisii (Gaul)|Parisii]] settled the island in the 3rd&nbsp;century BC, \
according to [http://example.org/caesar Caesar's account].

{| class="wikitable"
! Year !! Tablecell population
|-
| 100 || 8000
|}
* A list item about Lutetia that is long enough to count.
# A numbered item, also long enough to count here.

[[Category:Gallo-Roman towns]]
[[de:Lutetia]]
"""


def test_wiki_prose_survives_with_link_texts():
    assert wiki_to_prose(ARTICLE) == [
        "Lutetia (Lutetia Parisiorum) was a Gallo-Roman town on the river Seine, "
        "the ancestor of Paris. It covered 50 ha on the left bank.",
        "The Parisii settled the island in the 3rd century BC, according to "
        "Caesar's account.",
    ]


def test_wiki_markup_contents_are_gone():
    text = " ".join(wiki_to_prose(ARTICLE))
    for gone in (
        "Infobox", "formatnum", "Eiffel", "IPA", "Hidden citation", "http",
        "secret comment", "Map caption", "thumb", "History", "Tablecell", "8000",
        "list item", "numbered item", "Category", "Gallo-Roman towns", "de:",
        "''", "[", "{", "|", "<", "&",
    ):
        assert gone not in text, gone


def test_wiki_short_and_junk_paragraphs_are_dropped():
    assert wiki_to_prose("Too short here.\n\n| leftover = table cell text here\n") == []
    assert wiki_to_prose("") == []


def test_wiki_unbalanced_quotes_do_not_hide_refs():
    text = "It was ''very'' odd'' indeed, they said.<ref>[[Some Book]]'' by X.</ref> Then it ended."
    assert wiki_to_prose(text) == ["It was very odd indeed, they said. Then it ended."]


# --- reStructuredText -------------------------------------------------------

DOCUMENT = """\
.. _tut-paths:

=====================
:mod:`os.path` basics
=====================

.. module:: os.path
   :synopsis: Operations on pathnames.

Use :func:`os.path.join` to build paths, and see :class:`~collections.OrderedDict`
for ``ordered`` mappings; read `Python <https://python.org>`_ and the tutorial_.

For example::

    >>> literal_block_is_gone()

.. code-block:: python

   code_block_is_gone = True

.. note::
   The note body is prose and should be kept whole.

.. seealso::
   The seealso body is dropped from the output.

.. function:: f(x)
              f(x, y)
   :noindex:

   Return *x* unchanged, **whatever** it is, see |version|.

   .. versionadded:: 3.2
      The versionadded body is dropped too.

>>> doctest_is_gone()
'doctest output is gone'

=====  ==========================
Table  Tablecell is not prose text
=====  ==========================

+--------------------------------+
| Grid cell is not prose at all  |
+--------------------------------+

.. A comment with enough words to be a paragraph.

Sections
--------

* A list item with enough words to keep.
* Another list item, kept on its own.

:param x: the value that is returned unchanged by it.
"""


def test_rest_prose_survives_with_inline_markup_reduced():
    assert rest_to_prose(DOCUMENT) == [
        "Use os.path.join to build paths, and see OrderedDict for ordered mappings; "
        "read Python and the tutorial.",
        "The note body is prose and should be kept whole.",
        "Return x unchanged, whatever it is, see version.",
        "A list item with enough words to keep.",
        "Another list item, kept on its own.",
        "the value that is returned unchanged by it.",
    ]


def test_rest_literal_colons():
    assert rest_to_prose("Here is an example of it::\n\n    code()\n") == [
        "Here is an example of it:"
    ]
    assert rest_to_prose("Here is an example of it ::\n\n    code()\n") == [
        "Here is an example of it"
    ]
    assert rest_to_prose("Words that come before it all.\n\n::\n\n    code()\n") == [
        "Words that come before it all."
    ]


def test_rest_dropped_blocks_end_at_dedent():
    text = (
        ".. index:: single: path\n"
        "   pair: index; entries are dropped\n"
        "This paragraph follows the index without a blank line.\n"
    )
    assert rest_to_prose(text) == ["This paragraph follows the index without a blank line."]


def test_rest_role_forms():
    text = (
        "See :ref:`the tutorial <tut-intro>`, :meth:`!str.format`, :py:func:`len`, "
        ":pep:`8`, `Docs`__ and *\\*args* here."
    )
    assert rest_to_prose(text) == [
        "See the tutorial, str.format, len, PEP 8, Docs and *args here."
    ]


def test_rest_real_looking_tutorial_text():
    text = """\
Defining Functions
==================

We can create a function that writes the Fibonacci series to an arbitrary
boundary::

   >>> def fib(n):    # write Fibonacci series up to n
   ...     a, b = 0, 1

The keyword :keyword:`def` introduces a function *definition*.  It must be
followed by the function name and the parenthesized list of formal parameters.
"""
    assert rest_to_prose(text) == [
        "We can create a function that writes the Fibonacci series to an arbitrary boundary:",
        "The keyword def introduces a function definition. It must be followed by the "
        "function name and the parenthesized list of formal parameters.",
    ]
