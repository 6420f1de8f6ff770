from __future__ import annotations

import pytest

from rcu.engine.comparators import (
    COMPARISONS,
    compare_address,
    compare_birth_date,
    compare_email,
    compare_first_name,
    compare_last_name,
    compare_pair,
    compare_phone,
    compare_postcode_city,
    orientation,
)
from rcu.engine.types import MatchRecord
from rcu.normalisation.record import normalise_record

_ids = iter(range(1, 1_000_000))


def record(**values: str) -> MatchRecord:
    normalised = normalise_record(values)
    return MatchRecord(
        id=next(_ids), source="crm", attributes=normalised.attributes, keys=normalised.keys
    )


def level_label(name: str, a: MatchRecord, b: MatchRecord) -> str | None:
    comparison = next(c for c in COMPARISONS if c.name == name)
    level = comparison.compare(a, b)
    return None if level is None else comparison.levels[level]


def test_comparisons_in_order_with_their_levels() -> None:
    assert [(c.name, c.levels) for c in COMPARISONS] == [
        (
            "first_name",
            ("exact", "jaro_winkler_high", "short_form", "compatible", "jaro_winkler_low",
             "different"),
        ),
        (
            "last_name",
            ("exact", "jaro_winkler_high", "token_match", "jaro_winkler_low", "in_other_email",
             "different"),
        ),
        ("birth_date", ("exact", "day_month_swapped", "one_typo", "same_year", "different")),
        ("email", ("exact", "same_local_part", "close", "different")),
        ("phone", ("exact", "one_typo", "other_line_kind", "different")),
        ("address", ("exact", "token_set_high", "token_set_mid", "different")),
        ("postcode_city", ("same_postcode_and_city", "same_postcode", "same_city",
                           "same_department", "different")),
        ("identifiers", ("same", "different")),
    ]


@pytest.mark.parametrize(
    ("one", "other", "expected"),
    [
        ("Jean-François", "JEAN FRANCOIS", "exact"),
        ("Éloïse", "eloise", "exact"),
        ("Marie Claire", "Marie-Claire", "exact"),
        ("Stéphane", "Stephanie", "jaro_winkler_high"),
        ("Jean", "Jeanne", "jaro_winkler_high"),
        ("J.", "Jean", "compatible"),
        ("Jean", "Jean-Pierre", "compatible"),
        ("Pierre", "Jean-Pierre", "compatible"),
        ("Max", "Maximilien", "compatible"),
        ("Alex", "Alexandre", "compatible"),
        ("J.-P.", "Jean-Pierre", "compatible"),
        ("Sylvie", "Sylvain", "jaro_winkler_low"),
        ("Éric", "Erik", "jaro_winkler_low"),
        ("Michel", "Mickaël", "jaro_winkler_low"),
        ("Jean", "Paul", "different"),
        ("Amélie", "Nathalie", "different"),
    ],
)
def test_first_name_levels(one: str, other: str, expected: str) -> None:
    a = record(first_name=one, last_name="Durand")
    b = record(first_name=other, last_name="Durand")
    assert level_label("first_name", a, b) == expected
    assert level_label("first_name", b, a) == expected


@pytest.mark.parametrize(
    ("one", "other", "expected"),
    [
        ("Le Goff", "LE GOFF", "exact"),
        ("Le Goff", "Legoff", "exact"),
        ("D'Artagnan", "Dartagnan", "exact"),
        ("Lefèvre", "Lefebvre", "jaro_winkler_high"),
        ("Dupont", "Dupond", "jaro_winkler_high"),
        ("Martin", "Dupont-Martin", "token_match"),
        ("Martin", "Dupont Martin", "token_match"),
        ("Rousseau", "Roussot", "jaro_winkler_low"),
        ("Le Goff", "Le Pen", "different"),
        ("Dupont", "Bernard", "different"),
    ],
)
def test_last_name_levels(one: str, other: str, expected: str) -> None:
    a = record(first_name="Claire", last_name=one)
    b = record(first_name="Claire", last_name=other)
    assert level_label("last_name", a, b) == expected
    assert level_label("last_name", b, a) == expected


