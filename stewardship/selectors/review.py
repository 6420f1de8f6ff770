"""Everything the review page shows for one candidate (or for customers a steward found
by search), read in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext as _
from rapidfuzz.distance import JaroWinkler

from rcu.attributes import ADDRESS_GROUP, CANONICAL_ATTRIBUTES
from rcu.models import Customer, ExtraIdentifier, SourceRecord
from rcu.normalisation.text import word_key
from rcu.selectors.attributes import custom_attribute_labels
from rcu.selectors.sources import sources_for_user
from stewardship.explain import comparison_label, explanation_sentence, phrase
from stewardship.models import MergeCandidate

MAX_CLUSTER = 6  # customers shown side by side at most
ADDRESS = "address"


@dataclass
class ReviewRecord:
    pk: int
    customer_id: int
    source_code: str
    source_name: str
    trust_rank: int
    business_ts: datetime | None
    external_id: str | None  # None when the record is in a department the person is not in
    attributes: dict[str, str]
    keys: dict[str, str]
    is_pair: bool  # one of the candidate's two records
    ref: tuple[str, str] = ("", "")  # (source, external id), to match provenance; never shown


@dataclass
class ReviewCustomer:
    customer: Customer
    records: list[ReviewRecord]
    in_candidate: bool  # a customer of the candidate itself, not of the wider cluster


@dataclass
class ReviewCell:
    record: ReviewRecord
    value: str
    golden: bool  # the value survivorship keeps today for this record's customer


@dataclass
class ReviewRow:
    name: str  # an attribute, or "address" for the whole block
    label: str
    cells: list[ReviewCell]
    differs: bool
    choosable: bool  # more than one distinct value: the steward may pick


@dataclass
class ContributionRow:
    comparison: str
    label: str
    level: str | None
    weight: float
    phrase: str
    width: int  # 0 to 100, for the bar


@dataclass
class Review:
    candidate: MergeCandidate
    customers: list[ReviewCustomer]
    records: list[ReviewRecord]
    rows: list[ReviewRow]
    contributions: list[ContributionRow]
    sentence: str
    prior_weight: float
    total_weight: float
    other_candidates: list[int] = field(default_factory=list)
    # The engine found the records contradicting each other (e.g. two first names in
    # one household): its probability says nothing then, so the page says so instead.
    contradiction: bool = False


def cluster_customer_ids(*, candidate: MergeCandidate, pair_customers: list[int]) -> list[int]:
    """The candidate's customers, then customers tied to them by other open candidates
    (at most MAX_CLUSTER in all): those the review page shows, and the only ones a
    steward may take along in a merge."""
    records = SourceRecord.objects.filter(customer_id__in=pair_customers).values_list("pk", flat=True)
    # One query per side: each reads its own index (the pair's unique constraint for
    # record A, candidate_record_b_idx for B), where an OR of both read every open
    # candidate (210 ms at 100,000).
    linked = [
        row
        for side in ("record_a_id__in", "record_b_id__in")
        for row in MergeCandidate.objects.open().exclude(pk=candidate.pk)
        .filter(**{side: records})
        .values_list("record_a__customer_id", "record_b__customer_id")[:50]
    ]
    found = list(pair_customers)
    for a, b in linked:
        for customer_id in (a, b):
            if customer_id is not None and customer_id not in found and len(found) < MAX_CLUSTER:
                found.append(customer_id)
    return found


def _similarities(a: ReviewRecord, b: ReviewRecord) -> dict[str, float]:
    found = {}
    for name in ("first_name", "last_name"):
        x, y = a.keys.get(name), b.keys.get(name)
        if x and y:
            found[name] = JaroWinkler.similarity(x, y)
    return found


def _value(record: ReviewRecord, name: str) -> str:
    if name == ADDRESS:
        return ", ".join(
            v for v in (record.attributes.get(n, "") for n in ADDRESS_GROUP) if v
        )
    return record.attributes.get(name, "") or ""


def _golden(customer: Customer, record: ReviewRecord, name: str) -> bool:
    origin = (customer.provenance or {}).get("address_line1" if name == ADDRESS else name)
    if not origin:
        for n in ADDRESS_GROUP if name == ADDRESS else ():
            origin = (customer.provenance or {}).get(n)
            if origin:
                break
    if not origin:
        return False
    return (origin.get("source"), origin.get("external_id")) == record.ref


@dataclass
class Comparison:
    """Customers and their records side by side, attribute by attribute."""

    customers: list[ReviewCustomer]
    records: list[ReviewRecord]
    rows: list[ReviewRow]


def customers_compare(*, customer_ids: list[int], user, pair_records: Iterable[int] = (),
                      pair_customers: Iterable[int] | None = None) -> Comparison:
    """The customers (in this order) with every record of theirs, and a row per attribute
    (the address as one): what the review page shows, for a candidate or for customers a
    steward found by search. External ids of sources the person may not see are hidden."""
    pair = set(pair_records)
    in_pair = set(customer_ids if pair_customers is None else pair_customers)
    customers = {c.pk: c for c in Customer.objects.filter(pk__in=customer_ids)}
    visible_sources = set(sources_for_user(user).values_list("pk", flat=True))
    see_all = user.has_perm("rcu.view_sourcerecord")

    by_customer: dict[int, list[ReviewRecord]] = {pk: [] for pk in customer_ids}
    all_records: list[ReviewRecord] = []
    for record in (
        SourceRecord.objects.filter(customer_id__in=customer_ids)
        .select_related("source")
        .order_by("source__trust_rank", "source__code", "external_id")
    ):
        holder = record.customer_id
        assert holder is not None  # filtered on customer_id__in above
        view = ReviewRecord(
            pk=record.pk, customer_id=holder, source_code=record.source.code,
            source_name=record.source.name, trust_rank=record.source.trust_rank,
            business_ts=record.business_ts,
            external_id=record.external_id if see_all or record.source_id in visible_sources else None,
            attributes=record.attributes or {}, keys=record.keys or {},
            is_pair=record.pk in pair, ref=(record.source.code, record.external_id),
        )
        by_customer[holder].append(view)
    review_customers = []
    for pk in customer_ids:
        if pk in customers:
            review_customers.append(ReviewCustomer(
                customer=customers[pk], records=by_customer[pk], in_candidate=pk in in_pair
            ))
            all_records.extend(by_customer[pk])

    names = [(ADDRESS, str(_("Address")))] + [
        (a.name, str(a.label)) for a in CANONICAL_ATTRIBUTES if a.name not in ADDRESS_GROUP
    ]
    extra = sorted({n for r in all_records for n in r.attributes} - {a.name for a in CANONICAL_ATTRIBUTES})
    extra_labels = dict(ExtraIdentifier.objects.filter(code__in=extra).values_list("code", "label"))
    extra_labels.update(custom_attribute_labels())
    names += [(n, extra_labels.get(n, n)) for n in extra]
    rows = []
    for name, label in names:
        cells = [
            ReviewCell(record=r, value=_value(r, name),
                       golden=_golden(customers[r.customer_id], r, name))
            for r in all_records
        ]
        values = {word_key(c.value) for c in cells if c.value}
        if not values:
            continue
        # Case, accents and punctuation are not differences ("ALLÉE" is "allée").
        rows.append(ReviewRow(name=name, label=label, cells=cells, differs=len(values) > 1,
                              choosable=len(values) > 1))
    return Comparison(customers=review_customers, records=all_records, rows=rows)


def candidate_review(*, candidate: MergeCandidate, user) -> Review:
    pair: dict[int, int | None] = {candidate.record_a_id: None, candidate.record_b_id: None}
    for pk, customer_id in SourceRecord.objects.filter(pk__in=pair).values_list("pk", "customer_id"):
        pair[pk] = customer_id
    pair_customers = list(dict.fromkeys(c for c in pair.values() if c is not None))
    customer_ids = cluster_customer_ids(candidate=candidate, pair_customers=pair_customers)
    comparison = customers_compare(customer_ids=customer_ids, user=user, pair_records=pair,
                                   pair_customers=pair_customers)
    all_records, review_customers, rows = (
        comparison.records, comparison.customers, comparison.rows
    )

    explanation = candidate.explanation or {}
    record_a = next((r for r in all_records if r.pk == candidate.record_a_id), None)
    record_b = next((r for r in all_records if r.pk == candidate.record_b_id), None)
    similarities = _similarities(record_a, record_b) if record_a and record_b else {}
    largest = max((abs(c["weight"]) for c in explanation.get("contributions", [])), default=1.0) or 1.0
    contributions = [
        ContributionRow(
            comparison=c["comparison"], label=comparison_label(c["comparison"]),
            level=c.get("level"), weight=c["weight"],
            phrase=phrase(c["comparison"], c.get("level"), similarities.get(c["comparison"])),
            width=round(100 * abs(c["weight"]) / largest),
        )
        for c in explanation.get("contributions", [])
    ]
    return Review(
        candidate=candidate, customers=review_customers, records=all_records, rows=rows,
        contributions=contributions,
        sentence=explanation_sentence(explanation, similarities=similarities),
        prior_weight=explanation.get("prior_weight", 0.0),
        total_weight=explanation.get("total_weight", candidate.weight),
        contradiction=str(explanation.get("link_guard") or "").startswith("contradiction:"),
    )

