"""An erasure finds an erased record's blocking keys by primary key (the table has no
index by record, for the imports' sake): every key of the person goes, the others'
stay, and deleting the records does not scan the keys' table again."""

from __future__ import annotations

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
