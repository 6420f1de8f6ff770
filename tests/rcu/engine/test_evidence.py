"""Evidence the model learns: term frequencies, the household guard, contradictions that
separate, and EM told apart on personal comparisons."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter

import pytest

from rcu.engine.clustering import ScoredPair, cluster
from rcu.engine.comparators import (
    COMPARISONS,
    FirstNameLevel,
    LastNameLevel,
    PostcodeCityLevel,
)
from rcu.engine.custom import CustomComparison, comparisons_with, key_name
from rcu.engine.fellegi_sunter import Model, default_model, weight_from_probability
from rcu.engine.scoring import (
    COMMON_VALUE,
    CONTRADICTION,
    HOUSEHOLD_EVIDENCE,
    NAMES_ONLY,
    POSSIBLE_TWINS,
    RARE_VALUE,
    Scorer,
)
from rcu.engine.term_frequency import TermFrequencies, count_term_frequencies
from rcu.engine.training import train_model
from rcu.engine.types import MatchRecord
from rcu.normalisation.record import normalise_record
from tests.rcu.engine.test_scoring import _records

TF_ATTRIBUTES = [attribute for c in COMPARISONS for _, attribute in c.term_frequency]


def record(id_: int, **values: str) -> MatchRecord:
    normalised = normalise_record(values)
    return MatchRecord(id_, "test", normalised.attributes, normalised.keys)


def _base(common: int = 300, rare: int = 1) -> list[MatchRecord]:
    """Many Martins and one Quérouillère, spread over first names and towns."""
    rng = random.Random(3)
    firsts = ["Jean", "Marie", "Paul", "Anne", "Luc", "Rose", "Yves", "Léa"]
    people = [
        record(i, first_name=rng.choice(firsts), last_name="Martin",
               postcode=f"{75001 + i % 20}", city="Paris")
        for i in range(common)
    ]
    people += [
        record(common + i, first_name=rng.choice(firsts), last_name="Quérouillère",
               postcode="29200", city="Brest")
        for i in range(rare)
    ]
    return people


@pytest.fixture(scope="module")
def frequencies() -> TermFrequencies:
    frequencies = count_term_frequencies(_base(), TF_ATTRIBUTES)
    assert frequencies is not None
    return frequencies


def test_agreeing_on_a_rare_surname_weighs_more_than_on_a_common_one(frequencies):
    scorer = Scorer(default_model(COMPARISONS).replace(term_frequencies=frequencies))
    martins = scorer.score(record(1, first_name="Jean", last_name="Martin"),
                           record(2, first_name="Jean", last_name="Martin"))
    rare = scorer.score(record(1, first_name="Jean", last_name="Quérouillère"),
                        record(2, first_name="Jean", last_name="Quérouillère"))
    plain = Scorer(default_model(COMPARISONS)).score(
        record(1, first_name="Jean", last_name="Martin"),
        record(2, first_name="Jean", last_name="Martin"))
    assert martins.levels == rare.levels == plain.levels
    assert martins.weight < plain.weight < rare.weight


def test_an_agreement_is_never_turned_into_evidence_against(frequencies):
    model = default_model(COMPARISONS).replace(term_frequencies=frequencies)
    scorer = Scorer(model)
    a = record(1, last_name="Martin")
    levels = scorer.vector(a, record(2, last_name="Martin"))
    last = [c.name for c in COMPARISONS].index("last_name")
    assert scorer.adjustment(last, levels[last], a) >= -model.level_weights(last)[0]


def test_the_explanation_shows_the_frequencies_and_adds_up_to_the_score(frequencies):
    scorer = Scorer(default_model(COMPARISONS).replace(term_frequencies=frequencies))
    a = record(1, first_name="Jean", last_name="Martin", postcode="75001", city="Paris")
    b = record(2, first_name="Jean", last_name="Martin", postcode="75001", city="Paris")
    score = scorer.score(a, b)
    explained = scorer.explain_pair_dict(a, b)
    labels = {(c["comparison"], c["level"]) for c in explained["contributions"]}
    assert ("last_name", COMMON_VALUE) in labels
    assert explained["total_weight"] == score.weight
    parts = explained["prior_weight"] + sum(c["weight"] for c in explained["contributions"])
    assert parts == explained["total_weight"]  # exactly: one sum, one order
    rare = scorer.explain_pair_dict(
        record(1, last_name="Quérouillère", first_name="Jean", postcode="29200"),
        record(2, last_name="Quérouillère", first_name="Jean", postcode="29200"))
    assert ("last_name", RARE_VALUE) in {(c["comparison"], c["level"]) for c in rare["contributions"]}


def test_a_pair_already_compared_is_explained_from_its_levels_and_its_lower_record(frequencies):
    """What a batch run does for its review queue: the stored levels and the record
    holding the values, term frequencies and the guard included."""
    scorer = Scorer(default_model(COMPARISONS).replace(term_frequencies=frequencies))
    for first, last in (("Jean", "Martin"), ("Jean", "Quérouillère")):
        a = record(1, first_name=first, last_name=last, postcode="29200", city="Brest")
        b = record(2, first_name=first, last_name=last, postcode="29200", city="Brest")
        explained = scorer.explain_scored_dict(a, scorer.vector(a, b))
        assert explained == scorer.explain_pair_dict(b, a)
        assert any(c["level"] in (RARE_VALUE, COMMON_VALUE) for c in explained["contributions"])


@pytest.mark.parametrize("probability", [0.5, 0.99])
def test_stopping_early_gives_the_same_scores_with_term_frequencies(probability):
    records = _records(60, seed=5)
    frequencies = count_term_frequencies(records, TF_ATTRIBUTES)
    scorer = Scorer(default_model(COMPARISONS).replace(prior=1e-4, term_frequencies=frequencies))
    mark = weight_from_probability(probability)
    kept = dropped = adjusted = 0
    for a, b in itertools.combinations(records, 2):
        full = scorer.score(a, b)
        early = scorer.score_at_least(a, b, mark)
        adjusted += any(scorer.adjustments(a, full.levels))
        if early is None:
            assert full.weight < mark
            dropped += 1
        else:
            assert early == full
            kept += 1
    assert kept and dropped and adjusted


def test_frequencies_survive_the_model_storage(frequencies):
    model = default_model(COMPARISONS).replace(term_frequencies=frequencies)
    again = Model.from_dict(model.to_dict())
    assert again == model
    assert again.term_frequencies.adjustment("last_name", "martin") == pytest.approx(
        frequencies.adjustment("last_name", "martin"))


# --- the household guard ----------------------------------------------------------------

JEANNE = dict(first_name="Jeanne", last_name="Lefèvre", birth_date="1980-04-03",
              phone="01 42 00 00 01", address_line1="12 rue de la Paix", postcode="75002",
              city="Paris")


def test_what_a_household_shares_alone_is_not_enough_to_link():
    scorer = Scorer(default_model(COMPARISONS))
    # A record of the family with neither first name nor birth date.
    family = {k: v for k, v in JEANNE.items() if k not in ("first_name", "birth_date")}
    levels = scorer.vector(record(1, **JEANNE), record(2, **family))
    assert scorer.model.probability(levels) > 0.99  # naive Bayes would link it
    assert scorer.link_guard(levels) == HOUSEHOLD_EVIDENCE


def test_names_birth_date_and_place_are_enough_without_contact_fields():
    scorer = Scorer(default_model(COMPARISONS))
    a = record(1, first_name="Jeanne", last_name="Lefèvre", birth_date="1980-04-03",
               postcode="75002", city="Paris")
    b = record(2, first_name="Jeanne", last_name="Lefevre", birth_date="1980-04-03",
               postcode="75002")
    levels = scorer.vector(a, b)
    assert scorer.link_guard(levels) is None


def test_the_names_alone_however_rare_are_not_enough_to_link(frequencies):
    """A father and his son, cousins: nothing but the names cannot tell them apart."""
    model = default_model(COMPARISONS).replace(term_frequencies=frequencies)
    scorer = Scorer(model)
    a = record(1, first_name="Jeanne", last_name="Quérouillère", email="jq@orange.fr")
    b = record(2, first_name="Jeanne", last_name="Quérouillère", phone="01 45 67 89 12")
    score = scorer.score(a, b)
    assert all(level is None for level in score.levels[2:])
    assert score.probability > 0.99  # the rare name alone would link them
    assert scorer.link_guard(score.levels, score.weight) == NAMES_ONLY
    # Anything else that agrees is evidence the model weighs again.
    c = record(3, first_name="Jeanne", last_name="Quérouillère", postcode="29200", city="Brest",
               birth_date="1980-04-03")
    d = record(4, first_name="Jeanne", last_name="Quérouillère", postcode="29200",
               birth_date="1980-04-03")
    assert scorer.link_guard(scorer.vector(c, d)) is None


def test_a_contradiction_on_what_tells_people_apart_stops_a_link():
    scorer = Scorer(default_model(COMPARISONS))
    twin = {**JEANNE, "first_name": "Paul"}
    assert scorer.link_guard(scorer.vector(record(1, **JEANNE), record(2, **twin))) == (
        f"{CONTRADICTION}first_name")


def alike_first_names_as_typos(model: Model) -> Model:
    """`model` as a base full of first-name typos teaches it: somewhat alike first names
    are mostly one person's (the level weighs positively, so it is no contradiction)."""
    first, low = model.names.index("first_name"), FirstNameLevel.JARO_WINKLER_LOW
    u = [list(row) for row in model.u]
    u[first][low], u[first][-1] = 1e-5, u[first][-1] + u[first][low] - 1e-5
    typos = model.replace(u=u)
    assert typos.level_weights(first)[low] > 0
    return typos


