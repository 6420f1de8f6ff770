"""Erasure (GDPR art. 17): nothing of the person is left, others are untouched, the
erased ids answer 410 Gone, and the preview counts what the erasure does."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import TestCase

from gdpr.models import AccessLogEntry
from rcu.models import (
    ChangeEvent,
    Customer,
    ErasedCustomer,
    MatchSettings,
    SourceRecord,
    public_id_hash,
)
from rcu.roles import Role
from rcu.services.erasure import persons_erase, persons_erase_preview
from tests.factories import make_user
from tests.rcu.erasure_scenario import (
    canaries_in,
    neighbour_snapshot,
    residue_by_orm,
    residue_in_files,
    seed_person,
)


@pytest.fixture
def erasure_dpo(db):
    return make_user("dpo_erasure", roles=[Role.DPO])


@pytest.mark.django_db
def test_an_erasure_leaves_no_canary_in_any_table_or_file(sources, media_root, erasure_dpo):
    scenario = seed_person(sources, media_root)
    assert residue_by_orm(), "the scenario must spread the person's values before the erasure"
    assert residue_in_files(media_root)

    with TestCase.captureOnCommitCallbacks(execute=True):
        report = persons_erase(customer_ids=[scenario.person_customer_id], acting_user=erasure_dpo)

    assert residue_by_orm() == {}
    assert residue_in_files(media_root) == {}
    assert report.records == 3
    assert report.count("rcu.SourceRecord") == 3
    assert report.count("rcu.HistoricalCustomer", "scrubbed") >= 1  # the neighbour's wrong-merge rows
    assert report.count("file:import_rejects", "rewritten") == 1
    assert report.count("file:import_upload", "rewritten") == 1


@pytest.mark.django_db
def test_the_neighbour_of_the_same_surname_and_town_and_others_rows_are_untouched(
    sources, media_root, erasure_dpo
):
    scenario = seed_person(sources, media_root)
    persons_erase(customer_ids=[scenario.person_customer_id], acting_user=erasure_dpo)

    assert neighbour_snapshot(scenario.neighbour_customer_id) == scenario.neighbour_state
    assert SourceRecord.objects.filter(pk__in=scenario.other_ids).count() == 2
    rejects = scenario.rejects_path.read_text(encoding="utf-8")
    assert "C-3003" in rejects and "jeanne.martin@example.org" in rejects
    upload = scenario.upload_path.read_text(encoding="utf-8")
    assert "C-3003" in upload and "C-3004" in upload and "C-9137" not in upload
    assert upload.splitlines()[0].startswith("id;civility;first_name")
    tables = MatchSettings.objects.get(pk=1).model["term_frequencies"]["last_name"]["counts"]
    assert tables == {"martin": 4}


@pytest.mark.django_db
def test_every_erased_id_answers_gone_and_subscribers_get_id_only_events(
    sources, media_root, erasure_dpo, client
):
    scenario = seed_person(sources, media_root)
    public_id = Customer.objects.get(pk=scenario.person_customer_id).public_id
    events_before = ChangeEvent.objects.filter(customer_id=scenario.person_customer_id).count()

    persons_erase(customer_ids=[scenario.person_customer_id], acting_user=erasure_dpo)

    assert ErasedCustomer.objects.filter(public_id_hash=public_id_hash(public_id)).exists()
    assert not ErasedCustomer.objects.filter(public_id_hash=str(public_id)).exists()
    client.force_login(erasure_dpo)
    response = client.get(f"/api/v1/customers/{public_id}/")
    assert response.status_code == 410
    assert response.json()["code"] == "erased"
    assert client.get(f"/customers/{public_id}/").status_code == 410
    events = ChangeEvent.objects.filter(customer_id=scenario.person_customer_id).order_by("version")
    assert events.count() == events_before + 1
    *tombstones, erased = events
    assert all(e.changes == {} and e.data == {} for e in tombstones)
    assert erased.type == ChangeEvent.Type.ERASED and erased.changes == {}
    assert set(erased.data) == {"source_refs"}  # each source's own ids, for it alone
    # The access log keeps the entry, under a pseudonym.
    assert not AccessLogEntry.objects.filter(customer_public_id=public_id).exists()
    assert AccessLogEntry.objects.count() >= 1


@pytest.mark.django_db
def test_the_preview_counts_what_the_erasure_then_does_and_writes_nothing(sources, media_root, erasure_dpo):
    scenario = seed_person(sources, media_root)
    upload_before = scenario.upload_path.read_bytes()

    preview = persons_erase_preview(customer_ids=[scenario.person_customer_id], acting_user=erasure_dpo)

    assert preview.preview and preview.records == 3
    assert SourceRecord.objects.filter(pk__in=scenario.person_record_ids).count() == 3
    assert scenario.upload_path.read_bytes() == upload_before
    assert canaries_in(upload_before.decode())
    done = persons_erase(customer_ids=[scenario.person_customer_id], acting_user=erasure_dpo)
    assert preview.totals() == done.totals()


@pytest.mark.django_db
def test_a_record_of_a_customer_outside_the_scope_goes_and_its_customer_is_recomputed(
    sources, erasure_dpo
):
    from stewardship.services.merge import customers_merge
    from tests.factories import ingest

    (kept,) = ingest(sources["crm"], [{"id": "C-1", "first_name": "Anne", "last_name": "Martin",
                                       "updated": "2024-01-01 10:00"}])
    (theirs,) = ingest(sources["eshop"], [{"id": "E-1", "first_name": "Anne", "last_name": "Martin",
                                           "email": "zqx.canary-9137@exemple-rare.fr",
                                           "updated": "2024-01-02 10:00"}])
    customer_id = SourceRecord.objects.get(pk=kept.pk).customer_id
    retired_public_id = SourceRecord.objects.get(pk=theirs.pk).customer.public_id
    customers_merge(customer_ids=[customer_id, SourceRecord.objects.get(pk=theirs.pk).customer_id],
                    survivor_id=customer_id, acting_user=erasure_dpo)
    assert Customer.objects.get(pk=customer_id).email == "zqx.canary-9137@exemple-rare.fr"

    report = persons_erase(customer_ids=[], record_ids=[theirs.pk], acting_user=erasure_dpo)

    survivor = Customer.objects.get(pk=customer_id)
    assert survivor.email == "" and survivor.last_name.upper() == "MARTIN"
    assert report.records == 1 and report.customers == 0
    assert not SourceRecord.objects.filter(pk=theirs.pk).exists()
    # The retired customer merged into the survivor is not the person: it still resolves.
    assert not ErasedCustomer.objects.filter(public_id_hash=public_id_hash(retired_public_id)).exists()
    assert residue_by_orm() == {}


@pytest.mark.django_db
def test_each_source_is_told_its_own_ids_and_a_replay_sends_tombstones(sources, erasure_dpo):
    from rcu.services.deliveries import delivery_body
    from rcu.services.subscriptions import subscription_create
    from tests.factories import TEST_ACTOR, ingest

    crm_feed = subscription_create(name="crm-feed", target_url="https://crm.example.org/hook",
                                   purpose="service", source="crm", attributes=["email"],
                                   acting_user=TEST_ACTOR).subscription
    marketing = subscription_create(name="marketing", target_url="https://mk.example.org/hook",
                                    purpose="marketing", attributes=["email", "last_name"],
                                    acting_user=TEST_ACTOR).subscription
    (record,) = ingest(sources["crm"], [{"id": "C-77", "last_name": "Qwertzhüber",
                                         "email": "zqx.canary-9137@exemple-rare.fr"}])
    customer_id = record.customer_id

    persons_erase(customer_ids=[customer_id], acting_user=erasure_dpo)

    created, erased = ChangeEvent.objects.filter(customer_id=customer_id).order_by("version")
    assert erased.type == ChangeEvent.Type.ERASED
    assert delivery_body(crm_feed, erased)["data"]["source_ids"] == ["C-77"]
    assert "source_ids" not in delivery_body(marketing, erased)["data"]
    assert "source_refs" not in delivery_body(marketing, erased)["data"]
    replayed = delivery_body(marketing, created)
    assert replayed["type"] == "customer.created" and replayed["data"]["attributes"] == {}
    assert canaries_in(repr(replayed)) == []


@pytest.mark.django_db
def test_a_legal_hold_keeps_only_the_records_of_the_source_it_names(sources, media_root, erasure_dpo):
    from rcu.services.erasure import LegalHold

    scenario = seed_person(sources, media_root)
    held_id = SourceRecord.objects.get(source__code="eshop", external_id="E-9137").pk

    report = persons_erase(
        customer_ids=[scenario.person_customer_id], acting_user=erasure_dpo,
        legal_holds=[LegalHold(source_code="eshop", reason="factures : 10 ans (code de commerce)")],
    )

    held = SourceRecord.objects.get(pk=held_id)
    assert held.customer_id is None and held.deleted_at_source is not None
    assert report.count("rcu.SourceRecord", "kept under a legal hold") == 1
    assert report.count("rcu.SourceRecord") == 2
    assert not Customer.objects.filter(pk=scenario.person_customer_id).exists()
    assert not SourceRecord.history.filter(id=held_id).exists()
    # The held record is the only place the person's values are left.
    residue = residue_by_orm()
    assert set(residue) == {"rcu.SourceRecord"}
    SourceRecord.objects.filter(pk=held_id).delete()
    SourceRecord.history.filter(id=held_id).delete()
    assert residue_by_orm() == {}


@pytest.mark.django_db
def test_a_shared_file_keeps_a_household_members_row_that_shares_the_persons_phone(
    sources, media_root, erasure_dpo
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rcu.services.imports import import_job_create, import_job_run
    from tests.factories import TEST_ACTOR
    from tests.rcu.erasure_scenario import csv_bytes

    upload = SimpleUploadedFile("household.csv", csv_bytes([
        {"id": "H-1", "first_name": "Inès", "last_name": "Roux", "phone": "+33 6 55 44 33 22"},
        {"id": "H-2", "first_name": "Marc", "last_name": "Roux", "phone": "+33 6 55 44 33 22"},
        {"id": "", "first_name": "I", "last_name": "R", "phone": "06 55 44 33 22"},
    ]))
    job, _ = import_job_create(source=sources["crm"], acting_user=TEST_ACTOR, upload=upload)
    job = import_job_run(job=job, match_after=False)
    ines = SourceRecord.objects.get(source=sources["crm"], external_id="H-1")

    persons_erase(customer_ids=[ines.customer_id], acting_user=erasure_dpo)

    rows = Path(job.upload.path).read_text(encoding="utf-8").splitlines()
    assert [row.split(";")[0] for row in rows] == ["id", "H-2"]
    assert SourceRecord.objects.filter(external_id="H-2").exists()
