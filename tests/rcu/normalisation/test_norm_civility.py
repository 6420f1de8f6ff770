from __future__ import annotations

import pytest

from rcu.normalisation.civility import normalise_civility, split_civility


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("M. Jean", ("M", "Jean")),
        ("M Jean", ("M", "Jean")),
        ("M.Jean", ("M", "Jean")),
        ("Mr Jean", ("M", "Jean")),
        ("Mr. Jean", ("M", "Jean")),
        ("MONSIEUR JEAN", ("M", "JEAN")),
        ("Monsieur Jean Dupont", ("M", "Jean Dupont")),
        ("Mme Dupont", ("MME", "Dupont")),
        ("Madame Dupont", ("MME", "Dupont")),
        ("Mlle Dupont", ("MME", "Dupont")),
        ("Melle Dupont", ("MME", "Dupont")),
        ("Mademoiselle Dupont", ("MME", "Dupont")),
        ("Mrs Smith", ("MME", "Smith")),
        ("Ms Smith", ("MME", "Smith")),
        ("Miss Smith", ("MME", "Smith")),
    ],
)
def test_gendered_title_is_split_from_the_name(raw, expected):
    assert split_civility(raw) == expected


@pytest.mark.parametrize(
    ("raw", "rest"),
    [
        ("Dr Dupont", "Dupont"),
        ("Dr. Dupont", "Dupont"),
        ("Docteur Dupont", "Dupont"),
        ("Pr Dupont", "Dupont"),
        ("Professeur Dupont", "Dupont"),
        ("Me Dupont", "Dupont"),
        ("Maître Dupont", "Dupont"),
        ("Maitre Dupont", "Dupont"),
    ],
)
def test_title_that_says_nothing_of_the_civility_is_removed_without_one(raw, rest):
    assert split_civility(raw) == (None, rest)


def test_a_gendered_title_after_another_title_gives_the_civility():
    assert split_civility("Dr Mme Dupont") == ("MME", "Dupont")


@pytest.mark.parametrize("name", ["Marie", "Mathilde", "Meyer", "Mélanie", "Michel", "Mrozek", "Msika"])
def test_names_starting_like_a_title_are_not_split(name):
    assert split_civility(name) == (None, name)


@pytest.mark.parametrize(("raw", "code"), [("Mme", "MME"), ("Madame", "MME"), ("Monsieur", "M"),
                                           ("Mlle", "MME"), ("Mr", "M")])
def test_a_title_alone_is_all_civility(raw, code):
    assert split_civility(raw) == (code, "")


@pytest.mark.parametrize("raw", ["M", "M.", "Me"])
def test_a_lone_m_or_me_stays_a_name(raw):
    # Alone, "M." is as likely an initial as Monsieur, and "Me" a name as Maître.
    assert split_civility(raw)[0] is None


@pytest.mark.parametrize(
    "raw", ["M. et Mme Dupont", "M et Mme Dupont", "Mr & Mrs Dupont", "Mme et M. Dupont",
            "Monsieur et Madame Dupont", "M. ou Mme Dupont", "M./Mme Dupont"]
)
def test_household_title_is_removed_but_implies_no_civility(raw):
    assert split_civility(raw) == (None, "Dupont")


@pytest.mark.parametrize(
    "raw", ["M", "M.", "m", "Mr", "MR", "Mr.", "Monsieur", "MONSIEUR", "H", "Homme", "1", " M "]
)
def test_every_spelling_of_monsieur_is_m(raw):
    result = normalise_civility(raw)
    assert (result.value, result.key, result.problems) == ("M", "M", ())


@pytest.mark.parametrize(
    "raw",
    ["Mme", "MME", "Mme.", "Madame", "MADAME", "Mrs", "Ms", "Mlle", "Melle", "Mademoiselle",
     "Miss", "F", "Femme", "2"],
)
def test_every_spelling_of_madame_is_mme(raw):
    result = normalise_civility(raw)
    assert (result.value, result.key, result.problems) == ("MME", "MME", ())


@pytest.mark.parametrize("raw", ["Dr", "X", "3", "Sir", "Monseigneur"])
def test_unknown_civility_is_left_out_and_flagged(raw):
    result = normalise_civility(raw)
    assert (result.value, result.problems) == (None, ("unknown",))


def test_household_civility_is_left_out_and_flagged_as_couple():
    result = normalise_civility("M. et Mme")
    assert (result.value, result.problems) == (None, ("couple",))


def test_blank_civility_is_missing_without_a_problem():
    assert normalise_civility("  ").value is None
    assert normalise_civility(None).problems == ()
