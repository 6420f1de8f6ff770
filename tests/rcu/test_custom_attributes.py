"""Custom attributes: an administrator adds "birthplace" (a name) and "national id" (an
identifier) to the customer model, maps them in a source, imports files, and the engine
compares them with weights of their own; they survive, are shown, searched, exported
and erased like the canonical attributes. No code change, no migration per attribute."""

from __future__ import annotations

import random

import pytest
from django.core.exceptions import ValidationError

from rcu.engine.fellegi_sunter import default_model
from rcu.engine.types import MatchRecord
from rcu.ingestion.mapping import RowRejection
from rcu.models import AdminEvent, AttributeDefinition, Customer, SourceRecord
from rcu.selectors.sources import source_row_mapper
from rcu.services.attributes import (
    AttributeSpec,
    attribute_definition_create,
    attribute_definition_update,
)
from rcu.services.matching.context import match_context, model_needs_training
from rcu.services.matching.pairs import oversized_keys, shared_key_counts
from rcu.services.matching.training import match_settings_store_model, model_train
from tests.factories import TEST_ACTOR, ingest, make_source

pytestmark = pytest.mark.django_db

FIELDS = ["first_name", "last_name", "birth_date", "postcode", "city"]


def _add_attributes(acting_user=TEST_ACTOR):
    birthplace = attribute_definition_create(
        name="birthplace", type="name", spec=AttributeSpec(label="Lieu de naissance"),
        acting_user=acting_user,
    )
    national_id = attribute_definition_create(
        name="national_id", type="identifier", spec=AttributeSpec(label="N° national"),
        acting_user=acting_user,
    )
    return birthplace, national_id


def _source(code: str, *, trust_rank: int, birthplace: str, national_id: str, **extra):
    """A source with the canonical columns and its own column names for the two new
    attributes: mapped like any canonical attribute."""
    source = make_source(code, department="marketing", trust_rank=trust_rank, fields=FIELDS)
    from rcu.selectors.administration import source_config_document  # the editor's document
    from rcu.services.sources import source_configure

    document = source_config_document(source)
    document["fields"] += [
        {"source": birthplace, "attribute": "birthplace"},
        {"source": national_id, "attribute": "national_id"},
    ]
    document.update(extra)
    source, _created = source_configure(data=document, acting_user=TEST_ACTOR)
    return source


FIRST = ["Jean", "Marie", "Pierre", "Sophie", "Luc", "Claire", "Paul", "Anne", "Louis", "Julie"]
LAST = ["Martin", "Bernard", "Dubois", "Durand", "Leroy", "Moreau", "Simon", "Laurent",
        "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier"]
PLACES = ["Rennes", "Brest", "Quimper", "Nantes", "Lorient", "Vannes", "Angers", "Laval",
          "Le Mans", "Tours", "Caen", "Rouen"]


def _people(count: int, seed: int = 3) -> list[dict[str, str]]:
    rng = random.Random(seed)
    people = []
    for i in range(count):
        people.append({
            "first_name": rng.choice(FIRST), "last_name": rng.choice(LAST),
            "birth_date": f"{rng.randint(1950, 2000)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "postcode": "35000", "city": "Rennes",
            "place": rng.choice(PLACES), "nid": f"{1_000_000_000 + i * 7919}",
        })
    return people


def _csv(path, rows: list[dict[str, str]]):
    import csv

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _import(path, source: str) -> str:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("import_records", str(path), source=source, no_progress=True, stdout=out)
    return out.getvalue()


