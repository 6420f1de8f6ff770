"""Yes/no statement columns: a source field that states yes or no about the person (pure).

A field mapping whose target is not a customer attribute but a statement target an app
declares (`rcu.hooks.statement_targets`, ``consent:newsletter:email``) reads one column
as yes or no, with an optional date column saying when the person said it. A blank cell
states nothing; a value that is neither yes nor no rejects the row, naming the column,
like any other mapping error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Compared after stripping and lower-casing ("Oui", " YES ", "y").
YES = frozenset({"oui", "o", "yes", "y", "1", "true", "vrai"})
NO = frozenset({"non", "n", "no", "0", "false", "faux"})
ACCEPTED = "oui/non, yes/no, 1/0, true/false, vrai/faux, o/n, y/n"
# A statement target: "<kind>:<name>[:<more>]" (kept apart from attribute names, which
# never hold a colon).
SEPARATOR = ":"


def is_statement_target(attribute: str) -> bool:
    return SEPARATOR in attribute


@dataclass(frozen=True, slots=True)
class Statement:
    """What one row states for one target: yes (True) or no, and when if it says so."""

    target: str
    granted: bool
    stated_at: datetime | None = None

    def to_json(self) -> list:
        return [self.target, self.granted, self.stated_at.isoformat() if self.stated_at else None]


def parse_yes_no(text: str) -> bool | None:
    """True for yes, False for no, None for a blank cell; ValueError for anything else."""
    value = text.strip().lower()
    if not value:
        return None
    if value in YES:
        return True
    if value in NO:
        return False
    raise ValueError(f"{text.strip()[:40]!r} is neither yes nor no (accepted: {ACCEPTED})")
