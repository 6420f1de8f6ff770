"""La Poste's postcode base shipped with RCU, on real French addresses."""

from __future__ import annotations

import hashlib
from importlib import resources

import pytest

from rcu.normalisation.postal import (
    REFERENCE_FILE,
    REFERENCE_PACKAGE,
    Status,
    place_key,
    postal_check,
    postal_reference,
)

SHIPPED_SHA256 = "c05acf1aa5b75346c9efcd3892e5e467774b8d139c589d8b688dada7b0d93b98"


# --- the shipped file ---------------------------------------------------------------


def test_the_shipped_reference_is_la_postes_2023_file_unchanged():
    data = resources.files(REFERENCE_PACKAGE).joinpath(REFERENCE_FILE).read_bytes()
    assert hashlib.sha256(data).hexdigest() == SHIPPED_SHA256


def test_the_reference_names_its_origin_licence_and_checksum():
    readme = resources.files(REFERENCE_PACKAGE).joinpath("README.md").read_text("utf-8")
    assert "La Poste — Base officielle des codes postaux, data.gouv.fr" in readme
    assert "2023" in readme
    assert "Licence Ouverte / Etalab 2.0" in readme
    assert SHIPPED_SHA256 in readme


def test_the_reference_loads_every_postcode_once_and_is_kept():
    reference = postal_reference()
    assert len(reference) == 6328
    assert postal_reference() is reference


# --- existence, communes and labels -------------------------------------------------


@pytest.mark.parametrize(
    "postcode",
    ["75001", "75116", "69003", "13016", "01300", "20000", "20167", "97100", "97400",
     "97600", "98000"],
)
def test_real_postcodes_exist(postcode):
    assert postal_reference().postcode_exists(postcode)


@pytest.mark.parametrize("postcode", ["75000", "75021", "13017", "99999", "00000", "20300"])
def test_postcodes_that_do_not_exist_are_not_found(postcode):
    assert not postal_reference().postcode_exists(postcode)


def test_a_postcode_knows_its_communes_and_delivery_labels():
    reference = postal_reference()
    assert reference.communes("75001") == {"PARIS 01"}
    assert reference.labels("75001") == {"PARIS"}
    assert reference.communes("75116") == {"PARIS 16"}
    # 01300 serves many communes of the Bugey, each its own delivery label.
    assert {"BELLEY", "COLOMIEU", "CONZIEU", "CUZIEU", "ARBOYS EN BUGEY"} <= reference.labels("01300")
    # Corsica: postcodes 20xxx, INSEE codes 2A/2B.
    assert {row.insee for row in reference.localities("20000")} == {"2A004"}


# --- place keys ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("city", "key"),
    [
        ("Paris", "paris"), ("PARIS 01", "paris1"), ("Paris 1er", "paris1"),
        ("PARIS 1ER ARRONDISSEMENT", "paris1"), ("Paris 8ème arrdt", "paris8"),
        ("St-Étienne", "saintetienne"), ("SAINT ETIENNE", "saintetienne"),
        ("Ste-Foy-lès-Lyon", "saintefoyleslyon"), ("L'Haÿ-les-Roses", "lhaylesroses"),
        ("PARIS CEDEX 08", "paris"), ("75008 Paris", "paris"), ("Boulogne s/ Mer", "boulognesurmer"),
    ],
)
def test_cities_compare_on_a_place_key(city, key):
    assert place_key(city) == key


# --- (postcode, city) pairs ---------------------------------------------------------


@pytest.mark.parametrize(
    ("postcode", "city"),
    [
        ("75001", "Paris"), ("75001", "Paris 1er"), ("75001", "PARIS 1ER ARRONDISSEMENT"),
        ("75001", "Paris 01"), ("75116", "Paris 16e"), ("75016", "PARIS"),
        ("69003", "Lyon"), ("69003", "Lyon 3ème"), ("13001", "Marseille"),
        ("13016", "Marseille 16e"),
    ],
)
def test_paris_lyon_and_marseille_arrondissements_match(postcode, city):
    check = postal_check(postcode, city)
    assert check.status is Status.MATCH
    assert check.label in {"PARIS", "LYON", "MARSEILLE"}


def test_an_arrondissement_that_is_not_the_postcodes_is_a_mismatch_not_a_typo():
    assert postal_check("75001", "Paris 8e").status is Status.MISMATCH


