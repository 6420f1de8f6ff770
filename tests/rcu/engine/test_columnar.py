"""Columnar scoring gives the row-by-row results to the pair: the same pairs kept, the
same levels, the same weights (to the bit), hence the same explanations and guards.

Records are generated as people written several times over: typos, blanks, first and
last names swapped, day and month swapped, households sharing a surname, a home and a
landline, twins, loyalty cards; models vary (prior, m and u, term frequencies)."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcu.engine import columnar
from rcu.engine import comparators as c
from rcu.engine.columnar import COLUMNAR, ColumnarScorer, Columns, score_pairs
from rcu.engine.comparators import COMPARISONS, compare_first_name
from rcu.engine.fellegi_sunter import Model, default_model, weight_from_probability
from rcu.engine.scoring import Scorer, explanation_as_dict
from rcu.engine.term_frequency import count_term_frequencies
from rcu.engine.training import random_pair_vectors
from rcu.engine.types import MatchRecord
from rcu.normalisation.record import normalise_record

TF_ATTRIBUTES = [attribute for c in COMPARISONS for _, attribute in c.term_frequency]

FIRST = ["Jean", "Jean-Pierre", "Marie", "Marie-Hélène", "Éloïse", "J.", "Pierre", "Jeanne",
         "Jean Paul", "Léa", "Paul", "Anne-Marie", "Mohamed", "Thi Lan", "Jp", "William", "Robert"]
# Usual short forms a source may write instead (the first name's short_form level).
SHORT_FORMS = {"William": "Bill", "Robert": "Bob", "Jean-Pierre": "JP"}
LAST = ["Le Goff", "Legoff", "Dupont", "Du Pont", "Martin", "Martins", "de la Tour",
        "Martin-Dupont", "Nguyen", "Quérouillère", "Le Pen", "Lefebvre", "Lefèvre", "Da Silva"]
DOMAINS = ["orange.fr", "free.fr", "gmail.com", "wanadoo.fr"]
STREETS = ["bd St-Michel", "boulevard Saint Michel", "rue de la République",
           "avenue Jean Jaurès", "place Bellecour", "chemin des Vignes"]
PLACES = [("75005", "Paris"), ("75006", "Paris"), ("69002", "Lyon"), ("69003", "Lyon"),
          ("29200", "Brest"), ("97400", "Saint-Denis"), ("", "Lyon"), ("", "")]
LANDLINES = ["01 45 67 89 12", "01 45 67 89 13", "04 78 12 34 56", "02 98 11 22 33"]
MOBILES = ["06 12 34 56 78", "06 12 34 56 79", "07 81 22 33 44", "+44 7700 900123"]


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 2:
        return text
    i = rng.randrange(len(text) - 1)
    choice = rng.randrange(3)
    if choice == 0:  # two letters swapped
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if choice == 1:  # one dropped
        return text[:i] + text[i + 1 :]
    return text[:i] + rng.choice("aeilnrst") + text[i + 1 :]


def _person(rng: random.Random, household: dict | None) -> dict[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    postcode, city = rng.choice(PLACES)
    year, month, day = rng.randrange(1940, 2005), rng.randrange(1, 13), rng.randrange(1, 29)
    person = {
        "first_name": first, "last_name": last,
        "birth_date": f"{year:04d}-{month:02d}-{day:02d}",
        "email": f"{first.lower()}.{last.lower()}@{rng.choice(DOMAINS)}".replace(" ", ""),
        "phone": rng.choice(LANDLINES), "mobile": rng.choice(MOBILES),
        "address_line1": f"{rng.randrange(1, 30)} {rng.choice(STREETS)}",
        "postcode": postcode, "city": city,
    }
    if household is not None:  # a spouse, a child or a twin: the home and the surname
        for field in ("last_name", "phone", "address_line1", "postcode", "city"):
            person[field] = household[field]
        if rng.random() < 0.3:  # a twin
            person["birth_date"] = household["birth_date"]
    return person


def _written(rng: random.Random, person: dict[str, str]) -> dict[str, str]:
    """One record of a person, as a source wrote it."""
    values = dict(person)
    for field in list(values):
        roll = rng.random()
        if roll < 0.12:
            values[field] = ""
        elif roll < 0.25 and field not in ("postcode",):
            values[field] = _typo(rng, values[field])
    if rng.random() < 0.3 and person["first_name"] in SHORT_FORMS:
        values["first_name"] = SHORT_FORMS[person["first_name"]]
    if rng.random() < 0.1:
        values["first_name"], values["last_name"] = values["last_name"], values["first_name"]
    if rng.random() < 0.1 and values["birth_date"][5:7] != values["birth_date"][8:10]:
        date = values["birth_date"]
        values["birth_date"] = f"{date[:4]}-{date[8:10]}-{date[5:7]}"
    if rng.random() < 0.1:
        values["birth_date"] = values["birth_date"][:4] + "-01-01"
    if rng.random() < 0.15:
        values["email"] = values["email"].replace("@", f"{rng.randrange(10)}@")
    return values


def _records(seed: int, people: int, copies: int) -> list[MatchRecord]:
    rng = random.Random(seed)
    persons: list[dict[str, str]] = []
    for _ in range(people):
        household = rng.choice(persons) if persons and rng.random() < 0.3 else None
        persons.append(_person(rng, household))
    records: list[MatchRecord] = []
    for person in persons:
        card = f"29161{rng.randrange(10**7):07d}" if rng.random() < 0.3 else ""
        for _ in range(1 + rng.randrange(copies)):
            normalised = normalise_record(
                {k: v for k, v in _written(rng, person).items() if v}
            )
            keys = dict(normalised.keys)
            if card and rng.random() < 0.7:
                keys["loyalty_card"] = card if rng.random() < 0.8 else _typo(rng, card)
            records.append(MatchRecord(len(records) + 1, "test", normalised.attributes, keys))
    rng.shuffle(records)  # ids out of order: the lower id is not always listed first
    return records


def _model(rng: random.Random, records: list[MatchRecord], *, frequencies: bool) -> Model:
    def probabilities(count: int, matches: bool) -> list[float]:
        """m leans to agreement (level 0), u to disagreement (the last level)."""
        leaning = 0 if matches else count - 1
        raw = [rng.uniform(0.05, 1.0) * (20.0 if i == leaning else 1.0) for i in range(count)]
        return [p / sum(raw) for p in raw]

    model = default_model(COMPARISONS)
    m = [probabilities(len(c.levels), True) for c in COMPARISONS]
    u = [probabilities(len(c.levels), False) for c in COMPARISONS]
    model = model.replace(m=m, u=u, prior=10 ** rng.uniform(-5, -2),
                          household_weights={"last_name": rng.uniform(0, 3)})
    # What household differences get back beside another: learnt for some levels, from
    # nothing to all of their weight (and beyond: the model keeps it within).
    model = model.replace(household_disagreements={
        c.name: tuple(rng.choice([None, rng.uniform(-12.0, 1.0)]) for _ in c.levels)
        for c in COMPARISONS if c.household
    })
    if frequencies:
        found = count_term_frequencies(records * 2, TF_ATTRIBUTES)
        if found is not None:
            model = model.replace(term_frequencies=found)
    return model


def _row_by_row(scorer: Scorer, records: list[MatchRecord], review: float) -> dict:
    mark = weight_from_probability(review)
    kept = {}
    for a, b in itertools.combinations(records, 2):
        score = scorer.score_at_least(a, b, mark)
        if score is not None and score.probability >= review:
            kept[(score.a, score.b)] = score
    return kept


def _columnar(scorer: Scorer, records: list[MatchRecord], review: float, chunk: int) -> dict:
    pairs = [(min(a.id, b.id), max(a.id, b.id)) for a, b in itertools.combinations(records, 2)]
    kept, compared = score_pairs(
        scorer, records, pairs, min_weight=weight_from_probability(review),
        min_probability=review, chunk=chunk,
    )
    assert compared == len(pairs)
    found = {(score.a, score.b): score for score in kept}
    assert len(found) == len(kept)  # each pair once
    return found


def _assert_same_results(scorer: Scorer, records: list[MatchRecord], review: float,
                         chunk: int = 97) -> Counter:
    prepared = [scorer.prepare(r) for r in records]
    by_id = {r.id: r for r in prepared}
    row = _row_by_row(scorer, prepared, review)
    col = _columnar(scorer, prepared, review, chunk)
    assert col.keys() == row.keys()
    # Stopping a pair early never loses one that reaches the mark once fully scored.
    for a, b in itertools.combinations(prepared, 2):
        full = scorer.score(a, b)
        if full.probability >= review and full.weight >= weight_from_probability(review):
            assert row[(full.a, full.b)].weight == full.weight
    seen: Counter = Counter()
    for pair, expected in row.items():
        got = col[pair]
        assert got.levels == expected.levels, pair
        assert got.weight == expected.weight, pair  # the same sum in the same order
        assert got.probability == expected.probability
        # What the pair is turned into downstream: its explanation and its guard.
        a, b = by_id[pair[0]], by_id[pair[1]]
        explained = scorer.explain_pair_dict(a, b)
        assert explained["total_weight"] == got.weight
        assert scorer.link_guard(got.levels, got.weight) == explained["link_guard"]
        seen["guarded" if explained["link_guard"] else "linkable"] += 1
        if scorer.model.shared_differences(got.levels):
            seen["differences counted once"] += 1
        seen.update(f"{c.name}={level}" for c, level in zip(COMPARISONS, got.levels, strict=True))
    seen["dropped"] = len(records) * (len(records) - 1) // 2 - len(row)
    return seen


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    people=st.integers(2, 14),
    copies=st.integers(1, 4),
    frequencies=st.booleans(),
    review=st.sampled_from([1e-6, 0.05, 0.5, 0.9]),
)
def test_columnar_scoring_keeps_the_same_pairs_with_the_same_levels_and_weights(
    seed, people, copies, frequencies, review
):
    records = _records(seed, people, copies)
    scorer = Scorer(_model(random.Random(seed), records, frequencies=frequencies))
    _assert_same_results(scorer, records, review)


def test_every_level_of_every_comparison_is_exercised_and_both_guard_outcomes():
    """The property above cannot pass vacuously: on a larger set, each level of each
    comparison is met among the kept pairs, some pairs are dropped early, some kept
    pairs are guarded and some linkable."""
    records = _records(seed=20261206, people=120, copies=4)
    rng = random.Random(5)
    model = _model(rng, records, frequencies=True)
    # A second household difference counting for half its weight, whatever it is.
    model = model.replace(household_disagreements={
        c.name: tuple(w / 2 for w in model.level_weights(i))
        for i, c in enumerate(COMPARISONS) if c.household
    })
    seen = _assert_same_results(Scorer(model), records, 1e-6, chunk=5000)
    for comparison in COMPARISONS:
        for level in range(len(comparison.levels)):
            assert seen[f"{comparison.name}={level}"], (comparison.name, comparison.levels[level])
        assert seen[f"{comparison.name}=None"]
    assert seen["dropped"] and seen["guarded"] and seen["linkable"]
    assert seen["differences counted once"]


def _levels_both_ways(records: list[MatchRecord]) -> list[tuple]:
    """Every pair's levels, columnar (without a mark: nothing dropped) then
    `Scorer.vector`'s, on the default model."""
    scorer = Scorer(default_model(COMPARISONS))
    prepared = sorted((scorer.prepare(r) for r in records), key=lambda r: r.id)
    pairs = list(itertools.combinations(range(len(prepared)), 2))
    kept, levels, _ = ColumnarScorer(scorer).levels(
        Columns(prepared), np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    )
    assert len(kept) == len(pairs)
    return [
        (tuple(None if x < 0 else x for x in levels[row].tolist()),
         scorer.vector(prepared[a], prepared[b]))
        for row, (a, b) in enumerate(pairs)
    ]


