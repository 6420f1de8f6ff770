from __future__ import annotations

from datetime import date

from rcu.normalisation.record import NormalisedRecord, normalise_record

TODAY = date(2024, 6, 15)


def record(values, **options) -> NormalisedRecord:
    options.setdefault("today", TODAY)
    return normalise_record(values, **options)


def test_full_record_is_normalised_with_its_keys():
    result = record(
        {
            "civility": "Madame",
            "first_name": "Marie-Hélène",
            "last_name": "D'ARTAGNAN",
            "birth_date": "12/03/1980",
            "email": " Marie.Dartagnan@Orange.FR ",
            "phone": "01 42 68 53 00",
            "mobile": "06.12.34.56.78",
            "address_line1": "12B, bd St-Michel",
            "address_line2": "Bât. A",
            "postcode": "75 005",
            "city": "PARIS CEDEX 05",
            "country": "France",
        },
        date_formats={"birth_date": "%d/%m/%Y"},
    )
    assert result.attributes == {
        "civility": "MME",
        "first_name": "Marie-Hélène",
        "last_name": "D'ARTAGNAN",
        "birth_date": "1980-03-12",
        "email": "marie.dartagnan@orange.fr",
        "phone": "+33142685300",
        "mobile": "+33612345678",
        "address_line1": "12B, bd St-Michel",
        "address_line2": "Bât. A",
        "postcode": "75005",
        "city": "PARIS",
        "country": "FR",
    }
    assert result.keys == {
        "first_name": "marie helene",
        "last_name": "d artagnan",
        "birth_date": "1980-03-12",
        "email": "marie.dartagnan@orange.fr",
        "phone": "+33142685300",
        "mobile": "+33612345678",
        "address": "12 bis boulevard saint michel batiment a",
        "postcode": "75005",
        "city": "paris",
        "country": "FR",
        # La Poste's postal form: the building before the street, the CEDEX kept.
        "postal": "BATIMENT A\n12 BIS BOULEVARD SAINT MICHEL\n75005 PARIS CEDEX 05",
    }
    assert result.flags == ["city.cedex_removed"]


def test_invalid_values_are_left_out_and_flagged_by_attribute():
    result = record(
        {
            "first_name": "Jean",
            "birth_date": "31/02/1980",
            "email": "jean.dupont",
            "phone": "06 00 00 00 00",
            "mobile": "12",
            "postcode": "7500A",
            "country": "Atlantide",
        },
        date_formats={"birth_date": "%d/%m/%Y"},
    )
    assert result.attributes == {"first_name": "Jean"}
    assert result.keys == {"first_name": "jean"}
    assert result.flags == [
        "birth_date.impossible",
        "country.unknown",
        "email.invalid",
        "mobile.invalid",
        "phone.placeholder",
        "postcode.invalid",
    ]


def test_flags_are_sorted_and_unique():
    result = record({"last_name": "Mme Dupont", "first_name": "Mme Marie", "postcode": "1000"})
    assert result.flags == sorted(set(result.flags))
    assert result.flags == [
        "civility.from_name",
        "first_name.civility_removed",
        "last_name.civility_removed",
        "postcode.padded",
    ]


def test_blank_and_missing_values_produce_nothing():
    result = record({"first_name": "", "last_name": None, "email": "   ", "phone": "\t"})
    assert result == NormalisedRecord({}, {}, [])


def test_civility_is_taken_from_a_name_when_missing():
    result = record({"first_name": "M. Jean", "last_name": "Dupont"})
    assert result.attributes == {"civility": "M", "first_name": "Jean", "last_name": "Dupont"}
    assert "civility" not in result.keys
    assert result.flags == ["civility.from_name", "first_name.civility_removed"]


def test_civility_field_wins_over_a_name_and_a_disagreement_is_flagged():
    result = record({"civility": "M", "last_name": "Mme Dupont"})
    assert result.attributes["civility"] == "M"
    assert "civility.name_conflict" in result.flags
    assert "civility.from_name" not in result.flags


def test_names_that_disagree_on_the_civility_give_none():
    result = record({"first_name": "M. Jean", "last_name": "Mme Dupont"})
    assert "civility" not in result.attributes
    assert "civility.name_conflict" in result.flags


def test_an_unknown_civility_field_is_replaced_by_the_title_of_a_name():
    result = record({"civility": "Dr", "last_name": "Mme Dupont"})
    assert result.attributes["civility"] == "MME"
    assert result.flags == ["civility.from_name", "civility.unknown", "last_name.civility_removed"]


def test_household_title_gives_no_civility():
    result = record({"last_name": "M. et Mme Dupont"})
    assert result.attributes == {"last_name": "Dupont"}
    assert result.flags == ["last_name.civility_removed", "last_name.couple"]


def test_extra_identifiers_are_trimmed_and_keyed_without_spaces_or_case():
    result = record({"loyalty_card": "  fid 1234 5678 "})
    assert result.attributes == {"loyalty_card": "fid 1234 5678"}
    assert result.keys == {"loyalty_card": "FID12345678"}
    assert result.flags == []


def test_address_key_joins_both_lines_even_when_only_the_second_is_given():
    assert record({"address_line2": "LD Les Granges"}).keys == {
        "address": "lieu dit les granges", "postal": "LIEU DIT LES GRANGES",
    }
    both = record({"address_line1": "3 R. Haute", "address_line2": "Bat C"})
    assert both.keys == {"address": "3 rue haute batiment c", "postal": "BATIMENT C\n3 RUE HAUTE"}


def test_postcode_follows_the_records_country():
    assert record({"postcode": "1000", "country": "Belgique"}).attributes["postcode"] == "1000"
    assert record({"postcode": "1000", "country": "France"}).attributes["postcode"] == "01000"


def test_postcode_follows_the_default_region_when_the_country_is_blank():
    assert record({"postcode": "1000"}).attributes["postcode"] == "01000"
    assert record({"postcode": "1000"}, default_region="BE").attributes["postcode"] == "1000"


def test_postcode_of_an_unknown_country_follows_the_default_region():
    result = record({"postcode": "ab 12", "country": "Atlantide"})
    assert result.attributes == {}
    assert result.flags == ["country.unknown", "postcode.invalid"]


def test_blank_country_is_not_invented():
    assert "country" not in record({"city": "Paris"}).attributes


def test_phones_are_read_in_the_default_region_or_their_own():
    result = record({"phone": "020 7946 0958", "mobile": "0470 12 34 56"},
                    default_region="GB", phone_regions={"mobile": "BE"})
    assert result.attributes == {"phone": "+442079460958", "mobile": "+32470123456"}


def test_landline_in_the_mobile_column_is_kept_and_flagged():
    result = record({"mobile": "01 42 68 53 00"})
    assert result.attributes == {"mobile": "+33142685300"}
    assert result.flags == ["mobile.not_mobile"]


def test_birth_date_without_a_declared_format_reads_the_usual_shapes():
    assert record({"birth_date": "1980-03-12"}).attributes == {"birth_date": "1980-03-12"}
    assert record({"birth_date": "12/03/2030"}).flags == ["birth_date.future"]
