"""User-facing errors: one line each, saying what is wrong, where, and what is allowed.

The CLI catches only TinycError and prints `error: <message>`; anything else is a bug.
"""


class TinycError(Exception):
    """Base of every error a user can cause."""


class BadInput(TinycError):
    """A file, option or array that tinyc cannot use."""


class UnsupportedOp(TinycError):
    """A node, attribute or attribute value tinyc does not implement."""


class DoesNotFit(TinycError):
    """The model is larger than the board or the budget."""