def test_levels_of_every_pair_are_the_comparators_own():
    """Without a mark nothing is dropped: every pair's levels are `Scorer.vector`'s."""
    for columnar_levels, expected in _levels_both_ways(_records(seed=11, people=40, copies=3)):
        assert columnar_levels == expected


def test_a_comparison_without_a_columnar_form_is_made_pair_by_pair(monkeypatch):
    """A new comparator (here one wrapping the first-name comparator) is scored with its
    own compare until it gets a columnar form: the results are still the same."""
    def compare_first_name_again(a: MatchRecord, b: MatchRecord):
        return compare_first_name(a, b)

    comparisons = tuple(
        dataclasses.replace(c, compare=compare_first_name_again) if c.name == "first_name" else c
        for c in COMPARISONS
    )
    assert compare_first_name_again not in COLUMNAR
    calls: Counter = Counter()
    original = columnar._row_by_row

    def counted(compare, *args):
        calls[compare.__name__] += 1
        return original(compare, *args)

    monkeypatch.setattr(columnar, "_row_by_row", counted)
    records = _records(seed=3, people=20, copies=3)
    scorer = Scorer(default_model(COMPARISONS), comparisons=comparisons)
    _assert_same_results(scorer, records, 0.01)
    assert calls["compare_first_name_again"]


