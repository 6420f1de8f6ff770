"""Consents per purpose and channel: imported from consent columns, stated on customers,
merged (a withdrawal wins unless a grant is later), unmerged (each side gets its own back),
withdrawn by an objection, carried by events and erased with the person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from gdpr.consent_rules import StatementView, consents_in_force
from gdpr.models import Channel, Consent, ConsentStatement, Objection, StatementOrigin
from gdpr.selectors.consents import customer_consents
from gdpr.services.consent_erasure import person_erasing_consents
from gdpr.services.consents import (
    ConsentRefused,
    consent_record,
    customers_regrouped_follow,
    objection_lift,
    objection_record,
    objection_request_execute,
)
from gdpr.services.scope import request_scope_set
from rcu.ingestion.mapping import RowRejection
from rcu.ingestion.statements import parse_yes_no
from rcu.models import ChangeEvent, Customer, SourceRecord
from rcu.selectors.sources import source_row_mapper
from rcu.services.changes import system_actor
from rcu.services.sources import SourceConfigError
from stewardship.services.merge import customers_merge
from stewardship.services.unmerge import decision_undo
from tests.factories import PLAIN_FIELDS, TEST_ACTOR, ingest, make_source
from tests.gdpr.builders import access_request
from tests.gdpr.consent_world import (
    EMAIL,
    NEWSLETTER_EMAIL,
    a_no_copied_then_unmerged,
    at,
    consent_source,
    in_force,
    purpose,
    tomorrow,
)

pytestmark = pytest.mark.django_db

NEWSLETTER = ("newsletter", "email")
OFFERS_SMS = ("offers", "sms")


@pytest.fixture
def crm(db):
    return consent_source("crm", department="marketing", trust_rank=1)


@pytest.fixture
def shop(db):
    return consent_source("shop", department="ecommerce", trust_rank=2)


def person(external_id: str, *, last_name: str = "Lefèvre", **values) -> dict:
    return {"id": external_id, "first_name": "Hélène", "last_name": last_name,
            "updated": "2024-05-03 10:00", **values}


# --- reading a consent column ----------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("oui", True), ("Oui", True), (" YES ", True), ("y", True), ("1", True), ("true", True),
    ("non", False), ("NO", False), ("n", False), ("0", False), ("false", False), ("", None), ("  ", None),
])
def test_yes_no_values_are_read_in_french_and_english(text, expected):
    assert parse_yes_no(text) is expected


def test_a_consent_column_says_granted_or_withdrawn_with_its_date_and_a_blank_says_nothing(crm):
    (yes, no, blank) = ingest(crm, [
        person("C1", optin_email="oui", optin_date="14/02/2024", optin_sms="non"),
        person("C2", last_name="Martin", optin_email="N", optin_sms=""),
        person("C3", last_name="Durand", optin_email="", optin_sms=""),
    ])
    assert in_force(yes.customer) == {NEWSLETTER: True, OFFERS_SMS: False}
    statement = ConsentStatement.objects.get(record=yes, channel=EMAIL)
    assert timezone.localtime(statement.stated_at).date().isoformat() == "2024-02-14"  # Paris
    assert statement.origin == StatementOrigin.SOURCE and statement.holder_id == yes.customer_id
    # Undated: the record's business timestamp dates it.
    sms = ConsentStatement.objects.get(record=yes, channel=Channel.SMS)
    assert sms.stated_at == yes.business_ts
    assert in_force(no.customer) == {NEWSLETTER: False}
    assert in_force(blank.customer) == {}
    assert not ConsentStatement.objects.filter(record=blank).exists()


@pytest.mark.parametrize(("row", "field", "words"), [
    ({"optin_email": "peut-être"}, "optin_email", "neither yes nor no"),
    ({"optin_sms": "2"}, "optin_sms", "neither yes nor no"),
    ({"optin_email": "oui", "optin_date": "2024-02-14"}, "optin_date", "not a date in the format %d/%m/%Y"),
    # Dated 2042 by a typo, a "yes" would outlive every withdrawal.
    ({"optin_email": "oui", "optin_date": "14/02/2042"}, "optin_date", "in the future"),
])
def test_a_bad_consent_value_rejects_the_row_naming_the_column(crm, row, field, words):
    outcome = source_row_mapper(crm).map(7, person("C9", **row))
    assert isinstance(outcome, RowRejection)
    assert (outcome.line, outcome.external_id, outcome.field) == (7, "C9", field)
    assert words in outcome.reason


def test_a_consent_dated_tomorrow_is_taken_time_zones_are_allowed_for(crm):
    outcome = source_row_mapper(crm).map(7, person("C9", optin_email="oui", optin_date=tomorrow()))
    assert not isinstance(outcome, RowRejection)
    assert outcome.statements[0].granted is True


def test_a_business_timestamp_in_the_future_is_kept_out_and_flagged_not_the_row(crm):
    outcome = source_row_mapper(crm).map(7, person("C9", updated="2042-05-03 10:00"))
    assert not isinstance(outcome, RowRejection)
    assert outcome.business_ts is None
    assert "business_timestamp.future" in outcome.flags


def test_an_import_reports_bad_consent_values_as_row_errors_and_loads_the_rest(crm):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rcu.models import ImportRowError
    from rcu.services.imports import import_job_create, import_job_run

    columns = ["id", *PLAIN_FIELDS, "optin_email", "optin_date", "optin_sms", "updated"]
    rows = [
        {"id": "C1", "first_name": "Hélène", "last_name": "Lefèvre", "optin_email": "oui",
         "optin_date": "14/02/2024", "updated": "2024-05-03 10:00"},
        {"id": "C2", "first_name": "Jean", "last_name": "Martin", "optin_email": "peut-être",
         "updated": "2024-05-03 10:00"},
    ]
    text = "\n".join(";".join(row.get(c, "") for c in columns) for row in [dict(zip(columns, columns, strict=True)), *rows])
    upload = SimpleUploadedFile("crm.csv", (text + "\n").encode())
    job, _ = import_job_create(source=crm, acting_user=TEST_ACTOR, upload=upload)
    job = import_job_run(job=job, match_after=False)
    assert ImportRowError.objects.filter(job=job).count() == 1
    error = ImportRowError.objects.get(job=job)
    assert error.field == "optin_email" and "neither yes nor no" in error.reason
    assert ConsentStatement.objects.count() == 1


def test_a_record_saying_again_what_it_said_writes_nothing_and_a_change_is_a_new_statement(crm):
    (record,) = ingest(crm, [person("C1", optin_email="oui", optin_date="14/02/2024")])
    ingest(crm, [person("C1", first_name="Helene", optin_email="oui", optin_date="14/02/2024")])
    assert ConsentStatement.objects.filter(record=record).count() == 1
    ingest(crm, [person("C1", optin_email="non", optin_date="01/03/2024")])
    assert list(ConsentStatement.objects.filter(record=record).order_by("stated_at")
                .values_list("granted", flat=True)) == [True, False]
    assert in_force(record.customer_id) == {NEWSLETTER: False}


def test_a_mapping_may_name_only_declared_consent_targets(db):
    with pytest.raises(SourceConfigError) as refused:
        make_source("bad", department="marketing", extra={"fields": [
            {"source": "last_name", "attribute": "last_name"},
            {"source": "optin", "attribute": "consent:nonsense:email"},
        ]})
    assert "unknown statement target 'consent:nonsense:email'" in str(refused.value)
    with pytest.raises(SourceConfigError) as refused:
        make_source("bad", department="marketing", extra={"fields": [
            {"source": "last_name", "attribute": "last_name", "date": "when"},
        ]})
    assert "only a yes/no statement takes a date field" in str(refused.value)


# --- the rule ----------------------------------------------------------------------------

def test_the_rule_a_withdrawal_wins_unless_a_grant_is_later_than_every_withdrawal():
    def decide(*said: tuple[bool, str]) -> bool:
        views = [StatementView("k", granted, at(day), i) for i, (granted, day) in enumerate(said)]
        return consents_in_force(views)["k"].granted

    assert decide((True, "2024-01-01"), (False, "2024-02-01")) is False
    assert decide((False, "2024-01-01"), (True, "2024-02-01")) is True
    assert decide((True, "2024-03-01"), (False, "2024-02-01"), (False, "2024-01-01")) is True
    assert decide((True, "2024-03-01"), (False, "2024-04-01"), (True, "2024-02-01")) is False
    assert decide((True, "2024-01-01"), (False, "2024-01-01")) is False  # a tie: the "no"


# --- merges and unmerges ------------------------------------------------------------------

def test_merge_withdrawal_wins_over_an_earlier_grant_and_every_proof_is_kept(crm, shop):
    (a,) = ingest(crm, [person("C1", optin_email="oui", optin_date="01/01/2024")])
    (b,) = ingest(shop, [person("S1", optin_email="non", optin_date="01/06/2024")])
    customers_merge(customer_ids=[a.customer_id, b.customer_id], survivor_id=a.customer_id,
                    acting_user=TEST_ACTOR)
    assert in_force(a.customer_id) == {NEWSLETTER: False}
    assert not Consent.objects.filter(customer_id=b.customer_id).exists()  # retired: nothing in force
    assert set(ConsentStatement.objects.filter(holder_id=a.customer_id).values_list("record_id", flat=True)) \
        == {a.pk, b.pk}


def test_merge_a_grant_later_than_every_withdrawal_wins(crm, shop):
    (a,) = ingest(crm, [person("C1", optin_email="non", optin_date="01/01/2024")])
    (b,) = ingest(shop, [person("S1", optin_email="oui", optin_date="01/06/2024")])
    customers_merge(customer_ids=[a.customer_id, b.customer_id], survivor_id=a.customer_id,
                    acting_user=TEST_ACTOR)
    assert in_force(a.customer_id) == {NEWSLETTER: True}


def test_unmerge_restores_each_sides_consents(crm, shop, steward_everywhere):
    (a,) = ingest(crm, [person("C1", optin_email="oui", optin_date="01/01/2024", optin_sms="oui")])
    (b,) = ingest(shop, [person("S1", optin_email="non", optin_date="01/06/2024")])
    before_a, before_b = in_force(a.customer_id), in_force(b.customer_id)
    decision = customers_merge(customer_ids=[a.customer_id, b.customer_id], survivor_id=a.customer_id,
                               acting_user=TEST_ACTOR)
    assert in_force(a.customer_id) == {NEWSLETTER: False, OFFERS_SMS: True}
    decision_undo(decision_id=decision.pk, acting_user=steward_everywhere)
    assert in_force(a.customer_id) == before_a == {NEWSLETTER: True, OFFERS_SMS: True}
    assert in_force(b.customer_id) == before_b == {NEWSLETTER: False}


def test_a_no_stated_on_a_merged_customer_stays_on_both_sides_after_unmerge_a_yes_on_the_survivor(
    crm, shop, steward_everywhere,
):
    (a,) = ingest(crm, [person("C1", optin_email="oui", optin_date="01/01/2024", optin_sms="oui")])
    (b,) = ingest(shop, [person("S1", optin_email="oui", optin_date="01/01/2024", optin_sms="non")])
    decision = customers_merge(customer_ids=[a.customer_id, b.customer_id], survivor_id=a.customer_id,
                               acting_user=TEST_ACTOR)
    survivor = Customer.objects.get(pk=a.customer_id)
    consent_record(customer=survivor, purpose=purpose(), channel=EMAIL, granted=False,
                   wording="Désabonnement, formulaire v3", acting_user=TEST_ACTOR)
    consent_record(customer=survivor, purpose=purpose("offers"), channel=Channel.SMS, granted=True,
                   wording="Offres SMS v1", acting_user=TEST_ACTOR)
    assert in_force(survivor) == {NEWSLETTER: False, OFFERS_SMS: True}
    decision_undo(decision_id=decision.pk, acting_user=steward_everywhere)
    assert in_force(a.customer_id) == {NEWSLETTER: False, OFFERS_SMS: True}
    # The "no" was copied onto the customer merged in; the "yes" stayed with the survivor.
    assert in_force(b.customer_id) == {NEWSLETTER: False, OFFERS_SMS: False}


def test_after_an_unmerge_the_restored_customer_shows_the_statement_behind_its_copied_no(
    crm, shop, steward_everywhere,
):
    survivor, restored = a_no_copied_then_unmerged(crm, shop, undone_by=steward_everywhere)
    found = customer_consents(customer=restored)
    (no,) = [c for c in found.in_force if (c.purpose.code, c.channel) == NEWSLETTER]
    assert no.granted is False
    proofs = [s for s in found.statements if s.origin == StatementOrigin.API]
    assert [(s.granted, s.wording) for s in proofs] == [(False, "Désabonnement, formulaire v3")]
    assert no.statement_id in {s.pk for s in found.statements}  # the proof of the "no" in force
    # The survivor shows its own statement once.
    assert [(s.granted, s.wording, s.copy_of_id) for s in customer_consents(customer=survivor).statements
            if s.origin == StatementOrigin.API] == [(False, "Désabonnement, formulaire v3", None)]


def test_a_copied_no_is_shown_once_while_its_customers_are_merged(crm, shop):
    (a,) = ingest(crm, [person("C1")])
    (b,) = ingest(shop, [person("S1")])
    customers_merge(customer_ids=[a.customer_id, b.customer_id], survivor_id=a.customer_id,
                    acting_user=TEST_ACTOR)
    consent_record(customer=Customer.objects.get(pk=a.customer_id), purpose=purpose(), channel=EMAIL,
                   granted=False, wording="v3", acting_user=TEST_ACTOR)
    assert ConsentStatement.objects.filter(holder_id=a.customer_id, wording="v3").count() == 2  # and its copy
    shown = customer_consents(customer=Customer.objects.get(pk=a.customer_id)).statements
    assert [(s.wording, s.copy_of_id) for s in shown if s.wording == "v3"] == [("v3", None)]


def test_regrouping_customers_moves_statements_and_objections_in_the_same_queries_for_two_or_ten(crm, shop):
    """An unmerge giving back statements and objections to many customers: as many
    UPDATEs for ten as for two."""

    def queries(n: int) -> int:
        records = ingest(crm, [person(f"C{n}-{i}", last_name=f"Nom{n}x{i}", optin_email="oui",
                                      optin_date="01/01/2024") for i in range(n)])
        (kept,) = ingest(shop, [person(f"S{n}", last_name=f"Garde{n}")])
        for record in records:
            objection_record(customer=record.customer, reason="courrier", acting_user=TEST_ACTOR)
        merged = [r.customer_id for r in records]
        customers_merge(customer_ids=[kept.customer_id, *merged], survivor_id=kept.customer_id,
                        acting_user=TEST_ACTOR)
        consent_record(customer=Customer.objects.get(pk=kept.customer_id), purpose=purpose(), channel=EMAIL,
                       granted=False, wording="v3", acting_user=TEST_ACTOR)  # copied onto each merged
        assert set(Objection.objects.filter(stated_on_id__in=merged).values_list("holder_id", flat=True)) \
            == {kept.customer_id}
        # What an unmerge does to the customers and records, before it tells the hook.
        Customer.objects.filter(pk__in=merged).update(merged_into=None)
        for record, customer_id in zip(records, merged, strict=True):
            SourceRecord.objects.filter(pk=record.pk).update(customer_id=customer_id)
        with CaptureQueriesContext(connection) as captured:
            customers_regrouped_follow(record_ids=[r.pk for r in records], customer_ids=[kept.customer_id, *merged],
                                       acting_user=TEST_ACTOR)
        for record, customer_id in zip(records, merged, strict=True):
            assert Objection.objects.get(stated_on_id=customer_id).holder_id == customer_id
            assert ConsentStatement.objects.get(record=record).holder_id == customer_id
            assert ConsentStatement.objects.get(stated_on_id=customer_id, wording="v3").holder_id == customer_id
        return len(captured)

    assert queries(2) == queries(10)


def test_a_statement_on_a_retired_id_lands_on_its_survivor(crm, shop):
    (a,) = ingest(crm, [person("C1")])
    (b,) = ingest(shop, [person("S1")])
    customers_merge(customer_ids=[a.customer_id, b.customer_id], survivor_id=a.customer_id,
                    acting_user=TEST_ACTOR)
    retired = Customer.objects.get(pk=b.customer_id)
    statement = consent_record(customer=retired, purpose=purpose(), channel=EMAIL, granted=True,
                               wording="v1", acting_user=TEST_ACTOR)
    assert statement.stated_on_id == statement.holder_id == a.customer_id
    assert in_force(a.customer_id) == {NEWSLETTER: True}


# --- objections ---------------------------------------------------------------------------

def test_an_objection_withdraws_every_marketing_consent_and_records_why(crm):
    (record,) = ingest(crm, [person("C1", optin_email="oui", optin_date="01/01/2024", optin_sms="oui")])
    objection = objection_record(customer=record.customer, reason="Ne veut plus être sollicitée",
                                 acting_user=TEST_ACTOR)
    consents = in_force(record.customer_id)
    assert consents[NEWSLETTER] is False and consents[OFFERS_SMS] is False
    assert ("surveys", "email") not in consents  # not direct marketing: an objection leaves it
    withdrawn = ConsentStatement.objects.filter(origin=StatementOrigin.OBJECTION, holder=record.customer)
    assert withdrawn.count() == 4 * 4  # four marketing purposes, four channels
    assert objection.reason == "Ne veut plus être sollicitée" and objection.lifted_at is None


def test_lifting_an_objection_grants_nothing(crm):
    (record,) = ingest(crm, [person("C1", optin_email="oui", optin_date="01/01/2024")])
    objection = objection_record(customer=record.customer, reason="courrier", acting_user=TEST_ACTOR)
    objection_lift(objection=objection, reason="La personne a retiré son opposition", acting_user=TEST_ACTOR)
    assert Objection.objects.get(pk=objection.pk).lifted_at is not None
    assert in_force(record.customer_id)[NEWSLETTER] is False


def test_a_second_objection_on_an_objecting_person_is_refused_until_the_first_is_lifted(crm):
    (record,) = ingest(crm, [person("C1")])
    first = objection_record(customer=record.customer, reason="courrier", acting_user=TEST_ACTOR)
    with translation.override("en"), pytest.raises(ConsentRefused, match="already objects") as refused:
        objection_record(customer=record.customer, reason="appel", acting_user=TEST_ACTOR)
    assert refused.value.conflict
    assert list(Objection.objects.values_list("pk", flat=True)) == [first.pk]
    objection_lift(objection=first, reason="retirée", acting_user=TEST_ACTOR)
    again = objection_record(customer=record.customer, reason="appel", acting_user=TEST_ACTOR)
    assert again.pk != first.pk and again.lifted_at is None


def objection_request_of(customers, dpo):
    subject_request = access_request(dpo=dpo, kind="objection")
    request_scope_set(request=subject_request, customer_public_ids=[c.public_id for c in customers],
                      record_ids=[], acting_user=dpo)
    return subject_request


def test_executing_an_objection_request_twice_records_one_objection_per_person(crm, dpo):
    (objecting, other, third) = ingest(crm, [person("C1"), person("C2", last_name="Martin"),
                                             person("C3", last_name="Durand")])
    already = objection_record(customer=objecting.customer, reason="courrier", acting_user=TEST_ACTOR)
    subject_request = objection_request_of([objecting.customer, other.customer, third.customer], dpo)

    done = objection_request_execute(request=subject_request, reason="lettre", acting_user=dpo)
    # The person who already objected is left as is; the others object once each.
    assert sorted(o.holder_id for o in done) == sorted([other.customer_id, third.customer_id])
    with translation.override("en"), pytest.raises(ConsentRefused, match="already objects") as refused:
        objection_request_execute(request=subject_request, reason="lettre", acting_user=dpo)
    assert refused.value.conflict
    open_objections = Objection.objects.filter(lifted_at__isnull=True)
    assert sorted(open_objections.values_list("holder_id", flat=True)) == sorted(
        [objecting.customer_id, other.customer_id, third.customer_id])
    assert Objection.objects.get(holder_id=objecting.customer_id) == already
    subject_request.refresh_from_db()
    assert subject_request.executed_at is not None
    assert subject_request.steps.filter(action="objection_recorded").count() == 1


def test_a_scope_holding_a_customer_and_its_survivor_records_one_objection(crm, shop, dpo):
    (a,) = ingest(crm, [person("C1", optin_email="oui", optin_date="01/01/2024")])
    (b,) = ingest(shop, [person("S1")])
    subject_request = objection_request_of([a.customer, b.customer], dpo)
    customers_merge(customer_ids=[a.customer_id, b.customer_id], survivor_id=a.customer_id,
                    acting_user=TEST_ACTOR)

    (objection,) = objection_request_execute(request=subject_request, reason="lettre", acting_user=dpo)
    assert objection.holder_id == objection.stated_on_id == a.customer_id
    assert Objection.objects.count() == 1
    assert in_force(a.customer_id)[NEWSLETTER] is False


def test_lifting_an_objection_an_unmerge_moved_meanwhile_is_refused(crm, shop, steward_everywhere):
    (a,) = ingest(crm, [person("C1")])
    (b,) = ingest(shop, [person("S1")])
    objection_record(customer=b.customer, reason="courrier", acting_user=TEST_ACTOR)
    decision = customers_merge(customer_ids=[a.customer_id, b.customer_id], survivor_id=a.customer_id,
                               acting_user=TEST_ACTOR)
    read_before = Objection.objects.get()  # as a page shows it: held by the survivor
    assert read_before.holder_id == a.customer_id
    decision_undo(decision_id=decision.pk, acting_user=steward_everywhere)  # back to b

    with translation.override("en"), pytest.raises(ConsentRefused, match="moved to another customer") as refused:
        objection_lift(objection=read_before, reason="retirée", acting_user=TEST_ACTOR)
    assert refused.value.conflict
    moved = Objection.objects.get()
    assert moved.holder_id == b.customer_id and moved.lifted_at is None
    objection_lift(objection=moved, reason="retirée", acting_user=TEST_ACTOR)  # read again: lifted
    assert Objection.objects.get().lifted_at is not None


# --- events -------------------------------------------------------------------------------

def test_a_change_of_consents_is_an_update_event_carrying_the_consents(crm):
    (record,) = ingest(crm, [person("C1", optin_email="oui", optin_date="01/01/2024")])
    event = ChangeEvent.objects.filter(customer_id=record.customer_id, type=ChangeEvent.Type.UPDATED,
                                       changes__has_key="consents").latest("version")
    assert event.changes == {"consents": {"newsletter": {"email": True}}}
    consent_record(customer=record.customer, purpose=purpose(), channel=EMAIL, granted=False,
                   wording="v2", acting_user=system_actor("test"))
    latest = ChangeEvent.objects.filter(customer_id=record.customer_id).latest("version")
    assert latest.changes == {"consents": {"newsletter": {"email": False}}}
    assert latest.version == event.version + 1


def test_events_show_an_objecting_person_as_saying_no_until_the_objection_is_lifted(crm):
    (record,) = ingest(crm, [person("C1", optin_email="oui", optin_date="01/01/2024")])
    objection = objection_record(customer=record.customer, reason="lettre", acting_user=TEST_ACTOR)
    ingest(crm, [person("C1", optin_email="oui", optin_date=tomorrow())])  # a later yes

    def last_consents() -> dict:
        return ChangeEvent.objects.filter(customer_id=record.customer_id, changes__has_key="consents") \
            .latest("version").changes["consents"]

    assert in_force(record.customer_id)[NEWSLETTER] is True  # in force, by the rule…
    assert last_consents()["newsletter"] == {"email": False, "phone": False, "post": False, "sms": False}
    objection_lift(objection=objection, reason="retirée", acting_user=TEST_ACTOR)
    assert last_consents()["newsletter"]["email"] is True  # …and shown once lifted


def test_a_statement_that_changes_nothing_in_force_writes_no_event(crm):
    (record,) = ingest(crm, [person("C1", optin_email="non", optin_date="01/03/2024")])
    count = ChangeEvent.objects.filter(customer_id=record.customer_id).count()
    consent_record(customer=record.customer, purpose=purpose(), channel=EMAIL, granted=False,
                   wording="v2", acting_user=TEST_ACTOR)
    assert ChangeEvent.objects.filter(customer_id=record.customer_id).count() == count


def test_a_new_subscribers_snapshot_carries_the_consents(crm):
    from rcu.models import Subscription
    from rcu.services.snapshots import subscription_snapshot_continue

    (record,) = ingest(crm, [person("C1", optin_email="oui", optin_date="01/01/2024")])
    subscription = Subscription.objects.create(
        name="crm-sync", target_url="https://crm.example.com/hook", purpose="marketing",
        secret="whsec_" + "a" * 32, snapshot_requested_at=timezone.now(),
    )
    subscription_snapshot_continue(subscription_id=subscription.pk)
    event = ChangeEvent.objects.get(audience=subscription, customer_id=record.customer_id)
    assert event.changes["consents"] == {"newsletter": {"email": True}}
    assert event.changes["last_name"] == "Lefèvre"


# --- erasure ------------------------------------------------------------------------------

def test_an_erasure_deletes_the_persons_statements_consents_and_objections(crm):
    (gone, kept) = ingest(crm, [
        person("C1", optin_email="oui", optin_date="01/01/2024"),
        person("C2", last_name="Martin", optin_email="oui", optin_date="01/01/2024"),
    ])
    objection_record(customer=gone.customer, reason="opposition", acting_user=TEST_ACTOR)
    preview = person_erasing_consents(customer_ids=[gone.customer_id], record_ids=[gone.pk], public_ids=[],
                                      values=frozenset(), acting_user=TEST_ACTOR, preview=True)
    assert ConsentStatement.objects.filter(holder=gone.customer).exists()
    counts = person_erasing_consents(customer_ids=[gone.customer_id], record_ids=[gone.pk], public_ids=[],
                                     values=frozenset(), acting_user=TEST_ACTOR)
    assert counts == preview and {c.store for c in counts} == {
        "gdpr.Consent", "gdpr.ConsentStatement", "gdpr.Objection"}
    assert not ConsentStatement.objects.filter(holder=gone.customer).exists()
    assert not Objection.objects.exists()
    assert in_force(kept.customer_id) == {NEWSLETTER: True}


def test_erasing_a_record_wrongly_merged_leaves_its_customer_with_the_consents_of_the_rest(crm, shop):
    from rcu.services.erasure import persons_erase

    (kept,) = ingest(crm, [person("C1", optin_email="non", optin_date="01/01/2024")])
    (erased,) = ingest(shop, [person("S1", last_name="Martin", optin_email="oui", optin_date="01/06/2024")])
    customers_merge(customer_ids=[kept.customer_id, erased.customer_id], survivor_id=kept.customer_id,
                    acting_user=TEST_ACTOR)
    assert in_force(kept.customer_id) == {NEWSLETTER: True}  # the later yes was the other person's
    since = ChangeEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    persons_erase(customer_ids=[], record_ids=[erased.pk], acting_user=TEST_ACTOR)
    assert in_force(kept.customer_id) == {NEWSLETTER: False}
    told = ChangeEvent.objects.filter(pk__gt=since, customer_id=kept.customer_id,
                                      type="customer.updated")
    assert any("consents" in event.changes for event in told)


def test_a_statement_cannot_be_dated_in_the_future(crm):
    from gdpr.services.consents import ConsentRefused

    (record,) = ingest(crm, [person("C1")])
    with pytest.raises(ConsentRefused):
        consent_record(customer=record.customer, purpose=purpose(), channel=EMAIL, granted=True,
                       wording="v1", stated_at=timezone.now() + timedelta(days=1), acting_user=TEST_ACTOR)


def test_mapping_target_codes_are_offered_per_purpose_and_channel(db):
    from rcu import hooks

    targets = hooks.statement_targets()
    assert NEWSLETTER_EMAIL in targets and "consent:profiling:post" in targets
    assert len(targets) == 5 * 4


def test_records_written_by_copy_state_their_consents_as_the_orm_path_does(crm, settings):
    """PostgreSQL writes batches of new records with COPY: their statements are the same."""
    from rcu.db import is_postgresql

    if not is_postgresql():
        pytest.skip("COPY is PostgreSQL's")
    settings.RCU_COPY_MIN_ROWS = 1
    records = ingest(crm, [person(f"C{i}", last_name=f"Nom{i}", optin_email="oui" if i % 2 else "non",
                                  optin_date="01/02/2024") for i in range(4)])
    assert [in_force(r.customer_id)[NEWSLETTER] for r in records] == [False, True, False, True]
    assert ConsentStatement.objects.filter(record__in=records).count() == 4
