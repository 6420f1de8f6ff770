"""The one explicit hook through which other apps react to the core.

`rcu` imports neither `stewardship` nor `gdpr`. When the core does something other
apps must know about, it calls a function here; apps register their receivers in
their `AppConfig.ready()`. Receivers run synchronously, in the caller's transaction,
in registration order: no hidden signal chains.

Hooks:
- ``personal_data_read(user, customers, purpose, reference="")``: a person (or RCU
  running a command, as a `SystemActor`) read customers' personal data (a customer
  page, an API read, an export, a command's file). The GDPR access log listens; it
  derives what was read and the channel from the purpose code.
- ``review_pairs_found(record_ids, review_pairs)``: matching re-clustered the records
  `record_ids` (already written); `review_pairs` (`ReviewPair`s) are the grey-zone
  pairs between different customers among them, one per pair of customers.
  Stewardship keeps its merge candidates in step: opens or refreshes those, and closes
  the open ones among these records that are no longer proposed.
- ``customer_decisions(customer_ids) -> list[CustomerDecision]``: a *read* hook, the
  registry of contributors to a subject's access pack. The GDPR access pack needs the
  steward decisions that shaped a customer, but `gdpr` may not import `stewardship`:
  stewardship registers a receiver returning the decisions (in effect or undone)
  involving any of `customer_ids`, as `CustomerDecision`s (who decided is an id only;
  the reader redacts it). Receivers must not write.
- ``person_erasing(customer_ids, record_ids, public_ids, values, acting_user)``: an
  erasure (`rcu.services.erasure.persons_erase`) is about to delete these customers and
  source records (`public_ids`: every public id that resolved to them; `values`: the
  person's identifying values, for free text written about them). Each receiver deletes
  or scrubs what its app holds of them, in the erasure's transaction, before the rows
  go, and returns what it did as `ErasureCount`s (`preview=True`: counts only, nothing
  written). Each app also declares, with `erasure_covers`, which of its models and
  file fields the erasure handles and how: tests/rcu/test_erasure_coverage.py fails on
  a model nobody declared.
- ``customer_rectify(customer_id, values, reason, request_id, acting_user) -> int``: the
  DPO rectifies a golden customer for a subject request (art. 16). The values become
  pinned values of origin "rectification" in the stewards' ledger of corrections (one
  undoable decision, `customer.rectified` events), which `gdpr` may not import:
  stewardship registers the one receiver, which returns the decision's id and raises
  `ValuesRefused(field, reason)` for a value it refuses.
- ``erasure_delivered(subscription_id, event_ids)``: a subscriber acknowledged (a 2xx)
  these `customer.erased` events. Called once the deliveries are committed (not in the
  sender's transaction: a receiver locks its own rows without holding the sender's);
  the GDPR app counts it as that subscriber's acknowledgement of an erasure request.
- ``records_screen(source, rows, job, acting_user) -> set[int]``: a batch of mapped rows
  (`rcu.ingestion.mapping.MappedRow`, from a file import or the ingest API: the one
  ingestion path, `rcu.services.ingestion.records_upsert`) is about to be stored. A
  receiver returns the indexes of the rows it holds back (and keeps them itself): the
  GDPR app holds the rows carrying an erased person's identifiers in quarantine for the
  DPO. Called in the batch's transaction, once per batch: a receiver must answer a whole
  batch with a query or two, never one per row.
- ``demo_seeded(acting_user)``: the demo base was just seeded (`seed_demo`); apps add
  their own demo data (the GDPR app: the register of processing activities).
- ``statement_targets() -> dict[str, str]``: a *read* hook, the registry of the yes/no
  statement targets a field mapping may name besides the customer attributes (the GDPR
  app: one per consent purpose and channel, ``consent:newsletter:email``), each with its
  label. A source column mapped to one holds yes or no about the person
  (`rcu.ingestion.statements`); the configuration parser refuses any other target.
- ``records_statements(source_id, statements, acting_user)``: an import or the ingest API
  just wrote these source records (`statements`: record id → the `Statement`s its row
  held, blank cells left out), in the upsert's transaction. The GDPR app records the
  consents they state, anchored to the record.
- ``customers_regrouped(record_ids, customer_ids, acting_user)``: source records moved
  to other customers (`record_ids`: a merge, an unmerge, matching), or customers were
  retired into another or restored (`customer_ids`), in the writer's transaction, with
  the customers' locks held. What an app keeps per customer from its records follows
  (the GDPR app: consents and objections). Called by `rcu.services.changes`, the one
  place that records such writes.
- ``customer_projection(customer_ids) -> dict[int, dict]``: a *read* hook: what an event
  carries of these customers beyond their golden values (the GDPR app: ``consents``,
  declared with `projection_covers` so that subscriptions may be given it).
  A new subscriber's snapshot reads it; an app whose projection of a customer changes
  writes a `customer.updated` event with `rcu.services.changes.customers_projection_changed`.
- ``projection_columns() -> dict[str, list[tuple[str, ...]]]``: a *read* hook: how a
  flat file (a CSV change file) spreads what `customer_projection` adds, one column per
  path into the value (the GDPR app: ``consents`` → ``("newsletter", "email")``, …, one
  per purpose and channel). A name no receiver spreads gets one JSON column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rcu.actors import SystemActor
from rcu.ingestion.statements import Statement

_receivers: dict[str, list[Callable[..., Any]]] = {
    "demo_seeded": [],
    "personal_data_read": [],
    "review_pairs_found": [],
    "customer_decisions": [],
    "customer_rectify": [],
    "person_erasing": [],
    "erasure_delivered": [],
    "records_screen": [],
    "statement_targets": [],
    "records_statements": [],
    "customers_regrouped": [],
    "customer_projection": [],
    "projection_columns": [],
}
# Model label ("stewardship.MergeCandidate") → how an erasure handles it.
_erasure_coverage: dict[str, str] = {}
# Names apps add to customers' events (`customer_projection`), which subscribers may receive.
_projected_attributes: list[str] = []


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


@dataclass(frozen=True, slots=True)
class ErasureCount:
    """What an erasure did to one table or file store: `store` is a model label
    ("rcu.SourceRecord", "rcu.HistoricalSourceRecord") or a file store ("file:rejects"),
    `action` "deleted", "scrubbed" or "rewritten". No identifier of the person."""

    store: str
    action: str
    count: int


def register(hook: str, receiver: Callable[..., Any]) -> None:
    if hook not in _receivers:
        raise KeyError(f"unknown hook {hook!r}; known: {sorted(_receivers)}")
    if receiver not in _receivers[hook]:
        _receivers[hook].append(receiver)


def personal_data_read(
    *, user: Any, customers: Iterable[Any], purpose: str, reference: str = ""
) -> None:
    """`customers`: Customer rows or their public ids. `user`: a signed-in person, or a
    `SystemActor` for RCU's own reads (a command run without `--user`). With no customer,
    `reference` names what was read (the rejected rows of an import)."""
    customers = list(customers)
    if not customers and not reference:
        return
    if not isinstance(user, SystemActor) and (user is None or not getattr(user, "is_authenticated", False)):
        return
    for receiver in _receivers["personal_data_read"]:
        if reference:
            receiver(user=user, customers=customers, purpose=purpose, reference=reference)
        else:
            receiver(user=user, customers=customers, purpose=purpose)


def review_pairs_found(
    *, record_ids: Iterable[int], review_pairs: list[ReviewPair], acting_user: Any
) -> None:
    record_ids = list(record_ids)
    for receiver in _receivers["review_pairs_found"]:
        receiver(record_ids=record_ids, review_pairs=review_pairs, acting_user=acting_user)


def customer_decisions(*, customer_ids: Iterable[int]) -> list[CustomerDecision]:
    """Every registered contributor's decisions about these customers, oldest first."""
    customer_ids = sorted(set(customer_ids))
    found: list[CustomerDecision] = []
    if not customer_ids:
        return found
    for receiver in _receivers["customer_decisions"]:
        found.extend(receiver(customer_ids=customer_ids))
    return sorted(found, key=lambda d: d.decided_at)