@pytest.mark.parametrize("review", [0.01, 0.9])
def test_pairs_are_scored_the_same_whatever_the_chunk_size(review):
    records = _records(seed=8, people=30, copies=3)
    scorer = Scorer(_model(random.Random(8), records, frequencies=True))
    prepared = [scorer.prepare(r) for r in records]
    results = [_columnar(scorer, prepared, review, chunk) for chunk in (1, 13, 100_000)]
    assert results[0] == results[1] == results[2]
    assert results[0]


def test_the_explanation_adds_up_to_the_columnar_weight():
    records = _records(seed=4, people=25, copies=3)
    scorer = Scorer(_model(random.Random(4), records, frequencies=True))
    prepared = {r.id: scorer.prepare(r) for r in records}
    for pair, score in _columnar(scorer, list(prepared.values()), 0.01, 50).items():
        explanation = explanation_as_dict(scorer.explain(
            score.levels, scorer.adjustments(prepared[pair[0]], score.levels)
        ))
        total = explanation["prior_weight"] + math.fsum(
            c["weight"] for c in explanation["contributions"]
        )
        assert total == pytest.approx(score.weight, abs=1e-9)
        assert explanation["total_weight"] == score.weight


def test_records_with_more_numbers_than_the_arrays_hold_are_compared_by_the_comparator(
    monkeypatch,
):
    monkeypatch.setattr(columnar, "PHONE_SLOTS", 1)  # a phone and a mobile: two numbers
    records = _records(seed=21, people=25, copies=3)
    seen = _assert_same_results(Scorer(_model(random.Random(21), records, frequencies=False)),
                                records, 1e-6)
    assert seen["phone=0"] and seen["phone=1"] and seen["phone=3"]


