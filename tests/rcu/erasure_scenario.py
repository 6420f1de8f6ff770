"""A person with unusual canary values spread through everything RCU keeps, for the
erasure tests (SQLite: ORM scan; PostgreSQL: pg_dump scan)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models

from gdpr.services.packs import access_pack_build
from gdpr.services.requests import subject_request_create
from gdpr.services.scope import request_scope_set
from rcu import hooks
from rcu.models import Customer, GenericValue, ImportJob, MatchRun, MatchSettings, SourceRecord
from rcu.roles import Role
from rcu.services.changes import change_save
from rcu.services.imports import import_job_create, import_job_run
from stewardship.services.merge import customers_merge
from stewardship.services.reject import candidate_reject
from stewardship.services.unmerge import decision_undo
from tests.factories import TEST_ACTOR, frozen_default_model, ingest, make_user
from tests.stewardship.ledger import candidate_between

EMAIL = "zqx.canary-9137@exemple-rare.fr"
SURNAME = "Qwertzhüber"
PHONE = "+33 6 12 98 76 54"
CANARIES = (EMAIL, SURNAME, PHONE)
# Every form a canary may be written in: raw, lower-case, unaccented, E.164, national.
CANARY_FORMS = (
    EMAIL, EMAIL.upper(), SURNAME, SURNAME.lower(), "qwertzhuber", "QWERTZHUBER",
    PHONE, "+33612987654", "0612987654", "06 12 98 76 54", "06.12.98.76.54",
)
LONG = "x" * 400  # an address line over the documented limit: the row is rejected


def folded(text: str) -> str:
    """Lower-case, accents stripped: how the scan compares."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


NEEDLES = tuple(dict.fromkeys(folded(f) for f in CANARY_FORMS))


def canaries_in(text: str) -> list[str]:
    haystack = folded(text)
    return [n for n in NEEDLES if n in haystack]