def _two_files(people, tmp_path):
    """The CRM's file and the shop's, imported as a user would: each person in both,
    the shop's with other column names; a namesake of each tenth person (same names,
    another birthplace and id); one shop row whose birthplace is not a name."""
    crm = _source("crm", trust_rank=1, birthplace="LIEU_NAISS", national_id="NIR")
    shop = _source("shop", trust_rank=2, birthplace="born_in", national_id="national_number")
    crm_rows, shop_rows = [], []
    for i, p in enumerate(people):
        common = {k: p[k] for k in FIELDS}
        crm_rows.append({"id": f"C{i}", **common, "updated": "", "LIEU_NAISS": p["place"], "NIR": p["nid"]})
        shop_rows.append({"id": f"S{i}", **common, "updated": "", "born_in": p["place"].upper(),
                          "national_number": f" {p['nid'][:5]} {p['nid'][5:]} "})
        if i % 10 == 0:
            shop_rows.append({"id": f"N{i}", **common, "updated": "", "born_in": "Marseille",
                              "national_number": f"{9_000_000_000 + i}"})
    shop_rows.append({"id": "BAD", **{k: people[0][k] for k in FIELDS}, "updated": "",
                      "born_in": "1234", "national_number": "1"})
    crm_out = _import(_csv(tmp_path / "crm.csv", crm_rows), "crm")
    shop_out = _import(_csv(tmp_path / "shop.csv", shop_rows), "shop")
    assert f"created {len(crm_rows)}, updated 0, unchanged 0, rejected 0" in crm_out
    assert "rejected 1" in shop_out
    assert "born_in: birthplace: no letter: not a name (name)" in shop_out
    by_source = lambda code: list(SourceRecord.objects.filter(source__code=code).order_by("pk"))  # noqa: E731
    return crm, shop, by_source("crm"), by_source("shop")


def _match_record(record: SourceRecord) -> MatchRecord:
    return MatchRecord(record.pk, record.source.code, record.attributes, record.keys)


def test_an_administrator_adds_two_attributes_and_the_engine_learns_their_own_weights(tmp_path):
    _add_attributes()
    people = _people(120)
    _crm, _shop, crm_records, shop_records = _two_files(people, tmp_path)

    # Kept on the records, normalised by type, keyed for the engine.
    record = crm_records[0]
    assert record.attributes["birthplace"] == people[0]["place"]
    assert record.attributes["national_id"] == people[0]["nid"]
    assert record.keys["custom_id:national_id"] == people[0]["nid"]
    shop_first = next(r for r in shop_records if r.external_id == "S0")
    assert shop_first.attributes["national_id"] == f"{people[0]['nid'][:5]} {people[0]['nid'][5:]}"
    assert shop_first.keys["custom_id:national_id"] == people[0]["nid"]  # compared without spaces
    assert shop_first.keys["custom:birthplace"] == record.keys["custom:birthplace"]

    # The engine compares them: two more comparisons, after the built-in ones.
    context = match_context()
    names = [c.name for c in context.comparisons]
    assert names[-2:] == ["birthplace", "national_id"]
    assert model_needs_training(context_settings(), context.comparisons)

    counts = shared_key_counts(2)
    model_dict, report = model_train(
        context=context, oversized=oversized_keys(300, counts), key_counts=counts
    )
    assert report.pairs > 0
    match_settings_store_model(model={**model_dict, "records": 250}, acting_user=TEST_ACTOR)
    context = match_context()
    model = context.model
    assert not model_needs_training(context_settings(), context.comparisons)
    start = default_model(context.comparisons)
    for name in ("birthplace", "national_id"):
        i = model.names.index(name)
        assert model.m[i] != start.m[i], f"{name}: m not learnt"
        assert model.u[i] != start.u[i], f"{name}: u not learnt"
    # Term frequencies of the exact-match attribute are counted too.
    assert model.term_frequencies is not None
    assert "custom_id:national_id" in model.term_frequencies.totals

    scorer = context.scorer
    by_id = {r.external_id: r for r in SourceRecord.objects.select_related("source")}
    same = scorer.explain_pair_dict(
        scorer.prepare(_match_record(by_id["C10"])), scorer.prepare(_match_record(by_id["S10"]))
    )
    namesake = scorer.explain_pair_dict(
        scorer.prepare(_match_record(by_id["C10"])), scorer.prepare(_match_record(by_id["N10"]))
    )
    weights = {c["comparison"]: c["weight"] for c in same["contributions"] if c["level"] in ("same", "exact")}
    assert weights["national_id"] > 0  # agreeing on the national id gains weight
    assert weights["birthplace"] > 0
    against = {(c["comparison"], c["level"]): c["weight"] for c in namesake["contributions"]}
    assert against[("birthplace", "different")] < 0  # disagreeing on the birthplace loses it
    assert against[("national_id", "different")] < 0
    for explanation in (same, namesake):  # the explanation still adds up exactly
        total = explanation["prior_weight"] + sum(c["weight"] for c in explanation["contributions"])
        assert total == pytest.approx(explanation["total_weight"], abs=1e-9)
    assert same["probability"] > namesake["probability"]


