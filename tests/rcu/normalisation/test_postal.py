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
