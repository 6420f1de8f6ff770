"""Declaring a source and its mapping from a JSON file."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from guardian.shortcuts import get_perms

from rcu.models import Department, ExtraIdentifier, FieldMapping, SourceSystem
from rcu.services.sources import source_configure
from tests.factories import TEST_ACTOR

CONFIG = {
    "code": "crm", "name": "CRM", "department": "marketing", "department_name": "Marketing",
    "trust_rank": 1, "default_country": "FR", "external_id": "ID_CLIENT",
    "business_timestamp": {"source": "DATE_MAJ", "format": "%d/%m/%Y %H:%M"},
    "extra_identifiers": [{"code": "loyalty_card", "label": "Carte de fidélité"}],
    "fields": [
        {"source": "PRENOM", "attribute": "first_name"},
        {"source": ["NUM_VOIE", "LIBELLE_VOIE"], "attribute": "address_line1"},
        {"source": "DATE_NAISS", "attribute": "birth_date", "format": "%d/%m/%Y"},
        {"source": "CARTE", "attribute": "loyalty_card", "case": "upper"},
    ],
}


def configure(tmp_path, data) -> str:
    path = tmp_path / "source.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = StringIO()
    call_command("configure_source", str(path), stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_a_new_source_is_created_with_its_department_mapping_and_identifiers(tmp_path):
    output = configure(tmp_path, CONFIG)

    assert "source 'crm' created (4 mapped attributes, department 'marketing')" in output
    source = SourceSystem.objects.get(code="crm")
    assert (source.trust_rank, source.default_country, source.external_id_field) == (1, "FR", "ID_CLIENT")
    assert (source.business_timestamp_field, source.business_timestamp_format) == ("DATE_MAJ", "%d/%m/%Y %H:%M")
    assert source.department.name == "Marketing"
    address = source.mappings.get(attribute="address_line1")
    assert address.source_fields == ["NUM_VOIE", "LIBELLE_VOIE"]
    assert source.mappings.get(attribute="birth_date").date_format == "%d/%m/%Y"
    assert source.mappings.get(attribute="loyalty_card").case == "upper"
    assert ExtraIdentifier.objects.get().label == "Carte de fidélité"


@pytest.mark.django_db
def test_the_owning_department_gets_the_source_permissions(tmp_path):
    configure(tmp_path, CONFIG)
    source = SourceSystem.objects.get(code="crm")
    marketing = Department.objects.get(code="marketing")
    assert set(get_perms(marketing.group, source)) == {"view_sourcesystem", "ingest_sourcesystem"}

    configure(tmp_path, {**CONFIG, "department": "service-client"})

    assert get_perms(marketing.group, source) == []
    service_client = Department.objects.get(code="service-client")
    assert set(get_perms(service_client.group, source)) == {"view_sourcesystem", "ingest_sourcesystem"}


@pytest.mark.django_db
def test_configuring_again_updates_and_removes_mappings_no_longer_named(tmp_path):
    configure(tmp_path, CONFIG)
    changed = {**CONFIG, "trust_rank": 3, "fields": CONFIG["fields"][:2]}

    output = configure(tmp_path, changed)

    assert "source 'crm' updated (2 mapped attributes" in output
    source = SourceSystem.objects.get(code="crm")
    assert source.trust_rank == 3
    assert set(source.mappings.values_list("attribute", flat=True)) == {"first_name", "address_line1"}
    assert source.history.count() == 2
    assert FieldMapping.history.filter(history_type="-").count() == 2


@pytest.mark.parametrize(
    "change, message",
    [
        ({"fields": [{"source": "PRENOM", "attribute": "prenom"}]}, "unknown attribute 'prenom'"),
        ({"fields": [{"source": "D", "attribute": "birth_date", "format": "dd/mm/yyyy"}]},
         "fields[0] (birth_date).format: 'dd/mm/yyyy' has no % directive"),
        ({"fields": [{"source": "D", "attribute": "email", "format": "%d/%m/%Y"}]},
         "only date attributes take a format"),
        ({"business_timestamp": {"source": "DATE_MAJ", "format": "%d/%m/%Q"}},
         "business_timestamp.format: '%d/%m/%Q' uses unknown directive(s) %Q"),
        ({"trust_rank": 0}, "trust_rank: 0 must be a whole number of at least 1"),
        ({"colour": "blue"}, "colour: unknown key"),
        ({"external_id": ""}, "external_id: is required"),
        ({"fields": [{"source": "X", "attribute": "email", "case": "shout"}]}, "case: 'shout' must be one of"),
        ({"fields": [{"source": "A", "attribute": "email"}, {"source": "B", "attribute": "email"}]},
         "attribute mapped twice"),
    ],
)
@pytest.mark.django_db
def test_a_bad_configuration_is_refused_saying_which_and_changes_nothing(tmp_path, change, message):
    configure(tmp_path, CONFIG)
    before = list(FieldMapping.objects.values_list("attribute", "source_fields"))

    with pytest.raises(CommandError) as refused:
        configure(tmp_path, {**CONFIG, **change})

    assert message in str(refused.value)
    assert "nothing was changed" in str(refused.value)
    assert list(FieldMapping.objects.values_list("attribute", "source_fields")) == before
    assert SourceSystem.objects.get(code="crm").trust_rank == 1


@pytest.mark.django_db
def test_every_problem_is_listed_at_once(tmp_path):
    bad = {**CONFIG, "trust_rank": "high", "fields": [{"source": "X", "attribute": "nom"}]}
    with pytest.raises(CommandError) as refused:
        configure(tmp_path, bad)
    assert "trust_rank" in str(refused.value)
    assert "unknown attribute 'nom'" in str(refused.value)


@pytest.mark.django_db
def test_a_file_that_is_not_json_is_refused_with_its_position(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"code": "crm",\n "fields": [}', encoding="utf-8")
    with pytest.raises(CommandError, match=r"not valid JSON \(line 2"):
        call_command("configure_source", str(path))


@pytest.mark.django_db
def test_example_sources_are_all_accepted():
    from rcu.demo import source_config_paths

    for path in source_config_paths():
        source, created = source_configure(data=json.loads(path.read_text(encoding="utf-8")), acting_user=TEST_ACTOR)
        assert created and source.mappings.exists()
    assert SourceSystem.objects.count() == 4


@pytest.mark.django_db
def test_configuring_the_same_file_twice_writes_no_history(tmp_path):
    configure(tmp_path, CONFIG)
    counts = (SourceSystem.history.count(), FieldMapping.history.count())
    configure(tmp_path, CONFIG)
    assert (SourceSystem.history.count(), FieldMapping.history.count()) == counts