def _alike_first_names_learnt_as_typos() -> Scorer:
    return Scorer(alike_first_names_as_typos(default_model(COMPARISONS)))


LAMY_HOME = {"last_name": "Lamy", "birth_date": "1967-10-04", "phone": "01 86 10 66 09",
             "address_line1": "4 rue de Techer", "postcode": "92308", "city": "Collin"}


@pytest.mark.parametrize("first_names", [("Anne", "Andrée"), ("Adrienne", "Adèle"),
                                         ("Léa", "Léo")])
def test_alike_first_names_under_one_roof_with_one_birth_date_may_be_twins(first_names):
    """Twins share a surname, a home and a birth date: naive Bayes counts the birth date
    as if it told them apart, so first names only somewhat alike hold the pair for a
    steward, even where the model learnt that likeness to be mostly typos."""
    scorer = _alike_first_names_learnt_as_typos()
    one, other = first_names
    levels = scorer.vector(record(1, first_name=one, email="anne.lamy@sfr.fr", **LAMY_HOME),
                           record(2, first_name=other, email="andree1997@free.fr", **LAMY_HOME))
    assert scorer.model.probability(levels) > 0.99  # naive Bayes would link them
    assert scorer.link_guard(levels) == POSSIBLE_TWINS


def test_what_tells_one_twin_from_the_other_lets_a_pair_link():
    scorer = _alike_first_names_learnt_as_typos()
    anne = record(1, first_name="Anne", email="anne.lamy@sfr.fr", **LAMY_HOME)
    # Something personal agrees: her e-mail.
    alike = record(2, first_name="Anna", email="anne.lamy@sfr.fr", **LAMY_HOME)
    # An initial is one person's record written short far more often than a twin's.
    initial = record(7, first_name="A.", **LAMY_HOME)
    # A typo is no likeness (one keystroke in a long name; in a short one, "Léa" and
    # "Léo" may be twins).
    andree = record(6, first_name="Andrée", **LAMY_HOME)
    typo = record(3, first_name="Adnrée", **LAMY_HOME)
    # No home in common (a file without addresses or phones): nothing says twins (what
    # is left is the household guard's to weigh).
    no_home = {k: v for k, v in LAMY_HOME.items() if k not in ("phone", "address_line1")}
    away = (record(4, first_name="Anne", **no_home), record(5, first_name="A.", **no_home))
    assert scorer.link_guard(scorer.vector(anne, alike)) is None
    assert scorer.link_guard(scorer.vector(andree, initial)) != POSSIBLE_TWINS
    assert scorer.link_guard(scorer.vector(andree, typo)) is None
    assert scorer.link_guard(scorer.vector(*away)) != POSSIBLE_TWINS


