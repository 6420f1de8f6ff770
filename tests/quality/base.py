"""A small hand-built base whose every figure is counted by hand in the tests.

CRM (marketing), four records:
- CRM-1 Hélène Lefèvre: everything right, updated 10 days ago; merged by a steward with ES-1.
- CRM-2 Jean Martin: e-mail unreadable (not kept), a landline in the mobile field,
  75001 with Marseille (mismatch); updated two years ago.
- CRM-3 Paul Durand: no e-mail, postcode 75099 (not in La Poste's base), no timestamp.
- CRM-4 Marie Curie: "Marseile" 13001 (corrected to MARSEILLE); updated 10 days ago;
  linked by the engine with ES-3.
E-shop (ecommerce), three records: ES-1 (Hélène again, e-mail in capitals, another
mobile), ES-2 (Zoé Blanc, in an open candidate with CRM-2), ES-3 (Marie Curie again).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from rcu.models import Customer, SourceRecord
from stewardship.models import MergeCandidate
from stewardship.services.merge import customers_merge
from tests.factories import ingest


def _ts(days: int | None) -> str:
    if days is None:
        return ""
    return (timezone.localtime() - timedelta(days=days)).strftime("%Y-%m-%d %H:%M")


def build_base(sources, *, steward) -> dict[str, SourceRecord]:
    crm, eshop = sources["crm"], sources["eshop"]
    blank = {"civility": "", "birth_date": "", "phone": "", "address_line2": "", "country": "FR"}
    crm_rows = [
        {**blank, "id": "CRM-1", "civility": "Mme", "first_name": "Hélène", "last_name": "Lefèvre",
         "email": "helene.lefevre@orange.fr", "mobile": "06 12 34 56 78",
         "address_line1": "12 avenue Victor Hugo", "postcode": "75001", "city": "Paris",
         "updated": _ts(10)},
        {**blank, "id": "CRM-2", "first_name": "Jean", "last_name": "Martin",
         "email": "pas-un-email", "mobile": "01 42 11 22 33", "address_line1": "3 rue des Lilas",
         "postcode": "75001", "city": "Marseille", "updated": _ts(730)},
        {**blank, "id": "CRM-3", "first_name": "Paul", "last_name": "Durand", "email": "",
         "mobile": "", "address_line1": "1 place du Marché", "postcode": "75099", "city": "Paris",
         "updated": _ts(None)},
        {**blank, "id": "CRM-4", "civility": "Mme", "first_name": "Marie", "last_name": "Curie",
         "email": "marie.curie@exemple.fr", "mobile": "07 81 22 33 44",
         "address_line1": "5 boulevard de la Libération", "postcode": "13001", "city": "Marseile",
         "updated": _ts(10)},
    ]
    es_rows = [
        {**blank, "id": "ES-1", "first_name": "Hélène", "last_name": "Lefèvre",
         "email": "HELENE.LEFEVRE@ORANGE.FR", "mobile": "06 99 88 77 66",
         "address_line1": "", "postcode": "", "city": "", "updated": _ts(3)},
        {**blank, "id": "ES-2", "first_name": "Zoé", "last_name": "Blanc",
         "email": "zoe.blanc@exemple.fr", "mobile": "", "address_line1": "",
         "postcode": "", "city": "", "updated": _ts(400)},
        {**blank, "id": "ES-3", "civility": "Mme", "first_name": "Marie", "last_name": "Curie",
         "email": "m.curie@exemple.fr", "mobile": "", "address_line1": "", "postcode": "",
         "city": "", "updated": _ts(1)},
    ]
    records = {r.external_id: r for r in ingest(crm, crm_rows) + ingest(eshop, es_rows)}
    customers_merge(
        customer_ids=[records["CRM-1"].customer_id, records["ES-1"].customer_id],
        acting_user=steward, survivor_id=records["CRM-1"].customer_id,
    )
    # An automatic link, as matching writes it: the record moves, its customer retires.
    into = records["CRM-4"].customer
    old = records["ES-3"].customer_id
    SourceRecord.objects.filter(pk=records["ES-3"].pk).update(customer=into)
    Customer.objects.filter(pk=old).update(merged_into=into)
    a, b = sorted((records["CRM-2"], records["ES-2"]), key=lambda r: r.pk)
    candidate = MergeCandidate.objects.create(record_a=a, record_b=b, probability=0.8, weight=1.0)
    candidate.departments.set({a.source.department_id, b.source.department_id})
    return {k: SourceRecord.objects.get(pk=r.pk) for k, r in records.items()}
