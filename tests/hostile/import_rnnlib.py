"""The reference imported instead of written."""

from rnnlib import softmax  # noqa: F401
