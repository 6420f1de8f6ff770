"""Sources that delete: a record the source no longer has is kept and flagged, gives no
golden value, takes no part in matching, and comes back when the source sends it again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from rcu.models import Customer, ImportJob, MatchKey, MatchPair, PendingMatch, SourceRecord
from rcu.services.imports import import_job_create, import_job_run
from rcu.services.source_deletions import records_delete_at_source
from stewardship.models import MergeCandidate
from tests.factories import TEST_ACTOR, ingest
from tests.rcu.matching_db.conftest import match_now, partition
from tests.rcu.matching_db.people import JEANNE, JEANNE_ESHOP, JEANNE_SPARSE, MARC

pytestmark = pytest.mark.django_db


def _record(record) -> SourceRecord:
    return SourceRecord.objects.select_related("customer").get(pk=record.pk)


def _stored_pairs() -> set[tuple[int, int, str]]:
    return set(MatchPair.objects.values_list("record_a_id", "record_b_id", "levels"))


def _delete(source, external_id, user=None):
    return records_delete_at_source(
        source=source, external_ids=[external_id], acting_user=user, reason="deleted at source (test)"
    )


def test_a_deleted_record_is_kept_flagged_and_in_its_history(crm, eshop):
    [jeanne] = ingest(crm, [{"id": "C1", **JEANNE}])
    [again] = ingest(eshop, [{"id": "E1", **JEANNE_ESHOP}])
    match_now([jeanne, again])

    result = _delete(eshop, "E1")

    assert result.deleted == 1
    record = _record(again)
    assert record.deleted_at_source is not None
    assert record.raw == {"id": "E1", **JEANNE_ESHOP}  # nothing dropped
    last = record.history.order_by("-history_id").first()
    assert last.deleted_at_source == record.deleted_at_source
    assert last.history_change_reason == "deleted at source (test)"


def test_a_deleted_record_gives_no_golden_value(crm, eshop):
    [jeanne] = ingest(crm, [{"id": "C1", **{**JEANNE, "birth_date": ""}}])
    [again] = ingest(eshop, [{"id": "E1", **JEANNE_ESHOP}])
    match_now([jeanne, again])
    customer = _record(jeanne).customer
    assert customer == _record(again).customer
    assert str(customer.birth_date) == "1980-04-03"  # only the e-shop knew it

    _delete(eshop, "E1")

    customer.refresh_from_db()
    assert customer.birth_date is None
    assert {p["external_id"] for p in customer.provenance.values()} == {"C1"}
    # Still the same person: the deleted record stays with its customer, for lineage.
    assert _record(again).customer_id == customer.pk


def test_a_customer_whose_only_record_is_deleted_keeps_what_was_last_known(crm):
    [marc] = ingest(crm, [{"id": "C9", **MARC}])
    match_now([marc])

    _delete(crm, "C9")

    customer = _record(marc).customer
    assert customer.merged_into_id is None
    assert customer.last_name == "Dubois"


def test_a_deleted_record_takes_no_part_in_matching(crm, eshop, service_client_source):
    [jeanne] = ingest(crm, [{"id": "C1", **JEANNE}])
    [sparse] = ingest(service_client_source, [{"id": "S1", **JEANNE_SPARSE}])
    match_now([jeanne, sparse])
    assert MergeCandidate.objects.filter(status="open").count() == 1

    _delete(crm, "C1")

    assert not MatchKey.objects.filter(record_id=jeanne.pk).exists()
    assert not MatchPair.objects.filter(record_a_id=jeanne.pk).exists()
    assert not MatchPair.objects.filter(record_b_id=jeanne.pk).exists()
    assert not MergeCandidate.objects.filter(status="open").exists()
    # A newcomer who is the same person is not even compared with the deleted record.
    [newcomer] = ingest(eshop, [{"id": "E1", **JEANNE_ESHOP}])
    outcome = match_now([newcomer])[newcomer.pk]
    assert outcome.matched_record_id != jeanne.pk
    assert _record(newcomer).customer_id != _record(jeanne).customer_id
    assert not MatchPair.objects.filter(record_a_id=jeanne.pk).exists()


def test_a_full_run_changes_nothing_after_a_deletion(crm, eshop, run_match):
    records = ingest(crm, [{"id": "C1", **JEANNE}, {"id": "C2", **MARC}])
    records += ingest(eshop, [{"id": "E1", **JEANNE_ESHOP}, {"id": "E2", **MARC}])
    run_match(full=True)
    _delete(eshop, "E1")
    pairs, groups = _stored_pairs(), partition(records)

    run_match(full=True)

    assert _stored_pairs() == pairs
    assert partition(records) == groups
    # The deleted record was not split off into a customer of its own.
    assert _record(records[2]).customer_id == _record(records[0]).customer_id


def test_a_deleted_record_follows_its_customer_when_it_is_retired(crm, eshop, run_match):
    # Marc's e-shop record is deleted while alone in its customer, whose other record
    # then joins the CRM's Marc: the customer is retired and the deleted record follows.
    [crm_marc] = ingest(crm, [{"id": "C2", **MARC}])
    [gone, shop_marc] = ingest(eshop, [{"id": "E9", **MARC, "email": ""}, {"id": "E2", **MARC}])
    run_match(full=False)
    customer = _record(gone).customer_id
    assert customer == _record(shop_marc).customer_id == _record(crm_marc).customer_id

    _delete(eshop, "E9")
    run_match(full=True)

    record = _record(gone)
    assert record.customer.merged_into_id is None
    assert not Customer.objects.filter(records__pk=gone.pk, merged_into__isnull=False).exists()


def test_sending_a_deleted_record_again_restores_it(crm, eshop):
    [jeanne] = ingest(crm, [{"id": "C1", **JEANNE}])
    [again] = ingest(eshop, [{"id": "E1", **JEANNE_ESHOP}])
    match_now([jeanne, again])
    _delete(eshop, "E1")

    ingest(eshop, [{"id": "E1", **JEANNE_ESHOP}])  # the same payload as before

    record = _record(again)
    assert record.deleted_at_source is None
    assert MatchKey.objects.filter(record_id=again.pk).exists()
    assert PendingMatch.objects.filter(record_id=again.pk).exists()
    match_now([record])
    assert _record(again).customer_id == _record(jeanne).customer_id


def test_deleting_twice_or_an_unknown_record_changes_nothing(crm):
    [marc] = ingest(crm, [{"id": "C9", **MARC}])
    first = _delete(crm, "C9")
    deleted_at = _record(marc).deleted_at_source

    second = records_delete_at_source(
        source=crm, external_ids=["C9", "NOPE"], acting_user=TEST_ACTOR, reason="again"
    )

    assert (first.deleted, second.deleted, second.already_deleted) == (1, 0, 1)
    assert second.unknown == ["NOPE"]
    assert _record(marc).deleted_at_source == deleted_at
    assert _record(marc).history.count() == first.deleted + 1  # created, then deleted once


# --- The API -----------------------------------------------------------------


@pytest.fixture
def api(steward_marketing) -> APIClient:
    client = APIClient()
    client.force_authenticate(steward_marketing)
    return client


def test_the_api_deletes_a_record_of_a_source(crm, api, steward_marketing):
    [record] = ingest(crm, [{"id": "C/42", **MARC}])

    response = api.delete("/api/v1/sources/crm/records/C%2F42/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["external_id"], body["record_id"]) == ("deleted", "C/42", record.pk)
    assert body["customer_id"] == str(_record(record).customer.public_id)
    assert _record(record).deleted_at_source is not None
    assert _record(record).history.order_by("-history_id").first().history_user == steward_marketing
    again = api.delete("/api/v1/sources/crm/records/C%2F42/")
    assert again.status_code == 200 and again.json()["status"] == "already_deleted"
    assert api.get(f"/api/v1/records/{record.pk}/").json()["deleted_at_source"] is not None


def test_the_api_answers_404_for_a_record_the_source_never_sent(crm, api):
    assert api.delete("/api/v1/sources/crm/records/NEVER/").status_code == 404


def test_only_those_who_may_send_into_a_source_may_delete_from_it(
    crm, steward_service_client, auditor, outsider
):
    [record] = ingest(crm, [{"id": "C1", **MARC}])
    for user in (steward_service_client, auditor, outsider):
        client = APIClient()
        client.force_authenticate(user)
        response = client.delete("/api/v1/sources/crm/records/C1/")
        assert response.status_code in (403, 404), (user.username, response.status_code)
    assert APIClient().delete("/api/v1/sources/crm/records/C1/").status_code in (401, 403)
    assert _record(record).deleted_at_source is None


# --- Snapshot imports --------------------------------------------------------

HEADER = ("id;civility;first_name;last_name;birth_date;email;phone;mobile;address_line1;"
          "address_line2;postcode;city;country;updated")


def _write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def _row(external_id: str, first: str, last: str, email: str = "") -> str:
    birth = f"1980-01-0{len(first) % 9 + 1}"
    return f"{external_id};;{first};{last};{birth};{email};;;;;75001;Paris;FR;2024-01-01 10:00"


def _import(path: Path, source, *, snapshot: bool, force: bool = False) -> ImportJob:
    job, _ = import_job_create(source=source, path=path, snapshot=snapshot, acting_user=TEST_ACTOR)
    return import_job_run(job=job, match_after=False, force_snapshot=force)


FIVE = [_row(f"C{i}", name, "Martin") for i, name in enumerate(
    ["Anne", "Bruno", "Chloé", "David", "Emma"], start=1)]


def _deleted_ids() -> set[str]:
    return set(
        SourceRecord.objects.filter(deleted_at_source__isnull=False)
        .values_list("external_id", flat=True)
    )


def test_a_snapshot_deletes_the_records_it_does_not_hold(crm, tmp_path):
    _import(_write(tmp_path, "full.csv", FIVE), crm, snapshot=True)

    job = _import(_write(tmp_path, "next.csv", FIVE[:4]), crm, snapshot=True)

    assert job.status == "succeeded", job.message
    assert job.deleted_count == 1
    assert _deleted_ids() == {"C5"}
    record = SourceRecord.objects.get(external_id="C5")
    assert record.history.order_by("-history_id").first().history_change_reason == (
        f"deleted at source (snapshot import #{job.pk})"
    )


def test_a_row_rejected_in_a_snapshot_still_names_a_record_the_source_has(crm, tmp_path):
    _import(_write(tmp_path, "full.csv", FIVE), crm, snapshot=True)
    lines = []
    for i, name in enumerate(["Anne", "Bruno", "Chloé", "David"], start=1):
        row = dict.fromkeys(HEADER.split(";"), "") | {
            "id": f"C{i}", "first_name": name, "last_name": "Martin", "postcode": "75001",
            "city": "Paris", "updated": "2024-01-01 10:00",
        }
        if i == 2:
            row["first_name"] = {"nested": "value"}  # rejected, but C2 is still at the source
        lines.append(json.dumps(row))
    path = tmp_path / "next.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    job = _import(path, crm, snapshot=True)

    assert job.rejected_count == 1
    assert job.deleted_count == 1
    assert _deleted_ids() == {"C5"}


def test_a_snapshot_with_an_unreadable_row_deletes_nothing(crm, tmp_path):
    _import(_write(tmp_path, "full.csv", FIVE), crm, snapshot=True)

    job = _import(_write(tmp_path, "next.csv", [*FIVE[:3], "C4;;David"]), crm, snapshot=True)

    assert job.status == "succeeded"
    assert job.rejected_count == 1
    assert job.deleted_count == 0
    assert "nothing was deleted" in job.message
    assert _deleted_ids() == set()


def test_an_import_that_is_not_a_snapshot_deletes_nothing(crm, tmp_path):
    rows = [_row("C1", "Anne", "Martin"), _row("C2", "Bruno", "Martin")]
    _import(_write(tmp_path, "full.csv", rows), crm, snapshot=False)
    job = _import(_write(tmp_path, "one.csv", rows[:1]), crm, snapshot=False)
    assert job.deleted_count == 0
    assert not SourceRecord.objects.filter(deleted_at_source__isnull=False).exists()


def test_a_snapshot_that_would_delete_most_of_the_source_deletes_nothing(crm, tmp_path, settings):
    settings.RCU_SNAPSHOT_MAX_DELETED_PERCENT = 50
    rows = [_row(f"C{i}", name, "Martin") for i, name in enumerate(["Anne", "Bruno", "Chloé"], 1)]
    _import(_write(tmp_path, "full.csv", rows), crm, snapshot=True)

    job = _import(_write(tmp_path, "cut.csv", rows[:1]), crm, snapshot=True)

    assert job.status == "succeeded"
    assert job.deleted_count == 0
    assert "nothing was deleted" in job.message
    assert not SourceRecord.objects.filter(deleted_at_source__isnull=False).exists()
    forced = _import(_write(tmp_path, "cut2.csv", rows[:1]), crm, snapshot=True, force=True)
    assert forced.deleted_count == 2


def test_the_import_command_takes_a_snapshot(crm, tmp_path, capsys):
    rows = [_row("C1", "Anne", "Martin"), _row("C2", "Bruno", "Martin"), _row("C3", "Chloé", "Martin")]
    call_command("import_records", str(_write(tmp_path, "a.csv", rows)), "--source", "crm",
                 "--no-progress")
    call_command("import_records", str(_write(tmp_path, "b.csv", rows[:2])), "--source", "crm",
                 "--no-progress", "--snapshot")
    assert "deleted at source 1" in capsys.readouterr().out
    assert SourceRecord.objects.get(external_id="C3").deleted_at_source is not None


def test_a_steward_decision_on_a_deleted_record_does_not_break_a_full_run(
    crm, eshop, run_match, steward_marketing
):
    from rcu.models import PairDecision

    [jeanne] = ingest(crm, [{"id": "C1", **JEANNE}])
    [again] = ingest(eshop, [{"id": "E1", **JEANNE_ESHOP}])
    run_match(full=True)
    PairDecision.objects.create(
        record_a_id=min(jeanne.pk, again.pk), record_b_id=max(jeanne.pk, again.pk),
        kind=PairDecision.Kind.MUST_LINK, decided_by=steward_marketing,
    )
    _delete(eshop, "E1")
    history = _record(again).history.count()

    run_match(full=True)

    assert _record(again).customer.merged_into_id is None
    assert _record(jeanne).customer.merged_into_id is None
    assert _record(again).history.count() == history  # the deleted record was not touched