def test_a_separated_pair_is_not_joined_through_a_third_record():
    # 1 and 2 are twins (separated); 3 is a record of the family that matches both.
    pairs = [ScoredPair(1, 3, 0.999), ScoredPair(2, 3, 0.998), ScoredPair(1, 2, 0.98)]
    joined = cluster(pairs, auto_link=0.99, review=0.5)
    assert joined.clusters == [frozenset({1, 2, 3})]  # without the separation: chained
    separated = cluster(pairs, auto_link=0.99, review=0.5, separate=[(1, 2)])
    assert separated.clusters == [frozenset({1, 3})]
    assert any({p.a, p.b} == {2, 3} for p in separated.review_pairs)


# --- training on personal evidence ------------------------------------------------------

def test_em_does_not_take_a_household_for_a_person():
    """Blocked pairs where households (different first names and birth dates, same
    surname, address, postcode, landline) outnumber duplicates: the m learnt for a
    different first name stays small, and a different address stays possible."""
    names = [c.name for c in COMPARISONS]

    def vector(**levels):
        return tuple(levels.get(name) for name in names)

    household = vector(first_name=FirstNameLevel.DIFFERENT, last_name=0, birth_date=4, address=0, postcode_city=0,
                       phone=0)
    duplicate_home = vector(first_name=0, last_name=0, birth_date=0, address=0,
                            postcode_city=0)
    duplicate_moved = vector(first_name=0, last_name=0, birth_date=0, address=3,
                             postcode_city=PostcodeCityLevel.DIFFERENT)
    namesakes = vector(first_name=0, last_name=0, birth_date=4,
                       postcode_city=PostcodeCityLevel.DIFFERENT)
    blocked = Counter({household: 6000, duplicate_home: 1500, duplicate_moved: 1000,
                       namesakes: 2000})
    # Names as varied as a real base's: their agreement with the birth date's makes a
    # duplicate who moved a near-certain pair, whose different address m counts.
    sample = [record(i, first_name=f"P{i % 997}", last_name=f"N{i % 983}",
                     birth_date=f"19{50 + i % 40}-0{1 + i % 9}-1{i % 9}") for i in range(2000)]
    model, _ = train_model(record_count=20_000, sample=sample, blocked_vectors=blocked)
    first = names.index("first_name")
    address = names.index("address")
    assert model.m[first][FirstNameLevel.DIFFERENT] < 0.05
    assert model.m[address][3] > 0.2
    assert math.isfinite(model.prior_weight)