def context_settings():
    from rcu.services.matching.context import match_settings_get

    return match_settings_get()


def test_archiving_an_attribute_takes_it_out_of_the_engine_and_the_mapping():
    _birthplace, national_id = _add_attributes()
    assert "national_id" in [c.name for c in match_context().comparisons]
    attribute_definition_update(
        definition=national_id, spec=AttributeSpec(label="N° national", active=False),
        acting_user=TEST_ACTOR,
    )
    assert "national_id" not in [c.name for c in match_context().comparisons]
    crm = make_source("crm2", department="marketing", fields=FIELDS)
    from rcu.ingestion.config import SourceConfigError
    from rcu.selectors.administration import source_config_document
    from rcu.services.sources import source_configure

    document = source_config_document(crm)
    document["fields"].append({"source": "NIR", "attribute": "national_id"})
    with pytest.raises(SourceConfigError, match="national_id"):
        source_configure(data=document, acting_user=TEST_ACTOR)
    document["fields"].pop()
    document["extra_identifiers"] = [{"code": "national_id", "label": "N°"}]  # nor its name taken
    with pytest.raises(SourceConfigError, match="extra_identifiers"):
        source_configure(data=document, acting_user=TEST_ACTOR)
    assert list(AdminEvent.objects.values_list("action", flat=True)[:3]) == [
        "attribute_changed", "attribute_added", "attribute_added"]


@pytest.mark.parametrize(("kind", "value", "reason"), [
    ("number", "douze", "not a number (number)"),
    ("date", "31/02/2020", "no such day (date)"),
    ("date", "hier", "not a date (date)"),
    ("name", "1234", "no letter: not a name (name)"),
])
def test_a_value_that_cannot_be_read_rejects_the_row_naming_the_field_and_why(kind, value, reason):
    attribute_definition_create(name="extra_value", type=kind, spec=AttributeSpec(label="X"),
                                acting_user=TEST_ACTOR)
    source = _plain_source_with("extra_value", "COLONNE")
    outcome = source_row_mapper(source).map(2, {"id": "A1", "last_name": "Dupont", "COLONNE": value})
    assert isinstance(outcome, RowRejection)
    assert outcome.field == "COLONNE"
    assert outcome.reason == f"extra_value: {reason}"


@pytest.mark.parametrize(("kind", "value", "stored", "key"), [
    ("number", "1 250,50", "1250.5", "1250.5"),
    ("date", "03/04/2031", "2031-04-03", "2031-04-03"),  # any date, the future too
    ("code", " ab 12 ", "ab 12", "AB12"),
    ("text", "  Ingénieur   agronome ", "Ingénieur agronome", "ingenieur agronome"),
])
def test_values_are_normalised_by_type(kind, value, stored, key):
    attribute_definition_create(name="extra_value", type=kind, spec=AttributeSpec(label="X"),
                                acting_user=TEST_ACTOR)
    source = _plain_source_with("extra_value", "COLONNE")
    (record,) = ingest(source, [{"id": "A1", "last_name": "Dupont", "COLONNE": value}])
    assert record.attributes["extra_value"] == stored
    assert record.keys["custom:extra_value"] == key
    assert record.customer.custom_attributes == {"extra_value": stored}
    assert record.customer.extra_identifiers == {}


def _plain_source_with(attribute: str, column: str):
    from rcu.selectors.administration import source_config_document
    from rcu.services.sources import source_configure

    source = make_source("plain", department="marketing", fields=["last_name"])
    document = source_config_document(source)
    document["fields"].append({"source": column, "attribute": attribute})
    source, _created = source_configure(data=document, acting_user=TEST_ACTOR)
    return source


@pytest.mark.parametrize("name", ["first_name", "address", "identifiers", "custom_attributes"])
def test_a_name_taken_by_the_customer_model_or_the_engine_is_refused(name):
    with pytest.raises(ValidationError):
        attribute_definition_create(name=name, type="text", spec=AttributeSpec(label="X"),
                                    acting_user=TEST_ACTOR)
    assert not AttributeDefinition.objects.exists()


