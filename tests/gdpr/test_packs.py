"""The access and portability pack: complete, with provenance, valid against its
published schema, redacted, logged, expiring."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import jsonschema
import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from gdpr.models import AccessLogEntry, AccessPack
from gdpr.selectors.scope import request_matches
from gdpr.services.packs import (
    SCHEMA_PATH,
    access_pack_build,
    access_pack_build_queued,
    access_packs_purge,
    pack_read,
)
from gdpr.services.scope import request_scope_set
from gdpr.tasks import access_packs_purge_task
from tests.gdpr.builders import (
    HELENE_CRM,
    HELENE_CRM_EDITED,
    HELENE_ESHOP,
    HELENE_SC,
    HELENE_SC_EDITED,
    LOOKALIKE_VALUES,
    STEWARD_REASON,
    access_request,
    seeded_rows,
)

pytestmark = pytest.mark.django_db

SCHEMA = json.loads(SCHEMA_PATH.read_text())


def confirm_suggested(request, dpo):
    suggested = [p.customer.public_id for p in request_matches(request=request).customers
                 if p.suggested]
    request_scope_set(request=request, customer_public_ids=suggested, record_ids=[],
                      acting_user=dpo)


@pytest.fixture
def built(subject_request, dpo):
    confirm_suggested(subject_request, dpo)
    pack = access_pack_build(request=subject_request, acting_user=dpo)
    return pack, pack_read(pack)


def test_every_seeded_value_is_in_the_pack_and_nothing_of_the_lookalike(scenario, built):
    _, document = built
    text = json.dumps(document, ensure_ascii=False)

    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    checked = 0
    for row in seeded_rows():
        for field, value in row.items():
            if value:
                assert value in text, f"{field}={value!r} missing from the pack"
                checked += 1
    assert checked > 50
    for value in LOOKALIKE_VALUES:
        assert value not in text, f"the look-alike's {value!r} is in the pack"
    assert str(scenario.lookalike.public_id) not in text


def test_each_golden_value_says_where_it_came_from(scenario, built):
    _, document = built
    (customer,) = document["customers"]

    assert customer["public_id"] == str(scenario.person.public_id)
    assert customer["values"]["address_line1"]["value"] == HELENE_CRM_EDITED["address_line1"]
    sent = {(row["id"], source) for row, source in (
        (HELENE_CRM, "crm"), (HELENE_SC, "service_client"), (HELENE_ESHOP, "eshop"))}
    for name, entry in customer["values"].items():
        provenance = entry["provenance"]
        assert (provenance["external_id"], provenance["source"]) in sent, name
    assert customer["values"]["email"]["provenance"]["pinned"] is True
    assert customer["values"]["mobile"]["provenance"]["source"] == "service_client"
    assert len(customer["merged_from"]) == 2


def test_every_record_is_there_as_received_with_its_history(built):
    _, document = built
    records = {r["external_id"]: r for r in document["records"]}

    assert set(records) == {"CRM-1001", "SC-2002", "ES-3003"}
    assert records["CRM-1001"]["raw"] == HELENE_CRM_EDITED
    assert records["SC-2002"]["raw"] == HELENE_SC_EDITED
    assert records["ES-3003"]["source"] == {"code": "eshop", "name": "ESHOP"}
    assert [h["values"]["raw"] for h in records["CRM-1001"]["history"]][:2] == [
        HELENE_CRM, HELENE_CRM_EDITED]
    assert records["CRM-1001"]["received_at"]


def test_the_merge_is_there_by_role_with_its_reason_redacted(scenario, built, steward_everywhere):
    _, document = built
    text = json.dumps(document, ensure_ascii=False)

    (decision,) = document["decisions"]
    assert decision["kind"] == "merge" and decision["by"] == "a data steward"
    assert decision["reason"] == "[redacted]" and decision["values_chosen"] == ["email"]
    assert str(scenario.person.public_id) in decision["customers"]
    assert STEWARD_REASON not in text
    for name in (steward_everywhere.username, steward_everywhere.first_name,
                 steward_everywhere.last_name, steward_everywhere.email):
        assert name not in text
    staff = {h["by"] for c in document["customers"] for h in c["history"]}
    assert staff <= {"RCU", "a data steward"} and "a data steward" in staff
    reasons = {h["reason"] for c in document["customers"] for h in c["history"]
               if h["by"] != "RCU"}
    assert reasons == {"[redacted]"}


def test_the_subscribers_sent_the_data_and_the_register_section_are_there(scenario, built):
    _, document = built

    (recipient,) = document["recipients"]
    assert recipient["name"] == "loyalty" and recipient["events"] >= 3
    assert document["processing"] == []


def test_building_marks_the_request_executed_logs_and_stores_the_file(
    scenario, subject_request, built, dpo, settings
):
    pack, _ = built
    subject_request.refresh_from_db()

    assert subject_request.executed_at is not None
    assert subject_request.steps.filter(action="executed", by=dpo).exists()
    assert list(AccessLogEntry.objects.filter(purpose="gdpr_pack_build")
                .values_list("customer_public_id", flat=True)) == [scenario.person.public_id]
    assert pack.size == len(pack.file.open("rb").read()) and len(pack.sha256) == 64
    days = django_settings.RCU_GDPR_PACK_DAYS
    assert abs(pack.expires_at - (pack.built_at + timedelta(days=days))) < timedelta(seconds=5)


def test_portability_gives_what_the_person_provided_in_json_and_csv(scenario, dpo, client):
    request = access_request(dpo=dpo, kind="portability")
    confirm_suggested(request, dpo)
    document = pack_read(access_pack_build(request=request, acting_user=dpo))

    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert document["kind"] == "portability"
    assert "decisions" not in document and "history" not in document["records"][0]
    client.force_login(dpo)
    response = client.get(f"/gdpr/requests/{request.pk}/pack.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert ("record", "eshop", "email", "h.lefevre84@gmail.com") in {
        (r["kind"], r["source"], r["field"], r["value"]) for r in rows}
    assert ("golden", "email", "helene.lefevre@orange.fr") in {
        (r["kind"], r["field"], r["value"]) for r in rows}


def test_an_empty_scope_or_another_kind_has_no_pack(scenario, dpo):
    from gdpr.services.packs import PackRefused

    with pytest.raises(PackRefused):
        access_pack_build(request=access_request(dpo=dpo), acting_user=dpo)
    erasure = access_request(dpo=dpo, kind="erasure")
    confirm_suggested(erasure, dpo)
    with pytest.raises(PackRefused):
        access_pack_build(request=erasure, acting_user=dpo)


def test_expired_packs_lose_their_file_and_keep_their_row(built, media_root,
                                                          django_capture_on_commit_callbacks):
    pack, _ = built
    path = pack.file.path
    AccessPack.objects.filter(pk=pack.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):  # the file goes once committed
        assert access_packs_purge_task() == 1

    pack.refresh_from_db()
    assert pack.deleted_at is not None and not pack.file
    import os
    assert not os.path.exists(path)
    assert access_packs_purge() == 0


def test_a_live_pack_is_not_purged(built):
    pack, _ = built

    assert access_packs_purge() == 0
    pack.refresh_from_db()
    assert pack.deleted_at is None and pack.file


def test_the_purge_is_scheduled_every_night():
    from gdpr.retention import RETENTION_PURGES

    tasks = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}

    assert "gdpr.tasks.retention_purge_task" in tasks
    assert access_packs_purge in [purge.purge for purge in RETENTION_PURGES]


def test_a_queued_build_delivered_twice_builds_once(scenario, subject_request, dpo, dpo_api,
                                                    settings, django_capture_on_commit_callbacks):
    confirm_suggested(subject_request, dpo)
    settings.RCU_GDPR_PACK_INLINE_MAX_RECORDS = 2

    with django_capture_on_commit_callbacks(execute=True):
        response = dpo_api.post(f"/api/v1/gdpr/requests/{subject_request.pk}/execute/")

    assert response.status_code == 202
    assert subject_request.packs.count() == 1  # built by the (eager) task
    again = access_pack_build_queued(request_id=subject_request.pk, user_id=dpo.pk)
    assert subject_request.packs.count() == 1 and again == subject_request.packs.get()
    assert subject_request.steps.filter(action="pack_queued").exists()


def test_a_record_once_wrongly_merged_with_the_lookalike_brings_none_of_her_data(
    crm, eshop, steward_everywhere, dpo
):
    """Hélène's e-shop record was merged into Sophie's customer by mistake, then detached:
    the pack shows the decisions, but not the history of Sophie's customer."""
    from stewardship.services.merge import customers_merge
    from stewardship.services.unmerge import records_detach
    from tests.factories import ingest
    from tests.gdpr.builders import LOOKALIKE

    (sophie,) = ingest(crm, [LOOKALIKE])
    (helene,) = ingest(eshop, [HELENE_ESHOP])
    wrong = customers_merge(customer_ids=[sophie.customer_id, helene.customer_id],
                            acting_user=steward_everywhere, survivor_id=sophie.customer_id)
    records_detach(customer_id=wrong.survivor_id, record_ids=[helene.pk],
                   acting_user=steward_everywhere, reason="not the same person")
    helene.refresh_from_db()
    request = access_request(dpo=dpo, email=HELENE_ESHOP["email"])
    request_scope_set(request=request, customer_public_ids=[helene.customer.public_id],
                      record_ids=[], acting_user=dpo)

    document = pack_read(access_pack_build(request=request, acting_user=dpo))

    text = json.dumps(document, ensure_ascii=False)
    assert [d["kind"] for d in document["decisions"]] == ["merge", "detach"]
    assert HELENE_ESHOP["email"] in text
    for value in LOOKALIKE_VALUES:
        assert value not in text, value
    assert str(sophie.customer.public_id) not in text