@dataclass
class Scenario:
    person_customer_id: int
    person_record_ids: list[int]
    neighbour_customer_id: int
    neighbour_state: dict[str, Any]
    other_ids: list[int]
    rejects_path: Path
    upload_path: Path


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    header = ["id", "civility", "first_name", "last_name", "birth_date", "email", "phone", "mobile",
              "address_line1", "address_line2", "postcode", "city", "country", "updated"]
    lines = [";".join(header)] + [";".join(row.get(h, "") for h in header) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def seed_person(sources: dict[str, Any], media_root: Path) -> Scenario:
    """The person in three sources, edited, wrongly merged then unmerged, rejected by a
    steward, in a shared upload and rejects file, in the engine's tables."""
    frozen_default_model()
    crm, sc, eshop = sources["crm"], sources["service_client"], sources["eshop"]
    steward = make_user("steward_all", roles=[Role.STEWARD],
                        departments=["marketing", "service-client", "ecommerce"])
    dpo = make_user("dpo_scan", roles=[Role.DPO])
    # The neighbour: a Martin of the same town, who must come out untouched.
    (neighbour,) = ingest(crm, [{"id": "C-1001", "first_name": "Claire", "last_name": "Martin",
                                 "email": "claire.martin@example.org", "phone": "0478000001",
                                 "postcode": "69003", "city": "Lyon", "updated": "2024-01-01 10:00"}])
    (durand,) = ingest(eshop, [{"id": "E-2002", "first_name": "Paul", "last_name": "Durand",
                               "email": "paul.durand@example.org", "postcode": "69003", "city": "Lyon",
                               "updated": "2024-01-01 10:00"}])
    person = ingest(crm, [{"id": "C-9137", "first_name": "Zoltan", "last_name": SURNAME,
                           "email": EMAIL, "phone": PHONE, "postcode": "69003", "city": "Lyon",
                           "updated": "2024-01-01 10:00"}])
    # Several edits: re-imports with changes.
    ingest(crm, [{"id": "C-9137", "first_name": "Zoltán", "last_name": SURNAME, "email": EMAIL,
                  "phone": "06 12 98 76 54", "postcode": "69003", "city": "Lyon",
                  "updated": "2024-02-01 10:00"}])
    ingest(crm, [{"id": "C-9137", "first_name": "Zoltán", "last_name": SURNAME.upper(), "email": EMAIL.upper(),
                  "phone": "0612987654", "address_line1": "3 rue Qwertzhüber", "postcode": "69003",
                  "city": "Lyon", "updated": "2024-03-01 10:00"}])
    person += ingest(sc, [{"id": "S-9137", "first_name": "Zoltan", "last_name": SURNAME,
                           "phone": "06.12.98.76.54", "city": "Lyon", "updated": "2024-01-05 10:00"}])
    person += ingest(eshop, [{"id": "E-9137", "last_name": SURNAME, "email": EMAIL,
                              "updated": "2024-01-06 10:00"}])
    person_customer = SourceRecord.objects.get(pk=person[0].pk).customer_id
    others = {SourceRecord.objects.get(pk=r.pk).customer_id for r in person} - {person_customer}
    if others:  # the three are one person: a steward joins them
        customers_merge(customer_ids=[person_customer, *others], survivor_id=person_customer,
                        acting_user=steward, reason=f"Même personne : {SURNAME}, {EMAIL}")

    # A wrong merge into the neighbour, then its undo: the neighbour's history and
    # events held the person's values for a while.
    wrong = customers_merge(customer_ids=[neighbour.customer_id, person_customer],
                            survivor_id=neighbour.customer_id, acting_user=steward,
                            choices={"email": person[0].pk, "phone": person[0].pk},
                            reason="fusion par erreur")
    decision_undo(decision_id=wrong.pk, acting_user=steward, reason="erreur")
    # A steward rejects a candidate between the person and Durand.
    candidate = candidate_between(SourceRecord.objects.get(pk=person[2].pk), durand)
    candidate_reject(candidate_id=candidate.pk, acting_user=steward, reason=f"pas {SURNAME}")

    # An uploaded file shared with other people: one of the person's rows is rejected
    # (too long), one row without id carries their e-mail; others' rows too.
    upload = SimpleUploadedFile("shared.csv", csv_bytes([
        {"id": "C-9137", "first_name": "Zoltán", "last_name": SURNAME, "email": EMAIL,
         "phone": PHONE, "address_line1": LONG, "city": "Lyon", "updated": "2024-04-01 10:00"},
        {"id": "", "first_name": "Z", "last_name": "Q", "email": EMAIL, "updated": "2024-04-01 10:00"},
        {"id": "C-3003", "first_name": "Jeanne", "last_name": "Martin", "email": "jeanne.martin@example.org",
         "address_line1": LONG, "city": "Lyon", "updated": "2024-04-01 10:00"},
        {"id": "C-3004", "first_name": "Luc", "last_name": "Martin", "email": "luc.martin@example.org",
         "city": "Lyon", "updated": "2024-04-01 10:00"},
    ]))
    job, _ = import_job_create(source=crm, acting_user=TEST_ACTOR, upload=upload)
    job = import_job_run(job=job)
    assert job.rejected_count == 3 and job.rejects_file, (job.status, job.message)

    # The engine's tables: a term-frequency table, a generic value, a run's skipped keys.
    settings_row = MatchSettings.objects.get(pk=1)
    settings_row.model = {"term_frequencies": {"last_name": {
        "total": 80, "shared": 0.05, "counts": {"qwertzhuber": 3, "martin": 4}}}}
    change_save(settings_row, acting_user=TEST_ACTOR, reason="model trained")
    GenericValue.objects.create(kind=GenericValue.Kind.EMAIL, value=EMAIL, origin=GenericValue.Origin.DETECTED)
    MatchRun.objects.create(status=MatchRun.Status.SUCCEEDED, skipped_keys=[f"em:{EMAIL}", "ln:MARTIN"])
    # The access log: the DPO read the person's customer. An access request answered
    # with a pack (its file holds everything of the person).
    hooks.personal_data_read(user=dpo, customers=[Customer.objects.get(pk=person_customer)], purpose="test")
    request = subject_request_create(kind="access", received_on=date(2026, 11, 20),
                                     subject={"customer_number": "C-9137"}, acting_user=dpo)
    request_scope_set(request=request, record_ids=[],
                      customer_public_ids=[Customer.objects.get(pk=person_customer).public_id],
                      acting_user=dpo)
    pack = access_pack_build(request=request, acting_user=dpo)
    assert pack.file and canaries_in(Path(pack.file.path).read_text(encoding="utf-8"))

    neighbour_customer = SourceRecord.objects.get(pk=neighbour.pk).customer_id
    return Scenario(
        person_customer_id=person_customer,
        person_record_ids=[r.pk for r in person],
        neighbour_customer_id=neighbour_customer,
        neighbour_state=neighbour_snapshot(neighbour_customer),
        other_ids=[neighbour.pk, durand.pk],
        rejects_path=Path(job.rejects_file),
        upload_path=Path(job.upload.path),
    )


def neighbour_snapshot(customer_id: int) -> dict[str, Any]:
    customer = Customer.objects.values(
        "public_id", "first_name", "last_name", "email", "phone", "city", "postcode"
    ).get(pk=customer_id)
    records = list(SourceRecord.objects.filter(customer_id=customer_id).values_list("external_id", "raw"))
    return {"customer": customer, "records": records}


def text_columns(model: type[models.Model]) -> list[str]:
    return [
        f.attname for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
    ]


def residue_by_orm() -> dict[str, list[str]]:
    """Every text and JSON column of every installed model, scanned for the canaries."""
    found: dict[str, list[str]] = {}
    for model in apps.get_models(include_auto_created=True):
        columns = text_columns(model)
        if not columns:
            continue
        for row in model._default_manager.values_list(*columns):
            hits = canaries_in(repr(row))
            if hits:
                found.setdefault(model._meta.label, []).extend(hits)
    return found


def residue_in_files(root: Path) -> dict[str, list[str]]:
    found = {}
    for path in root.rglob("*") if root.exists() else []:
        if path.is_file():
            hits = canaries_in(path.read_bytes().decode("utf-8", errors="replace"))
            if hits:
                found[str(path)] = hits
    return found


def job_of(path: Path) -> ImportJob:
    return ImportJob.objects.get(rejects_file=str(path))
