from __future__ import annotations

from rcu.engine.blocking import blocking_keys, key_kind, swapped_day_month
from rcu.engine.phonetic import phonetic_key
from rcu.engine.types import MatchRecord
from rcu.normalisation.record import normalise_record


def record(id_: int = 1, **values: str) -> MatchRecord:
    normalised = normalise_record(values)
    return MatchRecord(id=id_, source="crm", attributes=normalised.attributes, keys=normalised.keys)


def of_kind(keys: set[str], kind: str) -> set[str]:
    return {key for key in keys if key_kind(key) == kind}


def test_every_kind_of_key_from_a_full_record() -> None:
    keys = blocking_keys(
        record(
            first_name="Jean",
            last_name="Dupont",
            birth_date="03/04/1980",
            email="Jean.Dupont@Orange.fr",
            phone="01 45 67 89 12",
            mobile="06 12 34 56 78",
            postcode="75005",
        )
    )
    assert keys == {
        "em:jean.dupont@orange.fr",
        "ph:+33145678912",
        "ph:+33612345678",
        "nb:DYP3:1980",
        "np:DYP3:75005",
        f"nt:{min(phonetic_key('jean'), 'DYP3')}:{max(phonetic_key('jean'), 'DYP3')}",
        "bd:1980-04-03:j",
        "bd:1980-03-04:j",
        "bd:1980-04-03:d",
        "bd:1980-03-04:d",
        f"fp:{phonetic_key('jean')}:75005",
        "el:jeandupont",
    }


def test_key_kind_is_the_prefix() -> None:
    assert key_kind("em:a@b.fr") == "em"
    assert key_kind("nb:DYP3:1980") == "nb"
    assert {key_kind(key) for key in blocking_keys(record(email="a@b.fr"))} == {"em"}


def test_missing_values_yield_no_key() -> None:
    assert blocking_keys(record()) == set()
    assert blocking_keys(record(first_name="Jean")) == set()
    # A last name alone is not enough for any key: each needs a second part.
    assert blocking_keys(record(last_name="Dupont")) == set()
    assert blocking_keys(record(birth_date="1980-04-03")) == set()
    assert of_kind(blocking_keys(record(last_name="Dupont", birth_date="1980-04-25")), "bd") == {
        "bd:1980-04-25:d"
    }
    assert of_kind(blocking_keys(record(last_name="Dupont", postcode="75005")), "np") == {
        "np:DYP3:75005"
    }


def test_invalid_values_yield_no_key() -> None:
    keys = blocking_keys(record(email="not an address", phone="12", birth_date="31/02/1980"))
    assert keys == set()


def test_swapped_first_and_last_names_share_a_name_key() -> None:
    straight = blocking_keys(record(first_name="Pierre", last_name="Martin"))
    swapped = blocking_keys(record(first_name="MARTIN", last_name="Pierre"))
    assert of_kind(straight, "nt") == of_kind(swapped, "nt") != set()


def test_accents_hyphens_and_particles_do_not_split_keys() -> None:
    one = blocking_keys(
        record(
            first_name="Jean-François",
            last_name="Le Goff",
            birth_date="1980-04-03",
            postcode="29200",
        )
    )
    other = blocking_keys(
        record(
            first_name="JEAN FRANCOIS",
            last_name="LEGOFF",
            birth_date="03/04/1980",
            postcode="29200",
        )
    )
    for kind in ("nb", "np", "nt", "bd"):
        assert of_kind(one, kind) == of_kind(other, kind) != set(), kind


def test_phonetic_spelling_variants_share_name_keys() -> None:
    one = blocking_keys(record(last_name="Lefèvre", birth_date="1975-06-12", postcode="59000"))
    other = blocking_keys(record(last_name="Lefebvre", birth_date="1975-01-01", postcode="59000"))
    assert of_kind(one, "nb") == of_kind(other, "nb")
    assert of_kind(one, "np") == of_kind(other, "np")


def test_a_phone_in_the_mobile_column_meets_it_in_the_phone_column() -> None:
    landline_as_mobile = blocking_keys(record(mobile="01 45 67 89 12"))
    landline = blocking_keys(record(phone="+33 1 45 67 89 12"))
    mobile_as_phone = blocking_keys(record(phone="06.12.34.56.78"))
    mobile = blocking_keys(record(mobile="0612345678"))
    assert landline_as_mobile == landline == {"ph:+33145678912"}
    assert mobile_as_phone == mobile == {"ph:+33612345678"}


def test_day_month_inversion_shares_a_birth_date_key() -> None:
    truth = blocking_keys(record(first_name="Marie", birth_date="1980-04-03"))
    inverted = blocking_keys(record(first_name="Marie", birth_date="1980-03-04"))
    assert of_kind(truth, "bd") & of_kind(inverted, "bd") == {"bd:1980-04-03:m", "bd:1980-03-04:m"}


def test_a_birth_date_without_a_valid_swap_gives_one_key() -> None:
    assert of_kind(blocking_keys(record(first_name="Luc", birth_date="1980-04-25")), "bd") == {
        "bd:1980-04-25:l"
    }
    assert of_kind(blocking_keys(record(first_name="Luc", birth_date="1980-05-05")), "bd") == {
        "bd:1980-05-05:l"
    }


def test_swapped_day_month() -> None:
    assert swapped_day_month("1980-04-03") == "1980-03-04"
    assert swapped_day_month("1980-04-13") is None
    assert swapped_day_month("1980-07-07") is None
    assert swapped_day_month("2001-02-29") is None
    assert swapped_day_month("") is None


def test_town_keys_catch_a_typo_in_one_name() -> None:
    crm = blocking_keys(record(first_name="Bertrand", last_name="Drvaux", city="Paris"))
    till = blocking_keys(record(first_name="Bertrand", last_name="Devaux", city="PARIS"))
    assert of_kind(crm, "fc") & of_kind(till, "fc")
    assert not of_kind(crm, "lc") & of_kind(till, "lc")


def test_mailbox_key_survives_a_change_of_provider() -> None:
    orange = blocking_keys(record(email="thomas.perron@orange.fr"))
    outlook = blocking_keys(record(email="thomasperron75@outlook.fr"))
    assert of_kind(orange, "el") == of_kind(outlook, "el") == {"el:thomasperron"}


def test_short_mailbox_names_make_no_key() -> None:
    assert of_kind(blocking_keys(record(email="jp@free.fr")), "el") == set()


def test_extra_identifiers_are_blocking_keys() -> None:
    keys = blocking_keys(MatchRecord(1, "caisse", {}, {"loyalty_card": "2958068065807"}))
    assert keys == {"id:loyalty_card:2958068065807"}


def test_swapped_names_or_a_missing_first_name_still_meet_on_the_birth_date() -> None:
    """The birth date key is made with each name's initial: a record whose names were
    typed the other way round, or that lost its first name and has a typo in its
    surname (no name key left in common), meets the truth on the birth date."""
    truth = blocking_keys(record(first_name="Alison", last_name="Wilkinson",
                                 birth_date="1944-04-14"))
    swapped = blocking_keys(record(first_name="Wilkinson", last_name="A",
                                   birth_date="1944-04-14"))
    no_first_name = blocking_keys(record(last_name="Wilkinon", birth_date="1944-04-14"))
    assert truth & swapped
    assert truth & no_first_name == {"bd:1944-04-14:w"}
