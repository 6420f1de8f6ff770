from __future__ import annotations

import random

import pytest

from rcu.engine.blocking import blocking_keys
from rcu.engine.comparators import compare_email, compare_phone
from rcu.engine.generic import (
    DISTINCT_NAMES_CAP,
    KNOWN_PLACEHOLDER,
    SHARED_BY_MANY_PEOPLE,
    GenericValue,
    GenericValueSet,
    _Tally,
    detect_generic_values,
    email_placeholder_rule,
    name_placeholder_rule,
)
from rcu.engine.types import MatchRecord
from rcu.normalisation.record import normalise_record

STORE_PHONE = "+33140000000"
SURNAMES = [
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois",
    "Moreau", "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David",
    "Bertrand", "Morel", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine",
    "Rousseau", "Vincent", "Muller", "Lefevre", "Faure", "André", "Mercier", "Blanc",
    "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
    "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu",
    "Gautier", "Masson",
]  # fmt: skip


def record(id_: int, source: str = "shop", **values: str) -> MatchRecord:
    normalised = normalise_record(values)
    return MatchRecord(id_, source, normalised.attributes, normalised.keys)


def walk_ins(count: int, *, phone: str = "01 40 00 00 00") -> list[MatchRecord]:
    return [
        record(i, last_name=SURNAMES[i % len(SURNAMES)], first_name="Marie", phone=phone)
        for i in range(count)
    ]


def test_store_phone_shared_by_fifty_different_people_is_generic() -> None:
    [generic] = detect_generic_values(walk_ins(50))

    assert generic == GenericValue(
        "phone", STORE_PHONE, 50, 50, SHARED_BY_MANY_PEOPLE, "many_distinct_last_names"
    )
    assert generic.key == f"ph:{STORE_PHONE}"


def test_phone_counts_once_per_record_whichever_column_holds_it() -> None:
    records = [
        record(i, last_name=SURNAMES[i], phone="01 40 00 00 00", mobile="+33 1 40 00 00 00")
        for i in range(10)
    ]

    [generic] = detect_generic_values(records)

    assert (generic.kind, generic.records, generic.distinct_names) == ("phone", 10, 10)


def test_household_landline_with_two_surnames_is_not_generic() -> None:
    family = [
        record(
            i,
            last_name="Dupont" if i % 3 else "Le Goff",
            first_name=["Jean", "Anne", "Lucas", "Emma"][i % 4],
            phone="02 98 12 34 56",
            email="famille.dupont@orange.fr",
        )
        for i in range(12)
    ]

    assert detect_generic_values(family) == []


def test_household_with_a_few_spelling_variants_is_not_generic() -> None:
    names = ["Dupont", "Dupond", "Dupont-Martin", "Martin", "Dupont"] * 3
    family = [record(i, last_name=name, phone="02 98 12 34 56") for i, name in enumerate(names)]

    assert detect_generic_values(family) == []


def test_same_person_imported_many_times_is_not_generic() -> None:
    duplicates = [
        record(i, source=f"s{i}", last_name="Dupont", first_name="Jean", email="jean@free.fr")
        for i in range(40)
    ]

    assert detect_generic_values(duplicates) == []


def test_below_min_records_never_generic_by_sharing() -> None:
    assert detect_generic_values(walk_ins(9)) == []
    assert detect_generic_values(walk_ins(9), min_records=5)[0].records == 9


def test_ratio_is_taken_over_named_records_only() -> None:
    nameless = [record(100 + i, phone="01 40 00 00 00") for i in range(200)]

    assert detect_generic_values(walk_ins(10) + nameless)[0].distinct_names == 10
    assert detect_generic_values(nameless) == []


def test_many_records_with_too_few_surnames_for_their_count_are_not_generic() -> None:
    # 6 surnames over 40 records: more than a family of twelve, but 15% only.
    records = [record(i, last_name=SURNAMES[i % 6], phone="01 40 00 00 00") for i in range(40)]

    assert detect_generic_values(records) == []
    assert detect_generic_values(records, min_distinct_name_ratio=0.1) != []


def test_store_email_shared_by_walk_ins_is_generic() -> None:
    records = [record(i, last_name=SURNAMES[i], email="Client@Magasin.fr") for i in range(20)]

    [generic] = detect_generic_values(records)

    assert (generic.kind, generic.value, generic.key) == (
        "email",
        "client@magasin.fr",
        "em:client@magasin.fr",
    )


def test_only_requested_kinds_are_counted() -> None:
    records = [
        record(i, last_name=SURNAMES[i], email="client@magasin.fr", phone="01 40 00 00 00")
        for i in range(20)
    ]

    assert [g.kind for g in detect_generic_values(records, kinds=("ph",))] == ["phone"]
    assert [g.kind for g in detect_generic_values(records, kinds=("em",))] == ["email"]


