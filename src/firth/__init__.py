"""firth: text representations without vocabulary tables.

"You shall know a word by the company it keeps." (J. R. Firth, 1957)
"""

__version__ = "0.1.0"