def test_a_city_of_another_region_is_a_mismatch():
    check = postal_check("75001", "Marseille")
    assert check.status is Status.MISMATCH
    assert not check.ok
    assert check.label is None


@pytest.mark.parametrize(
    ("postcode", "city", "label"),
    [
        ("97400", "Saint-Denis", "ST DENIS"),  # La Réunion
        ("97100", "Basse-Terre", "BASSE TERRE"),  # Guadeloupe
        ("97600", "Mamoudzou", "MAMOUDZOU"),  # Mayotte
        ("20000", "Ajaccio", "AJACCIO"),  # Corse-du-Sud
        ("98000", "Monaco", "MONACO"),  # Monaco, on La Poste's postcodes
        ("14290", "Saint-Martin-de-Bienfaite-la-Cressonnière", "ST MARTIN BIENFAITE CRESSONNIERE"),
    ],
)
def test_overseas_corsica_and_monaco_match_and_give_the_delivery_label(postcode, city, label):
    check = postal_check(postcode, city)
    assert (check.status, check.label) == (Status.MATCH, label)


@pytest.mark.parametrize("city", ["Belley", "Colomieu", "Conzieu", "Cuzieu"])
def test_every_commune_sharing_a_postcode_matches_it(city):
    check = postal_check("01300", city)
    assert check.status is Status.MATCH
    assert check.label == city.upper()


def test_a_locality_of_ligne_5_matches_and_goes_on_its_own_line():
    check = postal_check("01300", "Arbignieu")  # a former commune, now Arboys-en-Bugey
    assert check.status is Status.MATCH
    assert (check.label, check.line5) == ("ARBOYS EN BUGEY", "ARBIGNIEU")


# --- correction ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("postcode", "city", "label"),
    [
        ("13001", "Marseile", "MARSEILLE"), ("31000", "Toulouze", "TOULOUSE"),
        ("34000", "Montpelier", "MONTPELLIER"), ("67000", "Strasbour", "STRASBOURG"),
        ("33000", "Bordeau", "BORDEAUX"), ("06000", "Nise", "NICE"),
        ("01300", "Beley", "BELLEY"),
    ],
)
def test_a_close_misspelling_of_one_place_is_corrected_to_its_delivery_label(postcode, city, label):
    check = postal_check(postcode, city)
    assert (check.status, check.label) == (Status.CORRECTED, label)
    assert check.ok


def test_a_misspelt_locality_is_corrected_with_its_line():
    check = postal_check("01300", "Arbignieux")
    assert (check.status, check.label, check.line5) == (
        Status.CORRECTED, "ARBOYS EN BUGEY", "ARBIGNIEU",
    )


def test_a_misspelling_close_to_two_communes_of_the_postcode_is_not_corrected():
    # "Cunzieu" is one letter from both Conzieu and Cuzieu, two communes of 01300.
    assert postal_check("01300", "Cunzieu").status is Status.MISMATCH


@pytest.mark.parametrize(
    ("postcode", "city"),
    [("13001", "Marsan"), ("75001", "Pantin"), ("06000", "Nîmes"), ("13001", "Marseille 17")],
)
def test_a_city_far_from_every_place_of_the_postcode_is_never_corrected(postcode, city):
    assert postal_check(postcode, city).status is Status.MISMATCH


# --- CEDEX and unknown postcodes ----------------------------------------------------


def test_a_cedex_code_missing_from_the_base_is_not_unknown():
    check = postal_check("75384", "PARIS CEDEX 08", cedex=True)
    assert check.status is Status.CEDEX
    assert check.ok


def test_a_cedex_address_on_a_regular_postcode_is_not_a_mismatch():
    assert postal_check("13001", "MARSEILLE CEDEX 01", cedex=True).status is Status.MATCH
    assert postal_check("13001", "AIX EN PROVENCE CEDEX", cedex=True).status is Status.CEDEX


def test_a_cedex_address_in_a_department_that_does_not_exist_is_unknown():
    assert postal_check("96100", "TRIFOUILLIS CEDEX", cedex=True).status is Status.UNKNOWN_POSTCODE