@pytest.mark.parametrize(
    ("address", "rule"),
    [
        ("noemail@magasin.fr", "placeholder_local_part:noemail"),
        ("no-email@gmail.com", "placeholder_local_part:noemail"),
        ("pas.de.mail@orange.fr", "placeholder_local_part:pasdemail"),
        ("pasdemail@free.fr", "placeholder_local_part:pasdemail"),
        ("aucun@aucun.fr", "placeholder_local_part:aucun"),
        ("none+42@shop.com", "placeholder_local_part:none"),
        ("test@test.fr", "placeholder_local_part:test"),
        ("xxx@xxx.fr", "placeholder_local_part:xxx"),
        ("jean.dupont@example.com", "reserved_domain:example.com"),
        ("jean@shop.test", "reserved_domain:shop.test"),
        ("jean.dupont@nomail.fr", "placeholder_domain:nomail"),
        ("a@a.fr", "repeated_character"),
        ("aaaa@gmail.com", "repeated_character"),
    ],
)
def test_known_placeholder_emails(address: str, rule: str) -> None:
    assert email_placeholder_rule(address) == rule


@pytest.mark.parametrize(
    "address",
    [
        "jean.dupont@orange.fr",
        "j@dupont.fr",
        "testard@free.fr",
        "contact.aucune-idee@laposte.net",
        "nonne@wanadoo.fr",
        "anna@anna.fr",
        "xavier@xxx-shop.fr",
    ],
)
def test_real_emails_are_not_placeholders(address: str) -> None:
    assert email_placeholder_rule(address) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("client comptant", True),
        ("client divers", True),
        ("inconnu", True),
        ("anonyme", True),
        ("xxx", True),
        ("zzzz", True),
        ("dupont", False),
        ("le goff", False),
        ("ii", False),
        ("client", False),
    ],
)
def test_known_placeholder_names(name: str, expected: bool) -> None:
    assert (name_placeholder_rule(name) is not None) is expected


def test_known_placeholders_are_generic_from_one_record() -> None:
    records = [
        record(1, last_name="CLIENT COMPTANT", email="NoEmail@Magasin.fr"),
        record(2, first_name="Client", last_name="Divers"),
        record(3, first_name="Marie", last_name="Inconnu"),
    ]

    found = {(g.kind, g.value): g for g in detect_generic_values(records)}

    assert set(found) == {
        ("email", "noemail@magasin.fr"),
        ("name", "client comptant"),
        ("name", "client divers"),
        ("name", "inconnu"),
    }
    assert all(g.reason == KNOWN_PLACEHOLDER and g.records == 1 for g in found.values())
    assert found["email", "noemail@magasin.fr"].rule == "placeholder_local_part:noemail"
    assert found["name", "client comptant"].key is None


def test_walk_ins_named_by_a_placeholder_count_as_different_people() -> None:
    records = [record(i, last_name="Client comptant", phone="01 40 00 00 00") for i in range(30)]

    phones = [g for g in detect_generic_values(records) if g.kind == "phone"]

    assert [(g.value, g.distinct_names) for g in phones] == [(STORE_PHONE, 30)]


def test_placeholder_first_name_keeps_the_real_last_name() -> None:
    records = [
        record(i, first_name="xxx", last_name="Dupont", phone="02 98 12 34 56") for i in range(12)
    ]

    found = detect_generic_values(records)

    assert [(g.kind, g.value) for g in found] == [("name", "xxx")]


def test_admin_overrides_add_and_remove() -> None:
    detected = detect_generic_values(walk_ins(50))
    values = GenericValueSet(
        detected,
        add={("email", "accueil@magasin.fr")},
        remove={("phone", STORE_PHONE)},
    )

    assert values.is_generic("email", "accueil@magasin.fr")
    assert not values.is_generic("phone", STORE_PHONE)
    assert values.blocking_keys_to_skip() == frozenset({"em:accueil@magasin.fr"})
    assert list(values) == [("email", "accueil@magasin.fr")]
    assert GenericValueSet(detected).is_generic("phone", STORE_PHONE)


def test_overrides_contradicting_each_other_are_refused() -> None:
    with pytest.raises(ValueError, match="Both added and removed"):
        GenericValueSet(add={("phone", STORE_PHONE)}, remove={("phone", STORE_PHONE)})
    with pytest.raises(ValueError, match="Unknown kinds"):
        GenericValueSet(add={("ph", STORE_PHONE)})