def test_swapped_first_and_last_names_compare_crossed() -> None:
    a = record(first_name="Jean-François", last_name="Le Goff")
    b = record(first_name="LEGOFF", last_name="Jean Francois")
    assert orientation(a, b) is True
    assert orientation(b, a) is True
    assert compare_first_name(a, b) == 0
    assert compare_last_name(a, b) == 0


def test_straight_names_are_not_swapped() -> None:
    a = record(first_name="Pierre", last_name="Martin")
    b = record(first_name="Pierre", last_name="Martinez")
    assert orientation(a, b) is False
    assert level_label("first_name", a, b) == "exact"
    assert level_label("last_name", a, b) == "jaro_winkler_high"


def test_orientation_needs_all_four_names() -> None:
    a = record(first_name="Martin", last_name="Pierre")
    b = record(last_name="Martin")
    assert orientation(a, b) is False
    assert compare_first_name(a, b) is None
    assert level_label("last_name", a, b) == "different"


def test_orientation_is_recomputed_for_a_new_pair() -> None:
    a = record(first_name="Paul", last_name="Simon")
    swapped = record(first_name="Simon", last_name="Paul")
    straight = record(first_name="Paul", last_name="Simon")
    assert orientation(a, swapped) is True
    assert orientation(a, straight) is False
    assert orientation(a, swapped) is True


@pytest.mark.parametrize(
    ("one", "other", "expected"),
    [
        ("03/04/1980", "1980-04-03", "exact"),
        ("03/04/1980", "04/03/1980", "day_month_swapped"),
        ("03/04/1980", "03/04/1981", "one_typo"),
        ("13/04/1980", "31/04/1980", None),  # 31 April is no date: flagged, left out
        ("12/04/1980", "21/04/1980", "one_typo"),  # adjacent digits transposed
        ("03/04/1980", "03/04/1908", "one_typo"),
        ("03/04/1980", "25/12/1980", "same_year"),
        ("03/04/1980", "03/04/1990", "one_typo"),
        ("03/04/1980", "17/09/1975", "different"),
    ],
)
def test_birth_date_levels(one: str, other: str, expected: str | None) -> None:
    a = record(birth_date=one)
    b = record(birth_date=other)
    assert level_label("birth_date", a, b) == expected
    assert level_label("birth_date", b, a) == expected


@pytest.mark.parametrize(
    ("one", "other", "expected"),
    [
        ("Jean.Dupont@Orange.fr", "jean.dupont@orange.fr", "exact"),
        ("jean.dupont@orange.fr", "jean.dupont@wanadoo.fr", "same_local_part"),
        ("jean.dupont@orange.fr", "jean.dupond@orange.fr", "close"),
        ("jean.dupont@orange.fr", "jeandupont@orange.fr", "close"),
        ("jean.dupont@orange.fr", "marie.curie@gmail.com", "different"),
    ],
)
def test_email_levels(one: str, other: str, expected: str) -> None:
    assert level_label("email", record(email=one), record(email=other)) == expected