def test_a_comparison_that_does_not_fit_the_type_is_refused():
    with pytest.raises(ValidationError, match="comparison"):
        attribute_definition_create(name="gender", type="code", spec=AttributeSpec(label="Genre", comparison="name"),
                                    acting_user=TEST_ACTOR)
    assert Customer.objects.count() == 0


# --- survivorship, display, search, exports ---------------------------------------------

def _one_person_in_two_sources():
    """One person known to the CRM (trust rank 1) and the shop (2), linked to one
    customer, their birthplace written two ways."""
    _add_attributes()
    crm = _source("crm", trust_rank=1, birthplace="LIEU_NAISS", national_id="NIR")
    shop = _source("shop", trust_rank=2, birthplace="born_in", national_id="national_number")
    common = {"first_name": "Yann", "last_name": "Quérouillère", "birth_date": "1980-04-03"}
    (a,) = ingest(crm, [{"id": "C1", **common, "LIEU_NAISS": "St-Brieuc", "NIR": "180042212345",
                         "updated": "2024-01-01 10:00"}])
    (b,) = ingest(shop, [{"id": "S1", **common, "born_in": "Saint-Brieuc des Landes",
                          "national_number": "180 04 22 12345", "updated": "2024-06-01 10:00"}])
    from rcu.services.customers import customers_recompute

    SourceRecord.objects.filter(pk=b.pk).update(customer=a.customer)
    Customer.objects.filter(pk=b.customer_id).delete()
    customers_recompute(customer_ids=[a.customer_id], acting_user=TEST_ACTOR)
    return Customer.objects.get(pk=a.customer_id)


def test_golden_values_survive_by_the_default_order_with_provenance():
    customer = _one_person_in_two_sources()
    assert customer.custom_attributes == {"birthplace": "St-Brieuc", "national_id": "180042212345"}
    assert customer.provenance["birthplace"]["source"] == "crm"
    assert customer.provenance["birthplace"]["rule"] == "trust_rank"
    assert customer.extra_identifiers == {}


def test_the_attributes_default_rule_applies_until_the_rules_store_names_it(django_capture_on_commit_callbacks):
    customer = _one_person_in_two_sources()
    birthplace = AttributeDefinition.objects.get(name="birthplace")
    with django_capture_on_commit_callbacks(execute=True):
        attribute_definition_update(
            definition=birthplace, spec=AttributeSpec(label="Lieu de naissance", survivorship="longest"),
            acting_user=TEST_ACTOR,
        )
    customer.refresh_from_db()
    assert customer.custom_attributes["birthplace"] == "Saint-Brieuc des Landes"
    assert customer.provenance["birthplace"]["rule"] == "longest"
    assert customer.custom_attributes["national_id"] == "180042212345"  # no default: trust rank

    from rcu.services.survivorship import survivorship_rules_save

    with django_capture_on_commit_callbacks(execute=True):
        survivorship_rules_save(
            data={"attributes": {"birthplace": [{"rule": "source_priority", "sources": ["crm", "shop"]}]}},
            acting_user=TEST_ACTOR,
        )
    customer.refresh_from_db()
    assert customer.custom_attributes["birthplace"] == "St-Brieuc"  # the rules store wins
    assert customer.provenance["birthplace"]["rule"] == "source_priority"


def test_a_steward_corrects_a_custom_value_normalised_by_its_type(steward_marketing):
    from stewardship.services.corrections import customer_values_correct
    from stewardship.services.errors import DecisionInvalid

    customer = _one_person_in_two_sources()
    with pytest.raises(DecisionInvalid):
        customer_values_correct(customer_id=customer.pk, values={"birthplace": "1234"},
                                reason="typo", acting_user=steward_marketing)
    customer_values_correct(customer_id=customer.pk, values={"birthplace": "  Saint-Brieuc "},
                            reason="the registry says so", acting_user=steward_marketing)
    customer.refresh_from_db()
    assert customer.custom_attributes["birthplace"] == "Saint-Brieuc"
    assert customer.provenance["birthplace"]["rule"] == "typed_value"
    assert customer.pinned["birthplace"]["keys"] == {"custom:birthplace": "saint brieuc"}


