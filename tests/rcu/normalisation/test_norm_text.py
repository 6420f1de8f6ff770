from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rcu.normalisation.text import collapse_spaces, fold, strip_stray_punctuation, word_key


def test_fold_lowercases_and_removes_accents():
    assert fold("Éloïse") == "eloise"
    assert fold("FRANÇOIS") == "francois"


def test_fold_expands_ligatures_and_sharp_s():
    assert fold("Cœur") == "coeur"
    assert fold("ÆSOP") == "aesop"
    assert fold("Straße") == "strasse"


def test_fold_collapses_whitespace_including_non_breaking_spaces():
    assert fold("  Jean \u00a0 Pierre\t") == "jean pierre"


def test_fold_keeps_letters_of_other_scripts():
    assert fold("Σωκράτης") == "σωκρατησ"
    assert fold("Иван") == "иван"


def test_fold_treats_compatibility_forms_as_their_plain_letters():
    assert fold("ﬁnance") == "finance"
    full_width_paris = "\uff30\uff41\uff52\uff49\uff53"
    assert fold(full_width_paris) == "paris"


def test_collapse_spaces_trims_and_joins_with_single_spaces():
    assert collapse_spaces("  a \n b  ") == "a b"


def test_stray_punctuation_at_the_ends_is_dropped_but_brackets_stay():
    assert strip_stray_punctuation("- Dupont,") == "Dupont"
    assert strip_stray_punctuation("(Jean)") == "(Jean)"


def test_word_key_turns_punctuation_into_single_spaces():
    assert word_key("Jean--François  d\u2019Arc") == "jean francois d arc"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_folding_twice_changes_nothing(text):
    assert fold(fold(text)) == fold(text)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_word_key_is_its_own_key(text):
    assert word_key(word_key(text)) == word_key(text)
