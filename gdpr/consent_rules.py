"""The one consent rule (pure): which statement is in force for a purpose and channel.

Per purpose and channel, over every statement a customer holds (its records' and those
stated on it or on the customers merged into it): a withdrawal wins unless a grant is
later than every withdrawal. With W the latest withdrawal and G the latest grant:

    granted  ⇔  G exists and (no W, or G > W)        (a tie goes to the withdrawal)

On one customer this is "the latest statement wins"; across a merge it means the union
of both sides' statements decides, so a merge never turns a "no" into a "yes" unless the
person said "yes" after every "no". Statements are never dropped: every proof is kept,
and an unmerge, splitting the statements back, restores each side's consents.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class StatementView(Generic[K]):
    """A statement as the rule sees it: its key (purpose, channel), yes or no, when, id."""

    key: K
    granted: bool
    stated_at: datetime
    id: int


def consents_in_force(statements: Iterable[StatementView[K]]) -> dict[K, StatementView[K]]:
    """Per key, the statement that decides: the latest grant when it is later than every
    withdrawal, else the latest withdrawal (ties between equals: the higher id)."""
    latest_yes: dict[K, StatementView[K]] = {}
    latest_no: dict[K, StatementView[K]] = {}
    for statement in statements:
        latest = latest_yes if statement.granted else latest_no
        best = latest.get(statement.key)
        if best is None or (statement.stated_at, statement.id) > (best.stated_at, best.id):
            latest[statement.key] = statement
    decided: dict[K, StatementView[K]] = dict(latest_no)
    for key, yes in latest_yes.items():
        no = latest_no.get(key)
        if no is None or yes.stated_at > no.stated_at:
            decided[key] = yes
    return decided
