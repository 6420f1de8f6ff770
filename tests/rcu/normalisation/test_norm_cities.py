from __future__ import annotations

import pytest

from rcu.normalisation.cities import city_key, normalise_city


def test_city_is_kept_as_written_with_spaces_tidied():
    result = normalise_city("  Saint-Étienne ")
    assert (result.value, result.key, result.problems) == ("Saint-Étienne", "saint etienne", ())


@pytest.mark.parametrize(
    ("raw", "value"),
    [("PARIS CEDEX 08", "PARIS"), ("Lyon Cedex 3", "Lyon"), ("Nantes CEDEX", "Nantes"),
     ("BORDEAUX CEDEX 123", "BORDEAUX"), ("Marseille - Cedex 02", "Marseille")],
)
def test_cedex_is_removed_from_the_city_and_flagged(raw, value):
    result = normalise_city(raw)
    assert result.value == value
    assert result.problems == ("cedex_removed",)


@pytest.mark.parametrize(
    "raw", ["Paris", "PARIS", "Paris 08", "PARIS 8E", "Paris 8ème", "Paris 1er", "Paris 8e arrondissement",
            "75008 Paris"]
)
def test_arrondissements_are_dropped_from_the_key(raw):
    assert normalise_city(raw).key == "paris"


def test_lyon_third_is_lyon():
    assert normalise_city("Lyon 3ème").key == "lyon"


@pytest.mark.parametrize(
    ("raw", "key"),
    [("St-Étienne", "saint etienne"), ("ST ETIENNE", "saint etienne"),
     ("Ste-Foy-lès-Lyon", "sainte foy les lyon"), ("STE FOY LES LYON", "sainte foy les lyon"),
     ("Boulogne s/ Mer", "boulogne sur mer"), ("Boulogne-sur-Mer", "boulogne sur mer"),
     ("Châlons/Champagne", "chalons champagne"), ("L'Isle-Adam", "l isle adam")],
)
def test_city_key_is_folded_with_saints_spelled_out(raw, key):
    assert normalise_city(raw).key == key


@pytest.mark.parametrize("raw", ["75001", "CEDEX", "--"])
def test_city_without_a_letter_left_is_invalid(raw):
    result = normalise_city(raw)
    assert result.value is None
    assert "invalid" in result.problems


def test_blank_city_is_missing_without_a_problem():
    assert normalise_city("").problems == ()


def test_city_key_of_a_key_is_the_key():
    assert city_key("saint etienne") == "saint etienne"