@pytest.mark.parametrize(
    ("one", "other", "expected"),
    [
        # Namesakes write their names into their addresses as readily as one person does.
        ("jean.martin@orange.fr", "jean.martin@free.fr", None),
        ("jeanmartin@orange.fr", "jean_martin@free.fr", None),
        ("jean.martin70@gmail.com", "jean.martin89@gmail.com", None),
        ("jean.martin@gmail.com", "jean.martin3@gmail.com", None),
        ("martin.j@gmail.com", "martin.j@orange.fr", None),
        ("jean-pierre.le-goff@free.fr", "jean-pierre.le-goff@orange.fr", None),
        # The same address with its domain mistyped is still one address.
        ("jean.martin@gmail.com", "jean.martin@gmial.com", "close"),
        # Shared digits, or a word that is not a name, are more than the names.
        ("jean.martin84@orange.fr", "jean.martin84@free.fr", "same_local_part"),
        ("jeannot.du.13@orange.fr", "jeannot.du.13@free.fr", "same_local_part"),
        ("jean.martin@orange.fr", "jean.matrin@orange.fr", "close"),
        ("jean.martin@orange.fr", "jeanmartin@orange.fr", "close"),
        ("jean.martin@orange.fr", "jmartin@free.fr", "different"),
    ],
)
def test_addresses_that_only_spell_the_names_tell_no_more_than_the_names(
    one: str, other: str, expected: str | None
) -> None:
    a = record(first_name="Jean-Pierre" if "pierre" in one else "Jean",
               last_name="Le Goff" if "goff" in one else "Martin", email=one)
    b = record(first_name="Jean-Pierre" if "pierre" in other else "Jean",
               last_name="Le Goff" if "goff" in other else "Martin", email=other)
    assert level_label("email", a, b) == expected
    assert level_label("email", b, a) == expected


@pytest.mark.parametrize(
    ("one", "other", "expected"),
    [
        ({"phone": "01 45 67 89 12"}, {"phone": "+33 1 45 67 89 12"}, "exact"),
        ({"mobile": "01 45 67 89 12"}, {"phone": "0145678912"}, "exact"),
        (
            {"phone": "06 12 34 56 78", "mobile": "07 11 22 33 44"},
            {"mobile": "0612345678"},
            "exact",
        ),
        ({"phone": "01 45 67 89 12"}, {"phone": "01 45 67 89 13"}, "one_typo"),
        ({"mobile": "06 12 34 56 78"}, {"phone": "01 45 67 89 12"}, "other_line_kind"),
        ({"phone": "01 45 67 89 12"}, {"mobile": "+44 7911 123456"}, "other_line_kind"),
        ({"mobile": "06 12 34 56 78"}, {"mobile": "07 98 76 54 32"}, "different"),
        ({"phone": "01 45 67 89 12"}, {"phone": "04 78 12 34 56"}, "different"),
        # A landline against a landline and a mobile: a kind in common, so different.
        (
            {"phone": "01 45 67 89 12"},
            {"phone": "04 78 12 34 56", "mobile": "06 12 34 56 78"},
            "different",
        ),
        # A number whose kind its plan does not tell (09: VoIP in France) proves nothing.
        ({"phone": "09 51 23 45 67"}, {"mobile": "06 12 34 56 78"}, "different"),
    ],
)
def test_phone_levels(one: dict[str, str], other: dict[str, str], expected: str) -> None:
    assert level_label("phone", record(**one), record(**other)) == expected
    assert level_label("phone", record(**other), record(**one)) == expected


@pytest.mark.parametrize(
    ("one", "other", "expected"),
    [
        # Her birth name kept in her address, her married name in the till's record.
        ({"last_name": "Letourneau", "email": "vasseur.karima@orange.fr"},
         {"last_name": "Vasseur"}, "in_other_email"),
        ({"last_name": "Letourneau", "email": "karima.vasseur59@orange.fr"},
         {"last_name": "Vasseur", "email": "k.vasseur@gmail.com"}, "in_other_email"),
        # Both names in the address: a household's shared address says nothing more.
        ({"last_name": "Letourneau", "email": "letourneau.vasseur@orange.fr"},
         {"last_name": "Vasseur"}, "different"),
        # Particles and two-letter tokens are not names to find in a mailbox.
        ({"last_name": "Bernard", "email": "karima.le@orange.fr"},
         {"last_name": "Le Goff"}, "different"),
        ({"last_name": "Letourneau"}, {"last_name": "Vasseur"}, "different"),
    ],
)
def test_a_surname_in_the_other_records_email_is_its_own_level(
    one: dict[str, str], other: dict[str, str], expected: str
) -> None:
    a = record(first_name="Karima", **one)
    b = record(first_name="Karima", **other)
    assert level_label("last_name", a, b) == expected
    assert level_label("last_name", b, a) == expected


