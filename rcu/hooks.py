"""The one explicit hook through which other apps react to the core.

`rcu` imports neither `stewardship` nor `gdpr`. When the core does something other
apps must know about, it calls a function here; apps register their receivers in
their `AppConfig.ready()`. Receivers run synchronously, in the caller's transaction,
in registration order: no hidden signal chains.

Hooks:
- ``personal_data_read(user, customers, purpose)``: a person read customers'
  personal data (a customer page, an API read, an export). The GDPR access log listens.
- ``review_pairs_found(record_ids, review_pairs)``: matching re-clustered the records
  `record_ids` (already written); `review_pairs` (`ReviewPair`s) are the grey-zone
  pairs between different customers among them, one per pair of customers.
  Stewardship keeps its merge candidates in step: opens or refreshes those, and closes
  the open ones among these records that are no longer proposed.
- ``demo_seeded(acting_user)``: `seed_demo` has set up the demo base (or found it already
  seeded) and its users. Apps add their own demo data (the GDPR app: subject requests at
  different ages); receivers must be safe to run again (seed only what is missing).
- ``customer_decisions(customer_ids) -> list[CustomerDecision]``: a *read* hook, the
  registry of contributors to a subject's access pack. The GDPR access pack needs the
  steward decisions that shaped a customer, but `gdpr` may not import `stewardship`:
  stewardship registers a receiver returning the decisions (in effect or undone)
  involving any of `customer_ids`, as `CustomerDecision`s (who decided is an id only;
  the reader redacts it). Receivers must not write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_receivers: dict[str, list[Callable[..., Any]]] = {
    "personal_data_read": [],
    "review_pairs_found": [],
    "demo_seeded": [],
    "customer_decisions": [],
}


@dataclass(frozen=True, slots=True)
class ReviewPair:
    """A grey-zone pair of source records (a < b) in two different customers."""

    record_a: int
    record_b: int
    probability: float
    weight: float
    levels: str
    explanation: dict
    source_ids: frozenset[int]  # the sources of every record of both customers


@dataclass(frozen=True, slots=True)
class CustomerDecision:
    """A decision that shaped golden customers, as a pack contributor reports it."""

    kind: str  # merge, reject, reopen, detach, undo
    decided_at: datetime
    decided_by_id: int | None  # None: RCU itself
    reason: str  # free text as typed: the reader redacts it
    customer_public_ids: tuple[str, ...]
    attributes_chosen: tuple[str, ...]  # the values a steward chose over survivorship
    undone_at: datetime | None


def register(hook: str, receiver: Callable[..., Any]) -> None:
    if hook not in _receivers:
        raise KeyError(f"unknown hook {hook!r}; known: {sorted(_receivers)}")
    if receiver not in _receivers[hook]:
        _receivers[hook].append(receiver)


def personal_data_read(*, user: Any, customers: Iterable[Any], purpose: str) -> None:
    customers = list(customers)
    if not customers or user is None or not getattr(user, "is_authenticated", False):
        return
    for receiver in _receivers["personal_data_read"]:
        receiver(user=user, customers=customers, purpose=purpose)


def review_pairs_found(
    *, record_ids: Iterable[int], review_pairs: list[ReviewPair], acting_user: Any
) -> None:
    record_ids = list(record_ids)
    for receiver in _receivers["review_pairs_found"]:
        receiver(record_ids=record_ids, review_pairs=review_pairs, acting_user=acting_user)


def demo_seeded(*, acting_user: Any) -> None:
    for receiver in _receivers["demo_seeded"]:
        receiver(acting_user=acting_user)


def customer_decisions(*, customer_ids: Iterable[int]) -> list[CustomerDecision]:
    """Every registered contributor's decisions about these customers, oldest first."""
    customer_ids = sorted(set(customer_ids))
    found: list[CustomerDecision] = []
    if not customer_ids:
        return found
    for receiver in _receivers["customer_decisions"]:
        found.extend(receiver(customer_ids=customer_ids))
    return sorted(found, key=lambda d: d.decided_at)