def test_a_surname_shared_under_one_roof_weighs_what_the_base_says():
    """Where namesakes at one place usually share the surname too (fathers and sons),
    the surname adds little beside the place; where they rarely do, it keeps weight."""
    from rcu.engine.training import household_weights

    names = [c.name for c in COMPARISONS]

    def vector(**levels):
        return tuple(levels.get(name) for name in names)

    same_name_same_place_other_person = vector(first_name=0, last_name=0, birth_date=4,
                                               postcode_city=0)
    same_first_name_same_place = vector(first_name=0, last_name=5, birth_date=4,
                                        postcode_city=0)
    # A different birth date tells these pairs apart: EM would call them non-matches.
    model = default_model(COMPARISONS).replace(prior=1e-9)
    assert model.probability(same_name_same_place_other_person) < 0.01
    last = names.index("last_name")
    with_families = household_weights(
        model, Counter({same_name_same_place_other_person: 400, same_first_name_same_place: 600}),
        COMPARISONS, model.m)
    without = household_weights(
        model, Counter({same_name_same_place_other_person: 4, same_first_name_same_place: 996}),
        COMPARISONS, model.m)
    assert with_families["last_name"][0] < 2.0 < without["last_name"][0] <= (
        model.level_weights(last)[0])


def test_a_partial_household_agreement_weighs_what_the_base_says():
    """A surname with a typo beside a shared place: where namesakes with close surnames
    at one place are rare it keeps its weight; where families are everywhere it does
    not. Learnt for every level, not only the strongest."""
    from rcu.engine.training import household_weights

    names = [c.name for c in COMPARISONS]
    last = names.index("last_name")
    close = LastNameLevel.JARO_WINKLER_HIGH

    def vector(**levels):
        return tuple(levels.get(name) for name in names)

    relative = vector(first_name=0, last_name=close, birth_date=4, postcode_city=0)
    stranger = vector(first_name=0, last_name=5, birth_date=4, postcode_city=0)
    model = default_model(COMPARISONS).replace(prior=1e-9)
    rare = household_weights(model, Counter({relative: 4, stranger: 996}), COMPARISONS, model.m)
    common = household_weights(model, Counter({relative: 500, stranger: 500}), COMPARISONS,
                               model.m)
    assert common["last_name"][close] < 2.0 < model.level_weights(last)[close] <= (
        rare["last_name"][close])
    assert rare["last_name"][LastNameLevel.DIFFERENT] == 0.0  # no agreement, no credit