def test_the_customer_page_shows_them_and_search_finds_them(client, admin_user):
    customer = _one_person_in_two_sources()
    client.force_login(admin_user)
    page = client.get(f"/customers/{customer.public_id}/").content.decode()
    section = page[page.index("data-custom-attributes"):]
    assert "Lieu de naissance" in section and "St-Brieuc" in section
    assert "N° national" in section and "180042212345" in section

    found = client.get("/customers/", {"attribute": "national_id", "attribute_value": "180 0422 12345"})
    assert str(customer.public_id) in found.content.decode()
    missed = client.get("/customers/", {"attribute": "national_id", "attribute_value": "999"})
    assert str(customer.public_id) not in missed.content.decode()

    api = client.get("/api/v1/customers/", {"attribute": "birthplace", "attribute_value": "saint-brieuc des landes"})
    assert [c["public_id"] for c in api.json()["results"]] == [str(customer.public_id)]
    assert api.json()["results"][0]["custom_attributes"]["birthplace"] == "St-Brieuc"
    detail = client.get(f"/api/v1/customers/{customer.public_id}/").json()
    assert detail["custom_attributes"] == customer.custom_attributes
    assert detail["provenance"]["national_id"]["source"] == "crm"
    nothing = client.get("/api/v1/customers/", {"attribute": "birthplace", "attribute_value": "Paris"})
    assert nothing.json()["results"] == []


def test_change_events_and_their_csv_files_carry_them():
    from rcu.models import ChangeEvent
    from rcu.selectors.change_files import CsvLayout, everything

    customer = _one_person_in_two_sources()
    event = ChangeEvent.objects.filter(customer_id=customer.pk).order_by("-pk").first()
    assert event is not None
    assert event.changes["custom_attributes"] == {"birthplace": "St-Brieuc", "national_id": "180042212345"}
    layout = CsvLayout.of(everything())
    assert "custom_attributes.birthplace" in layout.columns
    assert "custom_attributes" not in layout.columns
    body = {"id": "x", "cursor": 1, "type": "customer.updated", "timestamp": "t",
            "data": {"customer_id": "c", "version": 1, "attributes": dict(event.changes)}}
    row = dict(zip(layout.columns, layout.row(body), strict=True))
    assert row["custom_attributes.birthplace"] == "St-Brieuc"
    assert row["custom_attributes.national_id"] == "180042212345"


def test_the_review_page_and_explanation_name_them(steward_marketing):
    from stewardship.explain import explanation_sentence
    from stewardship.selectors.review import customers_compare

    customer = _one_person_in_two_sources()
    comparison = customers_compare(customer_ids=[customer.pk], user=steward_marketing)
    rows = {r.name: r for r in comparison.rows}
    assert rows["birthplace"].label == "Lieu de naissance" and rows["birthplace"].differs
    from django.utils import translation

    explanation = {"contributions": [
        {"comparison": "national_id", "level": "same", "weight": 9.0},
        {"comparison": "birthplace", "level": "different", "weight": -3.0},
    ]}
    with translation.override("en"):
        assert explanation_sentence(explanation) == "N° national: same, Lieu de naissance: different"
    with translation.override("fr"):
        assert explanation_sentence(explanation) == "N° national : identique, Lieu de naissance : différent"


# --- administration: pages, API, permissions --------------------------------------------

def test_an_admin_adds_and_archives_an_attribute_from_the_pages(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/administration/attributes/", {
        "name": "birthplace", "label": "Lieu de naissance", "type": "name", "comparison": "",
        "tolerance": "0", "survivorship": "", "active": "on",
    })
    assert response.status_code == 302
    definition = AttributeDefinition.objects.get(name="birthplace")
    assert definition.as_custom().comparison == "name"
    refused = client.post("/administration/attributes/", {"name": "email", "label": "E", "type": "text"})
    assert refused.status_code == 200 and "already an attribute" in refused.content.decode()
    page = client.get("/administration/attributes/birthplace/")
    assert page.status_code == 200 and "Lieu de naissance" in page.content.decode()
    client.post("/administration/attributes/birthplace/", {
        "label": "Lieu de naissance", "comparison": "text", "tolerance": "0", "survivorship": "",
    })
    definition.refresh_from_db()
    assert not definition.active and definition.comparison == "text" and definition.type == "name"
    assert definition.history.count() == 2
    mapping = client.get("/administration/survivorship/").content.decode()
    assert 'data-unit="birthplace"' in mapping


