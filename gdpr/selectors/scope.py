"""Finding the person of a subject request: the golden customers and source records the
identifiers given point to, scored and explained by the matching engine, for the DPO.

Nothing is written. Three ways in, all through indexes:
- the engine's blocking keys of the identifiers given (e-mail, phone, names with birth
  date or postcode or town), read by (bucket, key) like real-time matching;
- a source's customer number (`{"source": code, "external_id": ...}`), by the
  (source, external id) unique index;
- the normalised e-mail and phone on golden customers, by their indexes.

Every candidate record is scored against the identifiers with the engine's model.
Nothing is left out for scoring low: a look-alike (same surname and town, another first
name or birth date) is proposed, with what contradicts it, and unchecked. A customer is
checked by default only when the engine would link it alone (at or above the auto-link
threshold, no contradiction) or when a source's customer number names one of its
records and nothing contradicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from gdpr.models import ScopeItem, SubjectRequest
from rcu.engine.scoring import ADDED_TO_A_LEVEL, CONTRADICTION
from rcu.engine.types import MatchRecord
from rcu.models import Customer, SourceRecord
from rcu.normalisation.record import normalise_record
from rcu.services.matching.context import MatchContext, match_context
from rcu.services.matching.pairs import candidates_find, match_records_load

# Customers proposed at most, best first: enough for any real person's traces, few
# enough for the DPO to read each one.
MAX_CUSTOMERS = 25

# The identifiers a request may hold, as canonical attributes.
SUBJECT_ATTRIBUTES = (
    "civility", "first_name", "last_name", "birth_date", "email", "phone", "mobile",
    "address_line1", "address_line2", "postcode", "city", "country",
)

COMPARISON_LABELS = {
    "first_name": _("first name"),
    "last_name": _("last name"),
    "birth_date": _("birth date"),
    "email": _("e-mail"),
    "phone": _("phone"),
    "address": _("address"),
    "postcode_city": _("postcode and city"),
    "identifiers": _("identifiers"),
}

LEVEL_WORDS = {"exact": _("same"), "different": _("different")}


@dataclass(frozen=True)
class Evidence:
    """One comparison between the identifiers given and a record, in words."""

    comparison: str
    level: str
    weight: float

    @property
    def label(self) -> str:
        return str(COMPARISON_LABELS.get(self.comparison, self.comparison))

    @property
    def words(self) -> str:
        """"first name: different", "e-mail: same", "birth date: partly the same"."""
        word = LEVEL_WORDS.get(self.level, _("partly the same"))
        return f"{self.label}: {word}"

    def to_json(self) -> dict[str, Any]:
        return {"comparison": self.comparison, "level": self.level, "weight": self.weight}


@dataclass(frozen=True)
class ProposedRecord:
    record: SourceRecord
    probability: float | None  # None: the record holds nothing comparable
    found_by: tuple[str, ...]  # "blocking", "customer_number", "email", "phone", "customer"
    agreements: tuple[Evidence, ...]
    contradictions: tuple[Evidence, ...]
    link_guard: str | None
    in_scope: bool | None  # the DPO's decision, None: not decided yet


@dataclass
class ProposedCustomer:
    customer: Customer
    probability: float | None
    found_by: tuple[str, ...]
    records: list[ProposedRecord] = field(default_factory=list)
    suggested: bool = False  # checked by default
    in_scope: bool | None = None

    @property
    def contradictions(self) -> tuple[Evidence, ...]:
        seen: dict[str, Evidence] = {}
        for proposed in self.records:
            for evidence in proposed.contradictions:
                seen.setdefault(evidence.comparison, evidence)
        return tuple(seen.values())

    @property
    def checked(self) -> bool:
        """What the scope form shows: the DPO's decision, else the suggestion."""
        return self.suggested if self.in_scope is None else self.in_scope


@dataclass(frozen=True)
class Proposals:
    customers: list[ProposedCustomer]
    orphan_records: list[ProposedRecord]  # records in scope whose customer is not proposed
    identifiers_used: dict[str, str]  # the normalised identifiers the search ran with
    customer_numbers: tuple[tuple[str, str], ...]

    @property
    def all_customers(self) -> list[Customer]:
        return [p.customer for p in self.customers]