def test_a_postcode_that_does_not_exist_is_unknown():
    check = postal_check("75000", "Paris")
    assert check.status is Status.UNKNOWN_POSTCODE
    assert not check.ok


def test_a_postcode_without_a_city_is_only_checked_for_existence():
    assert postal_check("69003", None).status is Status.POSTCODE_ONLY
    assert postal_check("69000", "").status is Status.UNKNOWN_POSTCODE


# --- in a normalised record: flags, corrections, the postal form --------------------


def _record(**values):
    from rcu.normalisation.record import normalise_record

    return normalise_record(values)


def test_a_city_that_is_not_the_postcodes_is_flagged_and_kept_as_written():
    result = _record(postcode="75001", city="Marseille")
    assert result.flags == ["city.postcode_mismatch"]
    assert result.attributes["city"] == "Marseille"
    assert result.keys["city"] == "marseille"


def test_a_misspelt_city_becomes_the_delivery_label_and_says_so():
    result = _record(postcode="13001", city="Marseile")
    assert result.flags == ["city.corrected"]
    assert result.attributes["city"] == "MARSEILLE"
    assert result.keys["city"] == "marseille"
    assert result.keys["postal"] == "13001 MARSEILLE"


def test_a_postcode_that_does_not_exist_is_flagged_unknown():
    result = _record(postcode="75000", city="Paris")
    assert result.flags == ["postcode.unknown"]
    assert result.attributes["postcode"] == "75000"  # kept: a steward decides


@pytest.mark.parametrize(
    ("values", "last_line"),
    [
        ({"postcode": "75384", "city": "PARIS CEDEX 08"}, "75384 PARIS CEDEX 08"),
        ({"postcode": "69441", "city": "Lyon Cedex 3"}, "69441 LYON CEDEX 03"),
        ({"postcode": "13001", "city": "Marseille CEDEX 01"}, "13001 MARSEILLE CEDEX 01"),
        ({"postcode": "92099", "city": "La Défense Cedex"}, "92099 LA DEFENSE CEDEX"),
        ({"address_line1": "BP 45 CEDEX", "postcode": "31035", "city": "Toulouse"},
         "31035 TOULOUSE CEDEX"),
    ],
)
def test_cedex_addresses_are_never_unknown_and_keep_their_cedex(values, last_line):
    result = _record(**values)
    assert "postcode.unknown" not in result.flags
    assert "city.postcode_mismatch" not in result.flags
    assert result.keys["postal"].splitlines()[-1] == last_line


@pytest.mark.parametrize(
    ("values", "last_line"),
    [
        ({"postcode": "97400", "city": "Saint-Denis", "country": "Réunion"}, "97400 ST DENIS"),
        ({"postcode": "97100", "city": "Basse-Terre"}, "97100 BASSE TERRE"),
        ({"postcode": "20000", "city": "Ajaccio"}, "20000 AJACCIO"),
        ({"postcode": "98000", "city": "Monaco", "country": "MC"}, "98000 MONACO"),
        ({"postcode": "75008", "city": "Paris 8ème"}, "75008 PARIS"),
        ({"postcode": "69003", "city": "LYON"}, "69003 LYON"),
    ],
)
def test_overseas_corsica_monaco_and_arrondissements_pass_with_their_label(values, last_line):
    result = _record(**values)
    assert result.flags == []
    assert result.keys["postal"].splitlines()[-1] == last_line


def test_a_locality_of_ligne_5_gets_its_own_line_above_the_commune():
    result = _record(address_line1="5 chemin des Vignes", postcode="01300", city="Arbignieu")
    assert result.flags == []
    assert result.keys["postal"] == "5 CHEMIN DES VIGNES\nARBIGNIEU\n01300 ARBOYS EN BUGEY"


def test_a_foreign_address_is_not_checked_nor_put_in_the_french_form():
    result = _record(address_line1="10 Downing Street", postcode="SW1A 2AA", city="London",
                     country="United Kingdom")
    assert result.flags == []
    assert "postal" not in result.keys


def test_a_french_address_without_postcode_raises_no_postal_flag():
    result = _record(address_line1="3 rue Haute", city="Lyon")
    assert result.flags == []
    assert result.keys["postal"] == "3 RUE HAUTE\nLYON"