@pytest.mark.parametrize(("persona", "read", "write"), [
    ("admin", 200, True), ("auditor", 200, False), ("dpo", 200, False),
    ("steward_marketing", 200, False), ("outsider", 403, False), (None, 401, False),
])
def test_the_api_lets_reading_roles_read_and_the_admin_role_alone_write(client, personas, persona, read, write):
    if persona:
        client.force_login(personas[persona])
    assert client.get("/api/v1/attributes/").status_code == read
    created = client.post("/api/v1/attributes/", {"name": "national_id", "label": "N°", "type": "identifier"},
                          content_type="application/json")
    assert created.status_code == (201 if write else 403 if persona else 401)
    if write:
        assert created.json()["effective_comparison"] == "exact"
        patched = client.patch("/api/v1/attributes/national_id/", {"active": False, "type": "text"},
                               content_type="application/json")
        assert patched.status_code == 400 and patched.json()["errors"][0]["field"] == "type"
        patched = client.patch("/api/v1/attributes/national_id/", {"active": False},
                               content_type="application/json")
        assert patched.status_code == 200 and patched.json()["active"] is False
        assert client.get("/api/v1/attributes/national_id/").json()["active"] is False
        listed = client.get("/api/v1/attributes/").json()
        assert [a["name"] for a in listed["results"]] == ["national_id"] and listed["count"] == 1
        bad = client.post("/api/v1/attributes/", {"name": "x1", "label": "X", "type": "code",
                                                  "comparison": "number"}, content_type="application/json")
        assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "comparison"
    else:
        assert not AttributeDefinition.objects.exists()


# --- erasure --------------------------------------------------------------------------

def test_an_erased_persons_custom_values_are_gone_everywhere(dpo):
    from django.apps import apps
    from django.test import TestCase

    from rcu.services.erasure import persons_erase
    from tests.rcu.erasure_scenario import text_columns

    customer = _one_person_in_two_sources()
    canaries = ("St-Brieuc", "180042212345", "Saint-Brieuc des Landes", "180 04 22 12345")

    def residue() -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for model in apps.get_models(include_auto_created=True):
            columns = text_columns(model)
            if not columns:
                continue
            for row in model._default_manager.values_list(*columns):
                text = repr(row)
                hits = [c for c in canaries if c in text]
                if hits:
                    found.setdefault(model._meta.label, []).extend(hits)
        return found

    before = residue()
    assert {"rcu.SourceRecord", "rcu.Customer", "rcu.HistoricalCustomer", "rcu.ChangeEvent"} <= set(before)
    with TestCase.captureOnCommitCallbacks(execute=True):
        persons_erase(customer_ids=[customer.pk], acting_user=dpo)
    assert residue() == {}


def test_a_run_retrains_the_model_when_the_compared_attributes_change(tmp_path, django_capture_on_commit_callbacks):
    from rcu.services.matching.batch import match_run_create

    def run(*, full: bool):
        with django_capture_on_commit_callbacks(execute=True):
            created = match_run_create(full=full, partitions=2, acting_user=TEST_ACTOR)
        created.refresh_from_db()
        assert created.status == "succeeded", created.message
        return created

    _birthplace, national_id = _add_attributes()
    _two_files(_people(120), tmp_path)
    first = run(full=True)
    assert first.message.startswith("model: EM"), first.message
    assert not model_needs_training(context_settings(), match_context().comparisons)
    attribute_definition_update(
        definition=national_id, spec=AttributeSpec(label="N° national", active=False),
        acting_user=TEST_ACTOR,
    )
    comparisons = match_context().comparisons
    assert "national_id" not in [c.name for c in comparisons]
    assert model_needs_training(context_settings(), comparisons)
    second = run(full=False)  # a pending run, the base no bigger: it learns all the same
    assert second.message.startswith("model: EM"), second.message
    assert "every pair rescored" in second.message
    assert not model_needs_training(context_settings(), match_context().comparisons)


# --- an attribute that tells people apart ------------------------------------------------

def _voter_roll():
    """A source of a voter roll: names, address and a birth year, a custom attribute."""
    from rcu.selectors.administration import source_config_document
    from rcu.services.sources import source_configure

    year = attribute_definition_create(
        name="birth_year", type="number", spec=AttributeSpec(label="Année de naissance"),
        acting_user=TEST_ACTOR,
    )
    source = make_source("roll", department="marketing",
                         fields=["first_name", "last_name", "address_line1", "postcode", "city"])
    document = source_config_document(source)
    document["fields"].append({"source": "ANNEE", "attribute": "birth_year"})
    source, _created = source_configure(data=document, acting_user=TEST_ACTOR)
    return year, source