def person_erasing(
    *, customer_ids: list[int], record_ids: list[int], public_ids: list[str],
    values: frozenset[str], acting_user: Any, preview: bool = False,
) -> list[ErasureCount]:
    counts: list[ErasureCount] = []
    for receiver in _receivers["person_erasing"]:
        counts += receiver(customer_ids=customer_ids, record_ids=record_ids, public_ids=public_ids,
                           values=values, acting_user=acting_user, preview=preview)
    return counts


def erasure_covers(models: dict[str, str]) -> None:
    """Declare how an erasure handles these models (label → how), from `ready()`."""
    _erasure_coverage.update(models)


def erasure_coverage() -> dict[str, str]:
    return dict(_erasure_coverage)


def statement_targets() -> dict[str, str]:
    """Every yes/no statement target a field mapping may name (code → label)."""
    targets: dict[str, str] = {}
    for receiver in _receivers["statement_targets"]:
        targets.update(receiver())
    return targets


def records_statements(
    *, source_id: int, statements: dict[int, tuple[Statement, ...]], acting_user: Any
) -> None:
    if not statements:
        return
    for receiver in _receivers["records_statements"]:
        receiver(source_id=source_id, statements=statements, acting_user=acting_user)


def customers_regrouped(
    *, record_ids: Iterable[int] = (), customer_ids: Iterable[int] = (), acting_user: Any
) -> None:
    record_ids, customer_ids = sorted(set(record_ids)), sorted(set(customer_ids))
    if not record_ids and not customer_ids:
        return
    for receiver in _receivers["customers_regrouped"]:
        receiver(record_ids=record_ids, customer_ids=customer_ids, acting_user=acting_user)


