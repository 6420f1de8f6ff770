from __future__ import annotations

import pytest

from rcu.normalisation.names import name_civility, name_key, normalise_name


def test_name_is_trimmed_and_keeps_accents_and_case_in_its_value():
    result = normalise_name("  Jean-François  ")
    assert result.value == "Jean-François"
    assert result.key == "jean francois"
    assert result.problems == ()


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("D'ARTAGNAN", "d artagnan"),
        ("d\u2019Artagnan", "d artagnan"),
        ("Le Goff", "le goff"),
        ("LE GOFF", "le goff"),
        ("de la Fontaine", "de la fontaine"),
        ("De La Fontaine", "de la fontaine"),
        ("Müller", "muller"),
        ("Strauß", "strauss"),
        ("Lætitia", "laetitia"),
        ("Chloé", "chloe"),
        ("Noël", "noel"),
        ("Cœur", "coeur"),
        ("Jean - Pierre", "jean pierre"),
        ("St. John", "st john"),
        ("Jean  Pierre", "jean pierre"),
    ],
)
def test_name_key_ignores_case_accents_and_punctuation(raw, key):
    assert normalise_name(raw).key == key


def test_spellings_of_one_name_share_a_key():
    spellings = ["Jean-François", "JEAN FRANCOIS", "jean-françois", "Jean François", "jean.francois"]
    assert {normalise_name(s).key for s in spellings} == {"jean francois"}


def test_spaces_inside_a_name_are_collapsed_in_the_value():
    assert normalise_name("de   la  Fontaine").value == "de la Fontaine"


def test_stray_punctuation_at_the_ends_of_a_name_is_removed():
    assert normalise_name("Dupont,").value == "Dupont"
    assert normalise_name("- Dupont -").value == "Dupont"


def test_civility_before_a_name_is_removed_and_flagged():
    result = normalise_name("Mme Dupont")
    assert result.value == "Dupont"
    assert result.key == "dupont"
    assert result.problems == ("civility_removed",)


def test_marie_keeps_its_ma():
    assert normalise_name("Marie").value == "Marie"
    assert normalise_name("Marie").problems == ()


def test_household_title_is_removed_and_flagged():
    result = normalise_name("M. et Mme Dupont")
    assert result.value == "Dupont"
    assert result.problems == ("civility_removed", "couple")


def test_name_that_is_only_a_civility_is_left_out():
    result = normalise_name("Madame")
    assert (result.value, result.key, result.problems) == (None, None, ("civility_removed",))


@pytest.mark.parametrize("raw", ["1234", "--", "?", "12/05", "."])
def test_name_without_a_letter_is_left_out_and_flagged(raw):
    result = normalise_name(raw)
    assert (result.value, result.key, result.problems) == (None, None, ("invalid",))


def test_name_with_digits_is_kept_and_flagged():
    result = normalise_name("Dupont2")
    assert result.value == "Dupont2"
    assert result.problems == ("digits",)


def test_blank_name_is_missing_without_a_problem():
    assert normalise_name("   ").value is None
    assert normalise_name(None).problems == ()


def test_name_civility_reads_the_title_before_a_name():
    assert name_civility("Mme Dupont") == "MME"
    assert name_civility("M. Jean") == "M"
    assert name_civility("Dr Dupont") is None
    assert name_civility("Marie") is None
    assert name_civility(None) is None


def test_name_key_of_a_key_is_the_key():
    assert name_key("d artagnan") == "d artagnan"