def test_the_source_default_country_decides_when_the_record_has_none():
    from rcu.normalisation.record import normalise_record

    belgian = normalise_record({"postcode": "75000", "city": "Paris"}, default_region="BE")
    assert belgian.flags == []
    assert "postal" not in belgian.keys


# --- the postal form ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("line1", "line2", "expected"),
    [
        # Street types in full while they fit (La Poste: "AVENUE DES FLEURS", not "AV").
        ("3 av. des Fleurs", "", ["3 AVENUE DES FLEURS"]),
        ("12B, bd St-Michel", "", ["12 BIS BOULEVARD SAINT MICHEL"]),
        ("N° 7 ter, r. de l'Église", "", ["7 TER RUE DE L EGLISE"]),
        # Too long: the street type is abbreviated first, then titles.
        ("157 boulevard du Maréchal de Lattre de Tassigny", "",
         ["157 BD DU MAL DE LATTRE DE TASSIGNY"]),
        ("2 avenue du Président Salvador Allende prolongée", "",
         ["2 AV DU PDT SALVADOR ALLENDE PROLONGEE"]),
        # Complements go above the street: inside the building, then the building.
        ("14 rue de la Paix", "Appt 12", ["APPARTEMENT 12", "14 RUE DE LA PAIX"]),
        ("Résidence les Pins", "14 rue de la Paix", ["RESIDENCE LES PINS", "14 RUE DE LA PAIX"]),
        # The delivery service goes below it.
        ("BP 123", "14 rue de la Paix", ["14 RUE DE LA PAIX", "BP 123"]),
    ],
)
def test_the_postal_form_follows_the_french_standard(line1, line2, expected):
    result = _record(address_line1=line1, address_line2=line2, postcode="75002", city="Paris")
    lines = result.keys["postal"].splitlines()
    assert lines == [*expected, "75002 PARIS"]
    assert all(len(line) <= 38 for line in lines)


def test_every_line_of_the_postal_form_holds_38_characters_at_most():
    result = _record(
        address_line1="1234 chemin départemental de la vieille route de Saint-Rémy-de-Provence",
        postcode="13210", city="Saint-Rémy-de-Provence",
    )
    lines = result.keys["postal"].splitlines()
    assert all(len(line) <= 38 for line in lines)
    assert lines[-1] == "13210 ST REMY DE PROVENCE"


# --- matching ignores the postal form -----------------------------------------------


def test_matching_neither_blocks_nor_compares_on_the_postal_form():
    from rcu.engine.blocking import blocking_keys
    from rcu.engine.comparators import identifiers
    from rcu.engine.types import MatchRecord

    result = _record(last_name="Dupont", address_line1="3 rue Haute", postcode="75002",
                     city="Paris")
    with_form = MatchRecord(1, "s", result.attributes, result.keys)
    without = MatchRecord(2, "s", result.attributes,
                          {k: v for k, v in result.keys.items() if k != "postal"})
    assert "postal" in result.keys
    assert blocking_keys(with_form) == blocking_keys(without)
    assert identifiers(with_form) == {}


def test_no_extra_identifier_may_take_the_postal_forms_name():
    from rcu.ingestion.config import SourceConfigError, parse_source_config

    config = {
        "code": "crm", "name": "CRM", "department": "marketing", "external_id": "id",
        "fields": [{"source": "nom", "attribute": "last_name"}],
        "extra_identifiers": [{"code": "postal", "label": "Postal"}],
    }
    with pytest.raises(SourceConfigError, match="postal"):
        parse_source_config(config)


# --- how stewards read the flags ----------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "french", "english"),
    [
        ("postcode.unknown", "Code postal: absent de la base des codes postaux de La Poste, conservé",
         "Postcode: not in La Poste's postcode base, kept"),
        ("city.postcode_mismatch", "Ville: ne correspond pas au code postal (base La Poste)",
         "City: does not match the postcode (La Poste)"),
        ("city.corrected", "Ville: corrigée selon le libellé d'acheminement de La Poste",
         "City: corrected to La Poste's delivery label"),
    ],
)
def test_postal_flags_read_in_french_and_english(flag, french, english):
    from django.utils import translation

    from rcu.templatetags.rcu_ui import quality_flag

    with translation.override("fr"):
        assert quality_flag(flag) == french
    with translation.override("en"):
        assert quality_flag(flag) == english