@pytest.mark.parametrize(
    ("one", "other", "expected"),
    [
        (
            {"address_line1": "12B, bd St-Michel"},
            {"address_line1": "12 bis boulevard Saint Michel", "address_line2": "CEDEX 05"},
            "exact",
        ),
        (
            {"address_line1": "3 rue de la République"},
            {"address_line1": "3 r. de la Republique", "address_line2": "Bât. B"},
            "token_set_high",
        ),
        (
            {"address_line1": "3 av. Victor Hugo"},
            {"address_line1": "3 avenue Victor Hugot"},
            "token_set_high",
        ),
        (
            {"address_line1": "12 rue de la Paix"},
            {"address_line1": "14 rue de la Paix"},
            "token_set_mid",  # a neighbour's house number is not the same address
        ),
        (
            {"address_line1": "Résidence les Pins, 4 allée des Lilas"},
            {"address_line1": "4 allee des lilas"},
            "token_set_high",
        ),
        (
            {"address_line1": "5 chemin des Vignes"},
            {"address_line1": "5 ch. des Vigne"},
            "token_set_high",
        ),
        (
            {"address_line1": "8 place du Marché"},
            {"address_line1": "8 pl du Marche Neuf lieu dit"},
            "token_set_high",
        ),
        (
            {"address_line1": "12 rue de la Paix"},
            {"address_line1": "12 impasse de la Paix"},
            "token_set_mid",
        ),
        (
            {"address_line1": "12 rue de la Paix"},
            {"address_line1": "45 avenue Jean Jaurès"},
            "different",
        ),
    ],
)
def test_address_levels(one: dict[str, str], other: dict[str, str], expected: str) -> None:
    assert level_label("address", record(**one), record(**other)) == expected
    assert level_label("address", record(**other), record(**one)) == expected


@pytest.mark.parametrize(
    ("one", "other", "expected"),
    [
        (
            {"postcode": "75005", "city": "Paris"},
            {"postcode": "75005", "city": "PARIS"},
            "same_postcode_and_city",
        ),
        ({"postcode": "75005", "city": "Paris"}, {"postcode": "75005"}, "same_postcode"),
        (  # the postal reference corrects a town's typo from its postcode
            {"postcode": "75005", "city": "Paris"},
            {"postcode": "75005", "city": "Pariss"},
            "same_postcode_and_city",
        ),
        (
            {"postcode": "75005", "city": "Paris"},
            {"postcode": "75008", "city": "PARIS CEDEX 08"},
            "same_city",
        ),
        ({"postcode": "42000", "city": "St-Étienne"}, {"city": "Saint Etienne"}, "same_city"),
        (
            {"postcode": "69002", "city": "Lyon"},
            {"postcode": "69100", "city": "Villeurbanne"},
            "same_department",
        ),
        ({"postcode": "69002"}, {"postcode": "69100"}, "same_department"),
        ({"postcode": "97110"}, {"postcode": "97200"}, "different"),  # Guadeloupe, Martinique
        ({"postcode": "97110"}, {"postcode": "97190"}, "same_department"),
        (
            {"postcode": "75005", "city": "Paris"},
            {"postcode": "13001", "city": "Marseille"},
            "different",
        ),
        ({"postcode": "75005"}, {"city": "Paris"}, None),
        ({"city": "Paris"}, {}, None),
    ],
)
def test_postcode_city_levels(
    one: dict[str, str], other: dict[str, str], expected: str | None
) -> None:
    assert level_label("postcode_city", record(**one), record(**other)) == expected
    assert level_label("postcode_city", record(**other), record(**one)) == expected


def test_missing_values_give_no_level() -> None:
    full = record(
        first_name="Jean",
        last_name="Dupont",
        birth_date="1980-04-03",
        email="j@orange.fr",
        phone="0145678912",
        address_line1="1 rue de la Paix",
        postcode="75002",
        city="Paris",
    )
    empty = record()
    assert compare_pair(full, empty) == (None,) * len(COMPARISONS)
    assert compare_pair(empty, full) == (None,) * len(COMPARISONS)
    for compare in (
        compare_first_name,
        compare_last_name,
        compare_birth_date,
        compare_email,
        compare_phone,
        compare_address,
        compare_postcode_city,
    ):
        assert compare(full, empty) is None