def subject_values(subject: Mapping[str, Any]) -> dict[str, str]:
    """The request's identifiers as canonical attributes (a postal address may be one
    string or a mapping; anything else given is ignored here)."""
    values = {k: str(subject[k]).strip() for k in SUBJECT_ATTRIBUTES if subject.get(k)}
    address = subject.get("address")
    if isinstance(address, Mapping):
        for k in ("address_line1", "address_line2", "postcode", "city", "country"):
            if address.get(k):
                values.setdefault(k, str(address[k]).strip())
    elif isinstance(address, str) and address.strip():
        values.setdefault("address_line1", address.strip())
    return values


def subject_customer_numbers(subject: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """`{"source": code, "external_id": ...}` given once (`customer_number`) or as a list
    (`customer_numbers`), or the plain pair at the top level."""
    given: list[Any] = []
    if isinstance(subject.get("customer_numbers"), list):
        given.extend(subject["customer_numbers"])
    if isinstance(subject.get("customer_number"), Mapping):
        given.append(subject["customer_number"])
    if subject.get("source") and subject.get("external_id"):
        given.append({"source": subject["source"], "external_id": subject["external_id"]})
    pairs = {
        (str(g["source"]).strip(), str(g["external_id"]).strip())
        for g in given
        if isinstance(g, Mapping) and g.get("source") and g.get("external_id")
    }
    return tuple(sorted(pairs))


def _evidence(explanation: Mapping[str, Any]) -> tuple[tuple[Evidence, ...], tuple[Evidence, ...]]:
    compared = [
        Evidence(c["comparison"], c["level"], float(c["weight"]))
        for c in explanation.get("contributions", [])
        if c.get("level") is not None and c["level"] not in ADDED_TO_A_LEVEL
    ]
    guarded: set[str] = set()
    guard = explanation.get("link_guard") or ""
    if guard.startswith(CONTRADICTION):
        guarded = {name for name in guard[len(CONTRADICTION):].split(",") if name}
    agreements = tuple(sorted((e for e in compared if e.weight > 0), key=lambda e: -e.weight))
    contradictions = tuple(sorted(
        (e for e in compared if e.weight < 0 or e.comparison in guarded), key=lambda e: e.weight
    ))
    return agreements, contradictions


def _contradicted(explanation: Mapping[str, Any] | None) -> bool:
    return bool(explanation and (explanation.get("link_guard") or "").startswith(CONTRADICTION))


def request_matches(*, request: SubjectRequest) -> Proposals:
    """The customers and records the request's identifiers point to, best first, with
    the DPO's scope decisions so far. The caller has checked that the user handles
    requests, and logs the read (`gdpr_request_search`)."""
    context = match_context()
    values = subject_values(request.subject)
    numbers = subject_customer_numbers(request.subject)
    region = (values.get("country") or "FR").upper()[:2]
    normalised = normalise_record(values, default_region=region) if values else None
    found: dict[int, set[str]] = {}

    def add(record_ids: Any, how: str) -> None:
        for record_id in record_ids:
            found.setdefault(record_id, set()).add(how)

    probe: MatchRecord | None = None
    if normalised is not None and normalised.keys:
        probe = MatchRecord(0, "", normalised.attributes, normalised.keys)
        search = candidates_find([probe], context)
        add(search.candidates.get(0, ()), "blocking")
    for code, external_id in numbers:
        add(
            SourceRecord.objects.filter(source__code=code, external_id=external_id)
            .values_list("pk", flat=True),
            "customer_number",
        )
    exact_customers: dict[int, set[str]] = {}
    if normalised is not None:
        attributes = normalised.attributes
        if attributes.get("email"):
            for pk in Customer.objects.active().filter(email=attributes["email"]).values_list(
                "pk", flat=True
            ):
                exact_customers.setdefault(pk, set()).add("email")
        for phone in {attributes.get("phone"), attributes.get("mobile")} - {None, ""}:
            for column in ("phone", "mobile"):
                for pk in Customer.objects.active().filter(**{column: phone}).values_list(
                    "pk", flat=True
                ):
                    exact_customers.setdefault(pk, set()).add("phone")

    # Records the DPO already put in (or out of) scope stay on the page.
    decisions = list(ScopeItem.objects.filter(request=request))
    add((d.record_id for d in decisions if d.record_id), "scope")
    decided_customers = {d.customer_id: d.in_scope for d in decisions if d.customer_id}
    decided_records = {d.record_id: d.in_scope for d in decisions if d.record_id}

    customer_of = dict(
        SourceRecord.objects.filter(pk__in=list(found)).values_list("pk", "customer_id")
    )
    customer_ids = set(customer_of.values()) | set(exact_customers) | set(decided_customers)
    customers = Customer.objects.in_bulk(list(customer_ids))
    # A retired customer (merged away) is shown as its survivor.
    survivors = {pk: _survivor(c, customers) for pk, c in customers.items()}
    customers.update({c.pk: c for c in survivors.values()})

    records = list(
        SourceRecord.objects.filter(customer_id__in={c.pk for c in survivors.values()})
        .select_related("source")
        .order_by("source__trust_rank", "source__code", "external_id")
    )
    records += list(
        SourceRecord.objects.filter(pk__in=[r for r in found if r not in {x.pk for x in records}])
        .select_related("source")
    )
    engine_records = match_records_load([r.pk for r in records])
    scorer = context.scorer
    prepared_probe = scorer.prepare(probe) if probe is not None else None

    by_customer: dict[int, ProposedCustomer] = {}
    orphans: list[ProposedRecord] = []
    for record in records:
        explanation: dict | None = None
        probability: float | None = None
        if prepared_probe is not None and record.pk in engine_records:
            explanation = scorer.explain_pair_dict(
                prepared_probe, scorer.prepare(engine_records[record.pk])
            )
            probability = float(explanation["probability"])
        agreements, contradictions = _evidence(explanation or {})
        proposed = ProposedRecord(
            record=record, probability=probability,
            found_by=tuple(sorted(found.get(record.pk, {"customer"}))),
            agreements=agreements, contradictions=contradictions,
            link_guard=(explanation or {}).get("link_guard"),
            in_scope=decided_records.get(record.pk),
        )
        customer = customers.get(record.customer_id) if record.customer_id else None
        if customer is None:
            orphans.append(proposed)
            continue
        entry = by_customer.get(customer.pk)
        if entry is None:
            entry = by_customer[customer.pk] = ProposedCustomer(
                customer=customer, probability=None, found_by=(),
            )
        entry.records.append(proposed)

    for pk, how in exact_customers.items():
        survivor = survivors.get(pk)
        if survivor is not None and survivor.pk in by_customer:
            entry = by_customer[survivor.pk]
            entry.found_by = tuple(sorted(set(entry.found_by) | how))
    for original, in_scope in decided_customers.items():
        survivor = survivors.get(original)
        if survivor is not None and survivor.pk in by_customer:
            by_customer[survivor.pk].in_scope = in_scope

    for entry in by_customer.values():
        _settle(entry, context)
    ranked = sorted(
        by_customer.values(),
        key=lambda e: (e.in_scope is not True, -(e.probability or 0.0), e.customer.pk),
    )
    kept = [e for e in ranked if e.in_scope is not None or e.records][:MAX_CUSTOMERS]
    return Proposals(
        customers=kept, orphan_records=orphans,
        identifiers_used=dict(normalised.attributes) if normalised is not None else {},
        customer_numbers=numbers,
    )


def _survivor(customer: Customer, known: dict[int, Customer]) -> Customer:
    seen = {customer.pk}
    while customer.merged_into_id is not None and customer.merged_into_id not in seen:
        seen.add(customer.merged_into_id)
        nxt = known.get(customer.merged_into_id) or Customer.objects.get(pk=customer.merged_into_id)
        known[nxt.pk] = nxt
        customer = nxt
    return customer


def _settle(entry: ProposedCustomer, context: MatchContext) -> None:
    """The customer's score is its best record's; suggested only on strong, uncontradicted
    evidence."""
    how: set[str] = set(entry.found_by)
    scored = [r for r in entry.records if r.probability is not None]
    for r in entry.records:
        how.update(h for h in r.found_by if h != "customer")
    entry.found_by = tuple(sorted(how))
    best = max(scored, key=lambda r: r.probability or 0.0) if scored else None
    entry.probability = best.probability if best is not None else None
    contradicted = best is not None and _contradicted({"link_guard": best.link_guard})
    by_number = any("customer_number" in r.found_by for r in entry.records)
    strong = (
        best is not None and (best.probability or 0.0) >= context.auto_link
        and best.link_guard is None
    )
    entry.suggested = not contradicted and (strong or by_number)
