from __future__ import annotations

import pytest

from rcu.normalisation.addresses import ABBREVIATIONS, address_key, normalise_address_line


def test_address_value_is_kept_as_written_with_spaces_tidied():
    result = normalise_address_line("  12  bis,  Rue de la Paix ")
    assert result.value == "12 bis, Rue de la Paix"
    assert result.problems == ()


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("3 BD Voltaire", "3 boulevard voltaire"),
        ("3 Bld Voltaire", "3 boulevard voltaire"),
        ("3 blvd Voltaire", "3 boulevard voltaire"),
        ("3 AV Foch", "3 avenue foch"),
        ("3 Ave. Foch", "3 avenue foch"),
        ("3 R. de la Paix", "3 rue de la paix"),
        ("3 R de la Paix", "3 rue de la paix"),
        ("3 CHE des Vignes", "3 chemin des vignes"),
        ("3 Chem. des Vignes", "3 chemin des vignes"),
        ("3 PL du Marché", "3 place du marche"),
        ("3 rue ST Roch", "3 rue saint roch"),
        ("3 rue STE Anne", "3 rue sainte anne"),
        ("3 IMP des Lilas", "3 impasse des lilas"),
        ("3 ALL des Tilleuls", "3 allee des tilleuls"),
        ("3 RTE de Lyon", "3 route de lyon"),
        ("3 FG Saint-Antoine", "3 faubourg saint antoine"),
        ("3 FBG Saint-Antoine", "3 faubourg saint antoine"),
        ("3 SQ Carpeaux", "3 square carpeaux"),
        ("3 CRS Mirabeau", "3 cours mirabeau"),
        ("3 QU des Belges", "3 quai des belges"),
        ("3 PROM des Anglais", "3 promenade des anglais"),
        ("RES les Pins", "residence les pins"),
        ("LOT le Clos", "lotissement le clos"),
        ("BAT C", "batiment c"),
        ("APP 12", "appartement 12"),
        ("APT 12", "appartement 12"),
        ("ESC 3", "escalier 3"),
        ("HAM de Brie", "hameau de brie"),
        ("LD Les Granges", "lieu dit les granges"),
        ("Lieu-dit Les Granges", "lieu dit les granges"),
        ("CTRE commercial", "centre commercial"),
        ("3 PTE de Paris", "3 porte de paris"),
        ("3 CHS de la Muette", "3 chaussee de la muette"),
        ("3 PAS du Désir", "3 passage du desir"),
        ("3 VLA des Roses", "3 villa des roses"),
        ("CITE Jardin", "cite jardin"),
        ("ZI des Sables", "zone industrielle des sables"),
        ("ZA du Moulin", "zone artisanale du moulin"),
        ("ZAC du Moulin", "zac du moulin"),
    ],
)
def test_la_poste_abbreviations_are_expanded_in_the_key(raw, key):
    assert normalise_address_line(raw).key == key


@pytest.mark.parametrize(
    "raw",
    ["12B rue de la Paix", "12 B rue de la Paix", "12bis rue de la Paix", "12 bis, rue de la Paix",
     "12 BIS R. DE LA PAIX", "12b, r de la paix"],
)
def test_every_spelling_of_bis_shares_one_key(raw):
    assert normalise_address_line(raw).key == "12 bis rue de la paix"


@pytest.mark.parametrize(
    ("raw", "key"),
    [("7T rue Haute", "7 ter rue haute"), ("7 ter rue Haute", "7 ter rue haute"),
     ("7 Q rue Haute", "7 quater rue haute"), ("7quater rue Haute", "7 quater rue haute")],
)
def test_ter_and_quater_are_spelled_out(raw, key):
    assert normalise_address_line(raw).key == key


def test_abbreviations_are_whole_words_only():
    assert normalise_address_line("Rue Saint-Roch").key == "rue saint roch"
    assert normalise_address_line("Route de Bastia").key == "route de bastia"
    assert normalise_address_line("Résidence Bâtonnier").key == "residence batonnier"


def test_a_letter_after_a_word_is_not_a_repetition_index():
    assert normalise_address_line("Bât B").key == "batiment b"


def test_cedex_is_dropped_from_the_key_but_kept_in_the_value():
    result = normalise_address_line("5 av. Foch CEDEX 08")
    assert result.value == "5 av. Foch CEDEX 08"
    assert result.key == "5 avenue foch"
    assert normalise_address_line("5 av. Foch Cedex").key == "5 avenue foch"


def test_what_cedex_stood_between_reads_as_one():
    """Found by the idempotence property: "B CEDEX P" keyed "b p", whose own key is "bp".
    CEDEX goes first, so the key of a key is itself."""
    assert address_key("B CEDEX p") == "bp"
    assert address_key("B cedex 12 P 4") == "bp 4"
    assert address_key("12 CEDEX 5 b") == "12 bis"


def test_postal_boxes_are_kept():
    assert normalise_address_line("BP 123").key == "bp 123"
    assert normalise_address_line("B.P. 123").key == "bp 123"
    assert normalise_address_line("CS 12345").key == "cs 12345"


def test_number_sign_before_a_house_number_is_dropped():
    assert normalise_address_line("N° 4 imp. des Lilas").key == "4 impasse des lilas"
    assert normalise_address_line("No 4 imp. des Lilas").key == "4 impasse des lilas"


def test_ordinals_and_small_words_are_kept():
    assert normalise_address_line("1er étage, porte gauche").key == "1er etage porte gauche"


@pytest.mark.parametrize("raw", ["-", ".", "//"])
def test_address_without_letter_or_digit_is_left_out_and_flagged(raw):
    result = normalise_address_line(raw)
    assert (result.value, result.key, result.problems) == (None, None, ("invalid",))


def test_blank_address_is_missing_without_a_problem():
    assert normalise_address_line("  ").problems == ()
    assert normalise_address_line(None).value is None


def test_no_expansion_is_itself_an_abbreviation():
    # Otherwise keys would change when computed again.
    expanded_words = {word for expansion in ABBREVIATIONS.values() for word in expansion.split()}
    assert all(ABBREVIATIONS.get(word, word) == word for word in expanded_words)


def test_address_key_of_a_key_is_the_key():
    key = address_key("12B, bd St-Michel, BP 4 CEDEX 05")
    assert key == "12 bis boulevard saint michel bp 4"
    assert address_key(key) == key
