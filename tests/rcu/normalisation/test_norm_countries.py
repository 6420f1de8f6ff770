from __future__ import annotations

import pytest

from rcu.normalisation.countries import normalise_country


@pytest.mark.parametrize(
    "raw", ["France", "FRANCE", "france", "FR", "fr", "FRA", "République française", "Republique Francaise"]
)
def test_every_spelling_of_france_is_fr(raw):
    result = normalise_country(raw)
    assert (result.value, result.key, result.problems) == ("FR", "FR", ())


@pytest.mark.parametrize(
    ("raw", "code"),
    [("Belgique", "BE"), ("Belgium", "BE"), ("BE", "BE"), ("BEL", "BE"),
     ("Suisse", "CH"), ("Switzerland", "CH"), ("CH", "CH"),
     ("Deutschland", "DE"), ("Allemagne", "DE"), ("Espagne", "ES"), ("Italie", "IT"),
     ("Royaume-Uni", "GB"), ("UK", "GB"), ("GB", "GB"), ("GBR", "GB"),
     ("Luxembourg", "LU"), ("Monaco", "MC"), ("Maroc", "MA"), ("Algérie", "DZ"),
     ("Tunisie", "TN"), ("Portugal", "PT"), ("Côte d\u2019Ivoire", "CI"), ("États-Unis", "US"),
     ("La Réunion", "RE"), ("Guadeloupe", "GP"), ("NZ", "NZ")],
)
def test_country_names_and_codes_become_iso_alpha_2(raw, code):
    assert normalise_country(raw).value == code


@pytest.mark.parametrize("raw", ["Atlantide", "XX", "ZZZ", "-", "123"])
def test_unknown_country_is_left_out_and_flagged(raw):
    result = normalise_country(raw)
    assert (result.value, result.key, result.problems) == (None, None, ("unknown",))


def test_blank_country_is_missing_without_a_problem():
    assert normalise_country("  ").problems == ()
    assert normalise_country(None).value is None
