"""An erasure finds an erased record's blocking keys by primary key (the table has no
index by record, for the imports' sake): every key of the person goes, the others'
stay, and deleting the records does not scan the keys' table again."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rcu.models import MatchKey
from rcu.services.erasure import persons_erase
from tests.factories import TEST_ACTOR, ingest


def test_an_erasure_deletes_exactly_the_persons_keys_without_a_scan_by_record(crm, eshop):
    person = ingest(crm, [{"id": "C-1", "first_name": "Ysaline", "last_name": "Quintarelli",
                           "email": "ysaline.q@exemple-rare.fr", "phone": "0612345678",
                           "postcode": "69003", "city": "Lyon", "birth_date": "1977-04-21"}])
    # An edit: the keys of the old values were replaced, the new ones must go too.
    person = ingest(crm, [{"id": "C-1", "first_name": "Ysaline", "last_name": "Quintarelli-Bo",
                           "email": "ysaline.qb@exemple-rare.fr", "phone": "0612345678",
                           "postcode": "69003", "city": "Lyon", "birth_date": "1977-04-21"}])
    (other,) = ingest(eshop, [{"id": "E-1", "first_name": "Ysaline", "last_name": "Martin",
                               "email": "y.martin@example.org", "postcode": "69003", "city": "Lyon"}])
    theirs = MatchKey.objects.filter(record_id=person[0].pk).count()
    others = sorted(MatchKey.objects.filter(record_id=other.pk).values_list("key", flat=True))
    assert theirs > 3 and others

    with CaptureQueriesContext(connection) as queries:
        report = persons_erase(customer_ids=[person[0].customer_id], acting_user=TEST_ACTOR)

    assert report.count("rcu.MatchKey") == theirs
    assert not MatchKey.objects.filter(record_id=person[0].pk).exists()
    assert not MatchKey.objects.filter(key__icontains="quintarelli").exists()
    assert sorted(MatchKey.objects.filter(record_id=other.pk).values_list("key", flat=True)) == others
    by_record = [q["sql"] for q in queries.captured_queries
                 if "rcu_matchkey" in q["sql"] and '"record_id" IN' in q["sql"]]
    assert by_record == []


def test_the_sources_counts_after_an_erasure_equal_a_recount(crm, eshop, service_client_source):
    from rcu.models import SourceStats
    from rcu.services.erasure import LegalHold
    from rcu.services.stats import source_stats_recount
    from stewardship.services.merge import customers_merge

    person = ingest(crm, [{"id": "C-1", "first_name": "Ysaline", "last_name": "Quintarelli",
                           "email": "ysaline.q@exemple-rare.fr"}])
    person += ingest(eshop, [{"id": "E-1", "first_name": "Ysaline", "last_name": "Quintarelli",
                              "email": "ysaline.q@exemple-rare.fr"}])
    person += ingest(service_client_source, [{"id": "S-1", "first_name": "Ysaline", "last_name": "Quintarelli"}])
    # A customer outside the scope loses one record of two of the same source, and keeps
    # the other: it still counts for that source.
    (kept_a, lost) = ingest(crm, [{"id": "C-2", "first_name": "Paul", "last_name": "Durand"},
                                  {"id": "C-3", "first_name": "Paule", "last_name": "Durand"}])
    customers = {r.customer_id for r in person}
    if len(customers) > 1:
        customers_merge(customer_ids=sorted(customers), acting_user=TEST_ACTOR, reason="même personne")
    customers_merge(customer_ids=sorted({kept_a.customer_id, lost.customer_id}), acting_user=TEST_ACTOR,
                    reason="même personne")
    survivor = SourceRecord_customer(person[0].pk)

    persons_erase(customer_ids=[survivor], record_ids=[lost.pk], acting_user=TEST_ACTOR,
                  legal_holds=[LegalHold(source_code=service_client_source.code, reason="factures")])

    adjusted = list(SourceStats.objects.order_by("pk").values_list("pk", "record_count", "customer_count"))
    source_stats_recount(source_ids=[crm.pk, eshop.pk, service_client_source.pk])
    assert adjusted == list(SourceStats.objects.order_by("pk").values_list("pk", "record_count", "customer_count"))
    assert dict((pk, n) for pk, n, _ in adjusted)[crm.pk] == 1


def SourceRecord_customer(pk: int) -> int:
    from rcu.models import SourceRecord

    return SourceRecord.objects.get(pk=pk).customer_id


@pytest.mark.parametrize(("end", "town"), [
    ("\r\n", "Lyon"), ("\n", "Lyon"),
    ("\n", "İzmir"),  # lower case changes the text's length: read line by line
])
def test_a_large_shared_file_loses_only_the_persons_lines_and_keeps_the_others_bytes(
    crm, media_root, end, town,
):
    from pathlib import Path

    from rcu.models import ImportJob

    (person,) = ingest(crm, [{"id": "C-9", "first_name": "Ysaline", "last_name": "Quintarelli",
                              "email": "ysaline.q@exemple-rare.fr"}])
    lines = [f"id;first_name;last_name;email;city{end}"]
    lines += [f"C-{n};Jean;Martin{n};jean{n}@example.org;{town}{end}" for n in range(100, 3000)]
    lines.insert(500, f"C-9;Ysaline;Quintarelli;ysaline.q@exemple-rare.fr;Lyon{end}")
    lines.insert(900, f";Y;Q;YSALINE.Q@EXEMPLE-RARE.FR;Lyon{end}")  # no id, their e-mail: theirs
    lines.insert(1200, f"C-99;Ysa;Other;c-9@example.org;Lyon{end}")  # another id: not theirs
    path = Path(media_root) / "imports" / "shared.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(lines).encode())
    ImportJob.objects.create(source=crm, upload="imports/shared.csv", file_name="shared.csv",
                             encoding="utf-8", delimiter=";", status=ImportJob.Status.SUCCEEDED)

    report = persons_erase(customer_ids=[person.customer_id], acting_user=TEST_ACTOR)

    expected = [line for line in lines if "Quintarelli" not in line and "YSALINE" not in line]
    assert path.read_bytes() == "".join(expected).encode()
    assert report.count("file:import_upload rows") == 2