def _resident(external_id: str, year: str) -> dict[str, str]:
    return {"id": external_id, "first_name": "Jean", "last_name": "Quérouillère",
            "address_line1": "12 rue des Lilas", "postcode": "22000", "city": "Saint-Brieuc",
            "ANNEE": year}


def _model_learning_that_birth_years_differ() -> None:
    """Store the model a base of fathers and sons taken for one person teaches: one
    person's records disagree on their birth year one time in five."""
    model = match_context().model
    i = model.names.index("birth_year")
    m = [list(row) for row in model.m]
    u = [list(row) for row in model.u]
    m[i] = [0.8 / (len(m[i]) - 1)] * (len(m[i]) - 1) + [0.2]
    u[i] = [0.02 / (len(u[i]) - 1)] * (len(u[i]) - 1) + [0.98]
    match_settings_store_model(model=model.replace(m=m, u=u).to_dict(), acting_user=TEST_ACTOR)


def test_an_attribute_declared_to_tell_people_apart_holds_a_father_and_his_son_for_a_steward():
    """A father and his son of the same name live at one address; only their birth year,
    a custom attribute, differs, and the model learnt that birth years often differ within
    one person: the difference only weighs (the son waits on what a household shares,
    not on a contradiction). Once the administrator declares that a birth year tells
    people apart, the next son is held by the contradiction itself, named in the
    explanation; the same man sent again is still linked."""
    from rcu.services.ingestion import record_ingest

    year, source = _voter_roll()
    _model_learning_that_birth_years_differ()
    father = record_ingest(source=source, payload=_resident("F1", "1961"), acting_user=TEST_ACTOR)
    weighed = record_ingest(source=source, payload=_resident("S1", "1989"), acting_user=TEST_ACTOR)
    assert weighed.match is not None
    assert weighed.match.explanation["link_guard"] == "household_evidence"

    attribute_definition_update(
        definition=year, spec=AttributeSpec(label="Année de naissance", tells_apart=True),
        acting_user=TEST_ACTOR,
    )
    year.refresh_from_db()
    assert year.tells_apart and year.history.first().tells_apart
    changed = AdminEvent.objects.filter(action="attribute_changed").first()
    assert changed is not None and changed.change["extra"] == {"tells_apart": True}, changed.change
    assert [c.tells_apart for c in match_context().comparisons if c.name == "birth_year"] == [True]
    son = record_ingest(source=source, payload=_resident("S2", "1990"), acting_user=TEST_ACTOR)
    assert son.match is not None and son.match.decision == "candidate"
    assert son.match.explanation["link_guard"] == "contradiction:birth_year"
    assert son.customer != father.customer
    again = record_ingest(source=source, payload=_resident("F2", "1961"), acting_user=TEST_ACTOR)
    assert again.match is not None and again.match.decision == "linked"
    assert again.customer == father.customer


def test_tells_people_apart_is_set_from_the_page_and_the_api(client, admin_user):
    client.force_login(admin_user)
    client.post("/administration/attributes/", {
        "name": "sex", "label": "Sexe", "type": "code", "comparison": "", "tolerance": "0",
        "tells_apart": "on", "survivorship": "", "active": "on",
    })
    assert AttributeDefinition.objects.get(name="sex").tells_apart
    listing = client.get("/administration/attributes/").content.decode()
    assert "data-tells-apart" in listing
    assert client.get("/api/v1/attributes/sex/").json()["tells_apart"] is True
    patched = client.patch("/api/v1/attributes/sex/", {"tells_apart": False},
                           content_type="application/json")
    assert patched.status_code == 200 and patched.json()["tells_apart"] is False
    assert not AttributeDefinition.objects.get(name="sex").tells_apart
    created = client.post("/api/v1/attributes/", {"name": "birth_year", "label": "Année",
                                                   "type": "number", "tells_apart": True},
                          content_type="application/json")
    assert created.status_code == 201 and created.json()["tells_apart"] is True
