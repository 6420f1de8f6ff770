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


def _two_files(people):
    """The CRM's file and the shop's: each person in both, the shop's with other column
    names; a namesake of each tenth person (same names, another birthplace and id)."""
    crm = _source("crm", trust_rank=1, birthplace="LIEU_NAISS", national_id="NIR")
    shop = _source("shop", trust_rank=2, birthplace="born_in", national_id="national_number")
    crm_rows, shop_rows = [], []
    for i, p in enumerate(people):
        common = {k: p[k] for k in FIELDS}
        crm_rows.append({"id": f"C{i}", **common, "LIEU_NAISS": p["place"], "NIR": p["nid"]})
        shop_rows.append({"id": f"S{i}", **common, "born_in": p["place"].upper(),
                          "national_number": f" {p['nid'][:5]} {p['nid'][5:]} "})
        if i % 10 == 0:
            shop_rows.append({"id": f"N{i}", **common, "born_in": "Marseille",
                              "national_number": f"{9_000_000_000 + i}"})
    return crm, shop, ingest(crm, crm_rows), ingest(shop, shop_rows)


def _match_record(record: SourceRecord) -> MatchRecord:
    return MatchRecord(record.pk, record.source.code, record.attributes, record.keys)


def test_an_administrator_adds_two_attributes_and_the_engine_learns_their_own_weights():
    _add_attributes()
    people = _people(120)
    _crm, _shop, crm_records, shop_records = _two_files(people)

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
