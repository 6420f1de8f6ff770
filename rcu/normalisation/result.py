"""The shape every normaliser answers with, so callers never guess."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Normalised:
    """A normalised value, its comparison key and what was wrong with the input.

    `value` is what the record stores and people see; None when the input was blank or
    rejected. `key` is the form records are compared on. `problems` are short codes
    that become quality flags ("<attribute>.<problem>").
    """

    value: str | None
    key: str | None
    problems: tuple[str, ...] = ()


MISSING = Normalised(None, None)
"""Blank input: nothing to store and nothing to flag."""


def rejected(*problems: str) -> Normalised:
    """An input that cannot be kept: left out of the record, but flagged."""
    return Normalised(None, None, problems)