def test_the_household_guard_credits_a_partial_agreement_the_base_vouches_for():
    """Same first name, a surname one typo apart, same postcode and town, no birth
    date: the surname's typo level counts beside the place as far as the model learnt
    it does."""
    a = record(1, first_name="Jeanne", last_name="Lefèvre", postcode="75002", city="Paris")
    b = record(2, first_name="Jeanne", last_name="Lefèbvre", postcode="75002", city="Paris")
    plain = Scorer(default_model(COMPARISONS))
    levels = plain.vector(a, b)
    last = [c.name for c in COMPARISONS].index("last_name")
    assert levels[last] == LastNameLevel.JARO_WINKLER_HIGH
    assert plain.model.probability(levels) > 0.99
    assert plain.link_guard(levels) == HOUSEHOLD_EVIDENCE  # nothing learnt: not credited
    credited = Scorer(default_model(COMPARISONS).replace(household_weights={
        "last_name": (12.0, 12.0, 0.0, 0.0, 0.0, 0.0), "postcode_city": (12.0,) * 5}))
    assert credited.link_guard(levels) is None
    only_strongest = Scorer(default_model(COMPARISONS).replace(household_weights={
        "last_name": 12.0, "postcode_city": 12.0}))  # as stored before: the top level alone
    assert only_strongest.link_guard(levels) == HOUSEHOLD_EVIDENCE


def test_every_level_with_a_frequency_is_adjusted(frequencies):
    """Postcode and town have their own levels in one comparison: each is adjusted by
    its own value's frequency, and the explanation still adds up."""
    scorer = Scorer(default_model(COMPARISONS).replace(term_frequencies=frequencies))
    place = [c.name for c in COMPARISONS].index("postcode_city")
    both = (record(1, first_name="Jean", postcode="29200", city="Brest"),
            record(2, first_name="Jean", postcode="29200", city="Brest"))
    postcode_only = (record(1, first_name="Jean", postcode="29200", city="Brest"),
                     record(2, first_name="Jean", postcode="29200"))
    town_only = (record(1, first_name="Jean", postcode="75001", city="Paris"),
                 record(2, first_name="Jean", postcode="75008", city="Paris"))
    expected = [(both, PostcodeCityLevel.SAME_POSTCODE_AND_CITY),
                (postcode_only, PostcodeCityLevel.SAME_POSTCODE),
                (town_only, PostcodeCityLevel.SAME_CITY)]
    for (a, b), level in expected:
        levels = scorer.vector(a, b)
        assert levels[place] == level
        adjustment = scorer.adjustments(a, levels)[place]
        assert adjustment != 0.0
        explained = scorer.explain_pair_dict(a, b)
        assert explained["prior_weight"] + sum(
            c["weight"] for c in explained["contributions"]) == explained["total_weight"]
        assert explained["total_weight"] == scorer.score(a, b).weight
    assert scorer.adjustments(both[0], scorer.vector(*both))[place] > 0  # Brest: rare here
    paris = scorer.adjustments(town_only[0], scorer.vector(*town_only))[place]
    assert paris < 0  # Paris: everybody