def test_a_duplicate_with_french_corruptions_agrees_on_every_field_that_tells() -> None:
    a = record(
        first_name="Jean-François",
        last_name="Le Goff",
        birth_date="03/04/1980",
        email="jf.legoff@orange.fr",
        phone="01 45 67 89 12",
        address_line1="12 bd St-Michel",
        postcode="75005",
        city="Paris",
    )
    b = record(
        first_name="LEGOFF",
        last_name="Jean Francois",
        birth_date="04/03/1980",
        email="jf.legoff@wanadoo.fr",
        mobile="01.45.67.89.12",
        address_line1="12 boulevard Saint-Michel",
        address_line2="CEDEX 05",
        postcode="75005",
        city="PARIS CEDEX 05",
    )
    labels = [
        c.levels[level] if (level := c.compare(a, b)) is not None else None for c in COMPARISONS
    ]
    assert labels == [
        "exact",
        "exact",
        "day_month_swapped",
        None,  # "jf.legoff" at two providers only spells the names, already compared
        "exact",
        "exact",
        "same_postcode_and_city",  # "PARIS CEDEX 05" is Paris
        None,  # no extra identifier on either side
    ]


def record_with(**keys: str) -> MatchRecord:
    return MatchRecord(id=next(_ids), source="crm", attributes={}, keys=keys)


def test_extra_identifiers_agree_when_one_of_a_common_kind_is_equal() -> None:
    a = record_with(last_name="martin", loyalty_card="2991", customer_number="C1")
    b = record_with(last_name="martin", loyalty_card="2991", customer_number="C9")
    assert level_label("identifiers", a, b) == "same"


def test_extra_identifiers_of_a_common_kind_all_different_disagree() -> None:
    a = record_with(last_name="garcia", loyalty_card="2996720394469")
    b = record_with(last_name="garcia", loyalty_card="2958697685148")
    assert level_label("identifiers", a, b) == "different"


def test_extra_identifiers_of_different_kinds_are_no_evidence() -> None:
    a = record_with(loyalty_card="2991")
    b = record_with(customer_number="C1")
    assert level_label("identifiers", a, b) is None
    assert level_label("identifiers", a, record_with(email="x@y.fr")) is None


def test_a_postcode_with_another_town_is_the_postcode_alone() -> None:
    """A residence postcode beside a birthplace: the postcode agrees, the towns do not."""
    a = record_with(postcode="ex5 6hf", city="exeter")
    assert level_label("postcode_city", a, record_with(postcode="ex5 6hf", city="leeds")) == (
        "same_postcode")
    assert level_label("postcode_city", a, record_with(postcode="ex5 6hf", city="exeter")) == (
        "same_postcode_and_city")
    assert level_label("postcode_city", a, record_with(postcode="ls1 4ap", city="exeter")) == (
        "same_city")


@pytest.mark.parametrize(
    ("one", "other", "expected"),
    [
        ("William", "Bill", "short_form"),
        ("Becky", "Rebecca", "short_form"),
        ("Francisco", "Paco", "short_form"),
        ("Alex", "Alexandra", "compatible"),  # a prefix: compatible before any list
        ("Paddy", "Tricia", "different"),  # short forms of two different names
        ("Amy", "May", "jaro_winkler_low"),  # one transposition
        ("Lee", "Ele", "jaro_winkler_low"),
        ("Amy", "Zoe", "different"),
        ("William", "Robert", "different"),
    ],
)
def test_short_forms_and_one_keystroke_are_not_different_first_names(
    one: str, other: str, expected: str
) -> None:
    a, b = record(first_name=one), record(first_name=other)
    assert level_label("first_name", a, b) == expected
    assert level_label("first_name", b, a) == expected