def test_neutralise_makes_the_store_phone_missing_evidence() -> None:
    a, b = walk_ins(2)
    values = GenericValueSet(detect_generic_values(walk_ins(50)))

    assert compare_phone(a, b) == 0
    neutral_a, neutral_b = values.neutralise(a), values.neutralise(b)

    assert compare_phone(neutral_a, neutral_b) is None
    assert "phone" not in neutral_a.keys and "phone" not in neutral_a.attributes
    assert neutral_a.keys["last_name"] == a.keys["last_name"]
    assert (neutral_a.id, neutral_a.source) == (a.id, a.source)


def test_neutralise_keeps_the_other_phone_as_evidence() -> None:
    a = record(1, last_name="Martin", phone="01 40 00 00 00", mobile="06 12 34 56 78")
    b = record(2, last_name="Martin", phone="06 12 34 56 78")
    values = GenericValueSet(add={("phone", STORE_PHONE)})

    assert compare_phone(values.neutralise(a), values.neutralise(b)) == 0
    assert values.neutralise(a).keys["mobile"] == "+33612345678"


def test_neutralise_removes_placeholder_emails_and_names() -> None:
    a = record(1, first_name="Client", last_name="Comptant", email="noemail@magasin.fr")
    b = record(2, last_name="Client comptant", email="noemail@magasin.fr")
    c = record(3, first_name="Marie", last_name="Inconnu")
    values = GenericValueSet(detect_generic_values([a, b, c]))

    neutral_a, neutral_b = values.neutralise(a), values.neutralise(b)

    assert compare_email(neutral_a, neutral_b) is None
    assert neutral_a.keys == {} and neutral_a.attributes == {}
    assert neutral_b.keys == {}
    assert values.neutralise(c).keys == {"first_name": "marie"}


def test_neutralise_returns_a_record_without_generic_values_unchanged() -> None:
    values = GenericValueSet(add={("phone", STORE_PHONE)})
    untouched = record(1, last_name="Martin", phone="02 98 12 34 56")

    assert values.neutralise(untouched) is untouched


def test_blocking_keys_to_skip_match_the_blocking_key_format() -> None:
    records = [
        record(
            i,
            last_name=SURNAMES[i],
            first_name="Marie",
            phone="01 40 00 00 00",
            email="client@magasin.fr",
        )
        for i in range(20)
    ] + [record(99, last_name="Inconnu", email="noemail@magasin.fr")]
    values = GenericValueSet(detect_generic_values(records))

    skipped = values.blocking_keys_to_skip()

    assert skipped == frozenset(
        {f"ph:{STORE_PHONE}", "em:client@magasin.fr", "em:noemail@magasin.fr"}
    )
    assert skipped <= blocking_keys(records[0]) | blocking_keys(records[-1])


def test_distinct_name_sets_are_capped() -> None:
    tally = _Tally()
    for i in range(DISTINCT_NAMES_CAP * 3):
        tally.count(f"name{i}")

    assert (tally.records, tally.named, len(tally.names)) == (
        DISTINCT_NAMES_CAP * 3,
        DISTINCT_NAMES_CAP * 3,
        DISTINCT_NAMES_CAP,
    )


def test_value_with_more_names_than_the_cap_is_generic() -> None:
    # 3,000 records with 1,500 surnames: the capped count is still enough to decide.
    records = [
        MatchRecord(i, "shop", keys={"last_name": f"nom{i % 1500}", "phone": STORE_PHONE})
        for i in range(3 * DISTINCT_NAMES_CAP)
    ]

    [generic] = detect_generic_values(records)

    assert (generic.records, generic.distinct_names) == (3 * DISTINCT_NAMES_CAP, DISTINCT_NAMES_CAP)


def test_detection_reads_its_input_once() -> None:
    records = iter(walk_ins(50))

    assert len(detect_generic_values(records)) == 1


def test_same_input_in_any_order_gives_the_same_sorted_output() -> None:
    records = (
        walk_ins(30)
        + walk_ins(30, phone="05 56 00 00 00")
        + [record(200 + i, last_name=SURNAMES[i], email="client@magasin.fr") for i in range(15)]
        + [record(300, last_name="Anonyme", email="pasdemail@free.fr")]
    )
    expected = detect_generic_values(records)
    shuffled = records[:]
    random.Random(7).shuffle(shuffled)

    assert detect_generic_values(shuffled) == expected
    assert [(g.kind, g.value) for g in expected] == sorted((g.kind, g.value) for g in expected)
    assert [g.kind for g in expected] == ["email", "email", "name", "phone", "phone"]


def test_only_identifier_kinds_can_be_counted() -> None:
    with pytest.raises(ValueError, match="Only e-mail and phone"):
        detect_generic_values([], kinds=("nb",))
