"""Re-normalising stored records against La Poste's base, through the import write path."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from rcu.models import Customer, SourceRecord
from rcu.normalisation import record as record_module
from rcu.services.sources import source_configure
from tests.factories import TEST_ACTOR

CONFIG = {
    "code": "crm",
    "name": "CRM",
    "department": "marketing",
    "default_country": "FR",
    "external_id": "ID",
    "fields": [
        {"source": "NOM", "attribute": "last_name"},
        {"source": "ADRESSE", "attribute": "address_line1"},
        {"source": "CP", "attribute": "postcode"},
        {"source": "VILLE", "attribute": "city"},
    ],
}
LINES = [
    "ID;NOM;ADRESSE;CP;VILLE",
    "A1;Martin;12 rue de la République;13001;Marseile",  # misspelt: corrected
    "A2;Durand;1 place Vendôme;75001;Marseille",  # the city of another postcode
    "A3;Petit;5 rue Haute;75000;Paris",  # a postcode that does not exist
    "A4;Roux;3 avenue Foch;69003;Lyon",  # right
]


@pytest.fixture
def imported_before_the_reference(db, tmp_path: Path, monkeypatch):
    """Records stored by a version of RCU without the postal reference."""
    source, _ = source_configure(data=CONFIG, acting_user=TEST_ACTOR)
    path = tmp_path / "crm.csv"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.setattr(record_module, "_french_postal", lambda *args: None)
        call_command("import_records", str(path), source="crm", no_progress=True, stdout=None)
    return source


def _record(external_id: str) -> SourceRecord:
    return SourceRecord.objects.select_related("customer").get(external_id=external_id)


def test_renormalising_brings_stored_records_up_to_the_reference(imported_before_the_reference):
    assert "postal" not in _record("A1").keys
    history_before = {r.external_id: r.history.count() for r in SourceRecord.objects.all()}

    call_command("renormalise_records", source="crm")

    corrected = _record("A1")
    assert corrected.attributes["city"] == "MARSEILLE"
    assert corrected.quality_flags == ["city.corrected"]
    assert corrected.raw["VILLE"] == "Marseile"  # the value as received stays
    assert corrected.keys["postal"] == "12 RUE DE LA REPUBLIQUE\n13001 MARSEILLE"
    assert corrected.customer.city == "MARSEILLE"  # the golden record follows
    assert _record("A2").quality_flags == ["city.postcode_mismatch"]
    assert _record("A3").quality_flags == ["postcode.unknown"]
    assert _record("A4").quality_flags == []
    # Every record changed (each gained its postal form), each with one history row
    # saying why.
    for record in SourceRecord.objects.all():
        assert record.history.count() == history_before[record.external_id] + 1
        assert record.history.first().history_change_reason == "renormalise_records command: renormalise"  # RCU, run from the command line


def test_renormalising_again_writes_nothing(imported_before_the_reference, capsys):
    call_command("renormalise_records", source="crm")
    records = {r.pk: (r.updated_at, r.history.count()) for r in SourceRecord.objects.all()}
    customers = {c.pk: c.history.count() for c in Customer.objects.all()}

    call_command("renormalise_records")

    assert {r.pk: (r.updated_at, r.history.count()) for r in SourceRecord.objects.all()} == records
    assert {c.pk: c.history.count() for c in Customer.objects.all()} == customers
    assert "crm: 4 records, updated 0, unchanged 4, skipped 0" in capsys.readouterr().out


def test_renormalising_works_in_chunks(imported_before_the_reference, capsys):
    call_command("renormalise_records", source="crm", chunk_size=3)
    assert "crm: 4 records, updated 4, unchanged 0, skipped 0" in capsys.readouterr().out
    assert all("postal" in r.keys for r in SourceRecord.objects.all())


def test_an_unknown_source_is_refused(db):
    with pytest.raises(CommandError, match="unknown source"):
        call_command("renormalise_records", source="nope")


def test_the_customer_page_shows_the_postal_form_and_the_flags_in_words(
    imported_before_the_reference, client, steward_marketing
):
    from django.urls import reverse

    call_command("renormalise_records", source="crm")
    record = _record("A1")
    client.force_login(steward_marketing)
    body = client.get(reverse("customer_detail", args=[record.customer.public_id])).content.decode()
    assert "12 RUE DE LA REPUBLIQUE\n13001 MARSEILLE</pre>" in body
    assert 'title="city.corrected"' in body
    assert "city.corrected</li>" not in body