def test_a_level_learnt_as_evidence_against_is_a_contradiction_on_what_tells_people_apart():
    """Twins with close first names ("Alice" and "Alix") agree on everything else: where
    the model learnt that a somewhat similar first name is no evidence of one person,
    that level stops an automatic link like a different first name; where it learnt it
    is a typo's level (positive weight), it does not."""
    first = [c.name for c in COMPARISONS].index("first_name")
    low = FirstNameLevel.JARO_WINKLER_LOW
    a = record(1, first_name="Alice", last_name="Dubois", birth_date="1999-02-05",
               address_line1="3 rue de la Gare", postcode="69002", city="Lyon")
    b = record(2, first_name="Alix", last_name="Dubois", birth_date="1999-02-05",
               address_line1="3 rue de la Gare", postcode="69002", city="Lyon")
    base = default_model(COMPARISONS)
    assert Scorer(base).vector(a, b)[first] == low
    m = [list(row) for row in base.m]
    m[first][low], m[first][0] = 0.001, m[first][0] + m[first][low] - 0.001  # twins' level
    against = Scorer(base.replace(m=m))
    assert against.model.level_weights(first)[low] < 0
    levels = against.vector(a, b)
    assert against.model.probability(levels) > 0.99
    assert against.link_guard(levels) == f"{CONTRADICTION}first_name"
    typos = Scorer(alike_first_names_as_typos(base))  # a typo's level
    # No contradiction then; but under one roof with one birth date, possibly twins.
    assert typos.link_guard(levels) == POSSIBLE_TWINS
    elsewhere = record(3, first_name="Alix", last_name="Dubois", birth_date="1999-02-05",
                       postcode="69002", city="Lyon")
    assert typos.link_guard(typos.vector(a, elsewhere)) is None


def test_a_person_who_moved_is_linked_with_the_move_counted_once_and_said_so(frequencies):
    """Same names and birth date, a new address, town and landline: counted as
    independent facts, one move kept the pair from linking. With what the base taught
    (a second household difference says little beside the first), it links, and the
    explanation says what the move got back, still adding up to the score."""
    from django.utils import translation

    from stewardship.explain import WITH_ANOTHER_DIFFERENCE, explanation_sentence

    before = default_model(COMPARISONS).replace(term_frequencies=frequencies)
    learnt = {c.name: tuple(min(0.0, w) * 0.1 if w < 0 else None
                            for w in before.level_weights(i))
              for i, c in enumerate(COMPARISONS) if c.household}
    after = before.replace(household_disagreements=learnt)
    a = record(1, first_name="Jean", last_name="Martin", birth_date="1971-02-03",
               address_line1="3 rue des Lilas", postcode="75001", city="Paris",
               phone="01 45 67 89 12")
    b = record(2, first_name="Jean", last_name="Martin", birth_date="1971-02-03",
               address_line1="18 quai de la Fosse", postcode="44000", city="Nantes",
               phone="02 40 11 22 33")
    scored_before, scored_after = Scorer(before).score(a, b), Scorer(after).score(a, b)
    assert scored_before.probability < 0.99 <= scored_after.probability
    scorer = Scorer(after)
    assert scorer.link_guard(scored_after.levels, scored_after.weight) is None
    explained = scorer.explain_pair_dict(a, b)
    given_back = [c for c in explained["contributions"] if c["level"] == WITH_ANOTHER_DIFFERENCE]
    assert len(given_back) == 2  # of address, town and landline, all but the strongest
    assert all(c["weight"] > 0 for c in given_back)
    assert ("first_name", COMMON_VALUE) in {(c["comparison"], c["level"])
                                            for c in explained["contributions"]}
    parts = explained["prior_weight"] + sum(c["weight"] for c in explained["contributions"])
    assert parts == explained["total_weight"] == scored_after.weight
    with translation.override("en"):
        assert "(one move, counted once)" in explanation_sentence(explained)
    with translation.override("fr"):
        assert "(un déménagement, compté une fois)" in explanation_sentence(explained)