def projection_covers(names: Iterable[str]) -> None:
    """Declare the names a `customer_projection` receiver adds to events, from `ready()`:
    subscriptions may then be given them (`rcu.services.events.subscribable_attributes`)."""
    for name in names:
        if name not in _projected_attributes:
            _projected_attributes.append(name)


def projected_attributes() -> tuple[str, ...]:
    return tuple(_projected_attributes)


def customer_projection(*, customer_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """What each contributor adds to these customers' events (customer id → name → value)."""
    ids = sorted(set(customer_ids))
    found: dict[int, dict[str, Any]] = {}
    if not ids:
        return found
    for receiver in _receivers["customer_projection"]:
        for pk, values in receiver(customer_ids=ids).items():
            found.setdefault(pk, {}).update(values)
    return found


def projection_columns() -> dict[str, list[tuple[str, ...]]]:
    """Projected name → the paths into its value a flat file gives a column each."""
    found: dict[str, list[tuple[str, ...]]] = {}
    for receiver in _receivers["projection_columns"]:
        for name, paths in receiver().items():
            found.setdefault(name, []).extend(tuple(p) for p in paths)
    return found


class ValuesRefused(ValueError):
    """A value (or the request) refused by the receiver of a write hook: names the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def customer_rectify(
    *, customer_id: int, values: dict[str, str | None], reason: str, request_id: int,
    acting_user: Any,
) -> int:
    receivers = _receivers["customer_rectify"]
    if len(receivers) != 1:
        raise RuntimeError(f"customer_rectify needs exactly one receiver, has {len(receivers)}")
    return receivers[0](customer_id=customer_id, values=values, reason=reason,
                        request_id=request_id, acting_user=acting_user)


def erasure_delivered(*, subscription_id: int, event_ids: list[int]) -> None:
    for receiver in _receivers["erasure_delivered"]:
        receiver(subscription_id=subscription_id, event_ids=event_ids)
def records_screen(*, source: Any, rows: Sequence[Any], job: Any, acting_user: Any) -> set[int]:
    """The indexes (in `rows`) of the rows some receiver holds back from ingestion."""
    held: set[int] = set()
    if not rows:
        return held
    for receiver in _receivers["records_screen"]:
        held |= receiver(source=source, rows=rows, job=job, acting_user=acting_user)
    return held


def demo_seeded(*, acting_user: Any) -> None:
    for receiver in _receivers["demo_seeded"]:
        receiver(acting_user=acting_user)
