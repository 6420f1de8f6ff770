"""What a steward's decision can run into."""

from __future__ import annotations


class DecisionConflict(Exception):
    """The state changed under the steward (someone else decided, a lease is held, the
    customers moved): nothing was written, the message says what happened."""


class DecisionInvalid(ValueError):
    """The request itself is wrong (a field, a record, a choice): names what and why."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field