def _father_and_son_model(*, birth_year_differs: float, middle_name_differs: float,
                          declared: bool = False) -> Scorer:
    """A model over the built-in comparisons and two custom attributes (a birth year,
    declared to tell people apart or not, and a middle name), with the share of one
    person's record pairs that disagree on each."""
    comparisons = comparisons_with([
        CustomComparison("birth_year", "number", key_name("birth_year"), tells_apart=declared),
        CustomComparison("middle_name", "name", key_name("middle_name")),
    ])
    base = default_model(comparisons)
    m = [list(row) for row in base.m]
    u = [list(row) for row in base.u]
    for name, differs in (("birth_year", birth_year_differs), ("middle_name", middle_name_differs)):
        i = [c.name for c in comparisons].index(name)
        m[i] = [(1.0 - differs) / (len(m[i]) - 1)] * (len(m[i]) - 1) + [differs]
        u[i] = [0.02 / (len(u[i]) - 1)] * (len(u[i]) - 1) + [0.98]
    return Scorer(base.replace(m=m, u=u), comparisons=comparisons)


def _voter(id_: int, *, first: str, year: str, middle: str) -> MatchRecord:
    base = record(id_, first_name=first, last_name="Hatfield", address_line1="12 Oak Street",
                  postcode="35490", city="Springfield")
    keys = {**base.keys, key_name("birth_year"): year, key_name("middle_name"): middle}
    return MatchRecord(id_, "test", base.attributes, keys)


def test_a_custom_attribute_a_person_keeps_stops_a_link_when_it_differs():
    """A father and his son of the same name at one address differ only on their birth
    year, a custom attribute: where the base shows that a person's records seldom
    disagree on it, that disagreement stops an automatic link as a different birth date
    would; a middle name, which a person's records often write differently (in full,
    then as an initial), does not."""
    father = _voter(1, first="Justin", year="1961", middle="Austin")
    son = _voter(2, first="Justin", year="1989", middle="Austin")
    scorer = _father_and_son_model(birth_year_differs=0.01, middle_name_differs=0.3)
    levels = scorer.vector(father, son)
    assert scorer.model.probability(levels) > 0.99  # naive Bayes alone would link them
    assert scorer.link_guard(levels) == f"{CONTRADICTION}birth_year"

    same_man = _voter(3, first="Justin", year="1961", middle="Aaron")
    assert scorer.link_guard(scorer.vector(father, same_man)) is None


def test_a_custom_attribute_whose_values_often_differ_for_one_person_is_no_contradiction():
    """Where the base learnt that one person's records often carry different values (a
    birth year typed as the year of the record, say), the disagreement only weighs."""
    father = _voter(1, first="Justin", year="1961", middle="Austin")
    son = _voter(2, first="Justin", year="1989", middle="Austin")
    scorer = _father_and_son_model(birth_year_differs=0.2, middle_name_differs=0.3)
    levels = scorer.vector(father, son)
    assert scorer.model.level_weights([c for c in scorer.model.names].index("birth_year"))[-1] < 0
    assert scorer.link_guard(levels) is None


def test_a_custom_attribute_declared_to_tell_people_apart_contradicts_whatever_was_learnt():
    """The base may teach the model that birth years often differ within one person
    (father and son pairs taken for one person by EM): an administrator's word that a
    birth year tells people apart stops the link all the same."""
    father = _voter(1, first="Justin", year="1961", middle="Austin")
    son = _voter(2, first="Justin", year="1989", middle="Austin")
    learnt = _father_and_son_model(birth_year_differs=0.2, middle_name_differs=0.3)
    declared = _father_and_son_model(birth_year_differs=0.2, middle_name_differs=0.3, declared=True)
    assert learnt.link_guard(learnt.vector(father, son)) is None
    assert declared.link_guard(declared.vector(father, son)) == f"{CONTRADICTION}birth_year"