def test_first_names_and_places_compared_as_arrays_give_the_comparators_levels():
    """The rules of the first-name and postcode-with-town comparisons that random data
    meets rarely: two short names one keystroke apart, initials, short forms, swapped
    names, a town without its postcode, overseas departments, a postcode that is no
    French one."""
    people = [
        {"first_name": "Amy", "last_name": "Stone", "postcode": "97400", "city": "Saint-Denis"},
        {"first_name": "May", "last_name": "Stone", "postcode": "97411", "city": "Saint-Paul"},
        {"first_name": "Lee", "last_name": "Park", "postcode": "97100", "city": "Basse-Terre"},
        {"first_name": "Ele", "last_name": "Park", "postcode": "SW1A 1AA", "city": "London"},
        {"first_name": "J. P.", "last_name": "Morel", "postcode": "", "city": "Lyon"},
        {"first_name": "Jean-Pierre", "last_name": "Morel", "postcode": "69002", "city": ""},
        {"first_name": "Morel", "last_name": "Jean Pierre", "postcode": "69003", "city": "Lyon"},
        {"first_name": "Bill", "last_name": "Evans", "postcode": "69002", "city": "Lyon"},
        {"first_name": "William", "last_name": "Evans", "postcode": "69002", "city": "Villeurbanne"},
        {"first_name": "Pierre", "last_name": "", "postcode": "", "city": ""},
        {"first_name": "", "last_name": "Evans", "postcode": "2A004", "city": "Ajaccio"},
        {"first_name": "Jeanpierre", "last_name": "Morel", "postcode": "20000", "city": "Ajaccio"},
        {"first_name": "Aimée", "last_name": "Stone", "postcode": "97400", "city": "Saint-Denis"},
    ]
    compared = _levels_both_ways([
        MatchRecord(i + 1, "crm", {}, normalise_record(row).keys) for i, row in enumerate(people)
    ])
    for columnar_levels, expected in compared:
        assert columnar_levels == expected
    names = {c.name: i for i, c in enumerate(COMPARISONS)}
    first = {expected[names["first_name"]] for _, expected in compared}
    places = {expected[names["postcode_city"]] for _, expected in compared}
    assert first == {None, *c.FirstNameLevel}
    assert places == {None, *c.PostcodeCityLevel}


def test_random_pairs_are_counted_by_vector_as_pair_by_pair_in_either_order():
    """Training's random pairs (`random_pair_vectors`) come in any order of positions:
    the vectors counted as arrays are `Scorer.vector`'s, counted, both ways round."""
    records = _records(seed=23, people=60, copies=3)
    scorer = Scorer(default_model(COMPARISONS))
    prepared = [scorer.prepare(r) for r in records]
    counted = random_pair_vectors(records, scorer, pairs=3000, seed=7)
    rng = random.Random(7)
    expected: Counter = Counter()
    for _ in range(3000):
        i = rng.randrange(len(prepared))
        j = rng.randrange(len(prepared) - 1)
        j += j >= i
        expected[scorer.vector(prepared[i], prepared[j])] += 1
    assert counted == expected
    assert len(expected) > 20


@pytest.mark.parametrize(("name", "mailbox"), [
    ("martin", "jeanmartin"),  # one word, in the mailbox
    ("martin", "jeandupont"),  # one word, not in it
    ("li", "jeanli"),  # too short to count
    ("le goff", "marielegoff"),  # a particle and one word
    ("martin dupont", "jeandupont"),  # several words, one in the mailbox
    ("martin dupont", "jeanlegrand"),  # several words, none in it
    ("de la tour", "annedelatour"),
])
def test_a_name_is_looked_for_in_a_mailbox_as_the_comparator_does(name, mailbox):
    columns = Columns([])
    names = np.array([columns.code(name)])
    found = columnar._names_in_mailboxes(columns, names, np.array([columns.code(mailbox)]))
    assert found.tolist() == [c._name_in_mailbox(name, mailbox)]
    # No mailbox: nothing to find.
    assert not columnar._names_in_mailboxes(columns, names, np.array([0]))[0]
