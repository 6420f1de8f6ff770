"""Fellegi-Sunter scoring and its unsupervised training, on synthetic comparison vectors."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Sequence

import pytest

from rcu.engine.fellegi_sunter import (
    PROBABILITY_FLOOR,
    Contribution,
    Model,
    default_model,
    probability_from_weight,
    train_m_and_lambda_em,
    train_u,
)
from rcu.engine.types import Comparison, Level, MatchRecord


def _never_compared(left: MatchRecord, right: MatchRecord) -> Level:
    return None


def comparison(name: str, level_count: int) -> Comparison:
    levels = ("exact", *(f"close {i}" for i in range(1, level_count - 1)), "different")
    return Comparison(name=name, levels=levels, compare=_never_compared)


COMPARISONS = (
    comparison("last_name", 4),
    comparison("first_name", 3),
    comparison("birth_date", 2),
    comparison("email", 2),
    comparison("postcode", 3),
)

# A known mixture: the truth EM has to find again.
TRUE_PRIOR = 0.1
TRUE_M = (
    (0.80, 0.10, 0.05, 0.05),
    (0.75, 0.15, 0.10),
    (0.90, 0.10),
    (0.70, 0.30),
    (0.85, 0.05, 0.10),
)
TRUE_U = (
    (0.02, 0.03, 0.05, 0.90),
    (0.05, 0.10, 0.85),
    (0.01, 0.99),
    (0.005, 0.995),
    (0.10, 0.10, 0.80),
)
MISSING_RATE = 0.1


def draw_vector(rng: random.Random, rows: Sequence[Sequence[float]]) -> tuple[Level, ...]:
    vector: list[Level] = []
    for row in rows:
        if rng.random() < MISSING_RATE:
            vector.append(None)
        else:
            vector.append(rng.choices(range(len(row)), weights=row)[0])
    return tuple(vector)


def draw_candidate_pairs(seed: int, pairs: int) -> Counter[tuple[Level, ...]]:
    rng = random.Random(seed)
    return Counter(
        draw_vector(rng, TRUE_M if rng.random() < TRUE_PRIOR else TRUE_U) for _ in range(pairs)
    )


@pytest.fixture(scope="module")
def candidate_pairs() -> Counter[tuple[Level, ...]]:
    return draw_candidate_pairs(seed=20261122, pairs=50_000)


@pytest.fixture(scope="module")
def random_pairs() -> list[tuple[Level, ...]]:
    rng = random.Random(7)
    return [draw_vector(rng, TRUE_U) for _ in range(50_000)]


def random_vectors(model: Model, rng: random.Random, count: int) -> list[tuple[Level, ...]]:
    return [
        tuple(rng.choice([None, *range(len(labels))]) for labels in model.levels)
        for _ in range(count)
    ]


def random_distribution(rng: random.Random, size: int) -> list[float]:
    weights = [rng.random() + 0.01 for _ in range(size)]
    return [w / sum(weights) for w in weights]


def true_model() -> Model:
    return default_model(COMPARISONS).replace(m=TRUE_M, u=TRUE_U, prior=TRUE_PRIOR)


def assert_rows_close(actual, expected, tolerance: float) -> None:
    for actual_row, expected_row in zip(actual, expected, strict=True):
        for a, e in zip(actual_row, expected_row, strict=True):
            assert abs(a - e) <= tolerance, (actual_row, expected_row)


# --- scoring and explanation ------------------------------------------------------------


def test_weight_is_prior_plus_level_log_ratios():
    model = true_model()
    vector = (0, 2, None, 1, 0)
    expected = (
        math.log2(0.1 / 0.9)
        + math.log2(0.80 / 0.02)
        + math.log2(0.10 / 0.85)
        + math.log2(0.30 / 0.995)
        + math.log2(0.85 / 0.10)
    )
    assert model.weight(vector) == pytest.approx(expected, abs=1e-12)
    assert model.probability(vector) == pytest.approx(2**expected / (1 + 2**expected))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_explanation_adds_up_exactly_to_the_weight(seed):
    rng = random.Random(seed)
    models = [default_model(COMPARISONS), true_model()]
    models.append(
        true_model().replace(
            m=[random_distribution(rng, len(c.levels)) for c in COMPARISONS],
            u=[random_distribution(rng, len(c.levels)) for c in COMPARISONS],
            prior=rng.uniform(1e-6, 0.5),
        )
    )
    for model in models:
        for vector in random_vectors(model, rng, 200):
            explanation = model.explain(vector)
            contributions = [c.weight for c in explanation.contributions]
            assert explanation.prior_weight + sum(contributions) == explanation.total_weight
            assert explanation.total_weight == model.weight(vector)
            assert explanation.probability == model.probability(vector)
            assert [c.comparison for c in explanation.contributions] == list(model.names)


def test_explanation_names_each_level():
    model = default_model(COMPARISONS)
    explanation = model.explain((0, None, 1, 0, 2))
    assert explanation.contributions[0] == Contribution(
        "last_name", "exact", model.level_weights(0)[0]
    )
    assert explanation.contributions[1] == Contribution("first_name", None, 0.0)
    assert explanation.contributions[2].level == "different"
    assert explanation.contributions[4].level == "different"
    assert explanation.contributions[4].weight < 0 < explanation.contributions[0].weight


def test_missing_level_contributes_nothing():
    model = true_model()
    assert model.weight((None,) * 5) == model.prior_weight
    assert model.probability((None,) * 5) == pytest.approx(TRUE_PRIOR)
    with_missing = model.weight((0, None, 1, None, 2))
    with_only_known = model.prior_weight + sum(
        model.level_weights(c)[level] for c, level in ((0, 0), (2, 1), (4, 2))
    )
    assert with_missing == pytest.approx(with_only_known, abs=1e-12)


@pytest.mark.parametrize("model", [default_model(COMPARISONS), true_model()])
def test_probability_never_rises_as_a_level_weakens(model):
    rng = random.Random(11)
    for vector in random_vectors(model, rng, 300):
        for c, labels in enumerate(model.levels):
            scores = [
                model.probability((*vector[:c], level, *vector[c + 1 :]))
                for level in range(len(labels))
            ]
            assert scores == sorted(scores, reverse=True)


def test_defaults_are_monotone_before_any_training():
    model = default_model([comparison(f"c{n}", n) for n in range(2, 7)])
    assert model.prior == 1e-4
    for m_row, u_row in zip(model.m, model.u, strict=True):
        assert m_row[0] == pytest.approx(0.90)
        assert u_row[0] == pytest.approx(0.001)
        assert list(m_row) == sorted(m_row, reverse=True)
        assert list(u_row) == sorted(u_row)
        assert math.fsum(m_row) == pytest.approx(1.0)
        assert math.fsum(u_row) == pytest.approx(1.0)


def test_probability_from_extreme_weights_does_not_overflow():
    assert probability_from_weight(5000.0) == 1.0
    assert probability_from_weight(-5000.0) == 0.0
    assert probability_from_weight(0.0) == 0.5


def test_scoring_rejects_vectors_of_the_wrong_shape():
    model = default_model(COMPARISONS)
    with pytest.raises(ValueError):
        model.weight((0, 0))
    with pytest.raises(KeyError):
        model.weight((0, 0, 5, 0, 0))
    with pytest.raises(KeyError):
        model.weight((0, 0, -1, 0, 0))


def test_model_rejects_inconsistent_parameters():
    model = default_model(COMPARISONS)
    with pytest.raises(ValueError):
        model.replace(prior=1.0)
    with pytest.raises(ValueError):
        model.replace(m=[(0.5, 0.5), *model.m[1:]])  # last_name has four levels
    with pytest.raises(ValueError):
        model.replace(m=[(0.5, 0.4, 0.05, 0.01), *model.m[1:]])  # does not sum to 1
    with pytest.raises(ValueError):
        model.replace(u=[(0.0, 0.0, 0.0, 1.0), *model.u[1:]])


# --- storage ----------------------------------------------------------------------------


def test_round_trip_through_json_gives_identical_weights():
    rng = random.Random(5)
    model = true_model().replace(prior=0.0123456789)
    stored = json.loads(json.dumps(model.to_dict()))
    loaded = Model.from_dict(stored)
    assert loaded == model
    assert loaded.is_for(COMPARISONS)
    for vector in random_vectors(model, rng, 200):
        assert loaded.weight(vector) == model.weight(vector)
        assert loaded.explain(vector) == model.explain(vector)


def moved_model() -> Model:
    """Surname and postcode as household comparisons: beside another difference, a
    different postcode weighs -0.5 (a move changes both), a different surname -4."""
    return true_model().replace(household_disagreements={
        "last_name": (None, None, None, -4.0), "postcode": (None, None, -0.5),
    })


def test_two_household_differences_count_the_strongest_in_full_and_the_other_as_learnt():
    model = moved_model()
    surname, postcode = model.level_weights(0)[3], model.level_weights(4)[2]
    assert surname < postcode < -0.5  # -5.49 and -3 counted as independent
    both = (3, 0, None, None, 2)
    assert model.weight(both) == pytest.approx(
        model.prior_weight + model.level_weights(1)[0] + surname + -0.5, abs=1e-12
    )
    assert model.shared_differences(both) == ((4, -0.5 - postcode),)
    # Each alone counts in full: nothing is given back.
    assert model.shared_differences((1, 0, None, None, 2)) == ()
    assert model.shared_differences((3, 0, None, None, 0)) == ()
    assert model.weight((1, 0, None, None, 2)) == pytest.approx(
        model.prior_weight + model.level_weights(0)[1] + model.level_weights(1)[0] + postcode,
        abs=1e-12,
    )


def test_a_learnt_value_never_weighs_more_against_than_the_level_itself_nor_for_a_match():
    model = true_model().replace(household_disagreements={
        "last_name": (None, None, None, -40.0), "postcode": (None, None, 3.0),
    })
    # The surname stays as it is; the postcode comes back to nothing, not above.
    assert model.shared_differences((3, None, None, None, 2)) == ((4, -model.level_weights(4)[2]),)
    assert model.weight((3, None, None, None, 2)) == pytest.approx(
        model.prior_weight + model.level_weights(0)[3], abs=1e-12
    )


def test_the_explanation_shows_what_a_move_gives_back_and_still_adds_up_exactly():
    model = moved_model()
    explanation = model.explain((3, 0, None, None, 2))
    assert explanation.contributions[-1] == Contribution(
        "postcode", "with_another_difference", -0.5 - model.level_weights(4)[2]
    )
    assert explanation.prior_weight + sum(c.weight for c in explanation.contributions) == (
        explanation.total_weight
    )
    assert explanation.total_weight == model.weight((3, 0, None, None, 2))


def test_what_household_differences_give_back_is_stored_with_the_model():
    model = moved_model()
    loaded = Model.from_dict(json.loads(json.dumps(model.to_dict())))
    assert loaded == model
    assert loaded.household_disagreements == model.household_disagreements
    assert loaded.weight((3, 0, None, None, 2)) == model.weight((3, 0, None, None, 2))
    assert loaded != true_model()


def test_unknown_storage_format_is_refused():
    data = default_model(COMPARISONS).to_dict()
    data["format"] = 99
    with pytest.raises(ValueError):
        Model.from_dict(data)


def test_model_knows_which_comparisons_it_was_built_for():
    model = default_model(COMPARISONS)
    assert model.is_for(COMPARISONS)
    assert not model.is_for(COMPARISONS[:-1])
    assert not model.is_for((*COMPARISONS[:-1], comparison("postcode", 4)))


# --- training of u ----------------------------------------------------------------------


def test_u_is_recovered_from_random_pairs(random_pairs):
    model = train_u(default_model(COMPARISONS), random_pairs)
    assert_rows_close(model.u, TRUE_U, 0.01)
    assert model.m == default_model(COMPARISONS).m


def test_u_training_counts_only_known_levels():
    comparisons = [comparison("a", 3)]
    vectors = [(0,)] * 10 + [(1,)] * 30 + [(2,)] * 60 + [(None,)] * 1000
    model = train_u(default_model(comparisons), vectors)
    # Laplace smoothing: (count + 1) / (100 + 3).
    assert model.u[0] == pytest.approx((11 / 103, 31 / 103, 61 / 103))


def test_u_training_keeps_a_floor_and_previous_values():
    comparisons = [comparison("a", 3), comparison("never", 2)]
    start = default_model(comparisons)
    model = train_u(start, Counter({(0, None): 10_000_000_000}))
    assert min(model.u[0]) >= PROBABILITY_FLOOR * 0.99
    assert model.u[1] == start.u[1]
    assert all(math.isfinite(w) for c in range(2) for w in model.level_weights(c))


# --- expectation-maximisation -----------------------------------------------------------


def test_em_recovers_m_and_prior_with_u_from_random_pairs(candidate_pairs, random_pairs):
    start = train_u(default_model(COMPARISONS), random_pairs)
    model, report = train_m_and_lambda_em(candidate_pairs, start)
    assert_rows_close(model.m, TRUE_M, 0.03)
    assert abs(model.prior - TRUE_PRIOR) <= 0.02
    assert model.u == start.u
    assert report.prior == model.prior
    assert report.iterations == len(report.prior_history) <= 50
    assert report.pairs == 50_000
    assert report.distinct_vectors == len(candidate_pairs)


def test_em_recovers_m_u_and_prior_from_defaults(candidate_pairs):
    model, report = train_m_and_lambda_em(
        candidate_pairs, default_model(COMPARISONS), fixed_u=False, max_iterations=200
    )
    assert report.converged
    assert_rows_close(model.m, TRUE_M, 0.03)
    assert_rows_close(model.u, TRUE_U, 0.03)
    assert abs(model.prior - TRUE_PRIOR) <= 0.02


def test_em_accepts_plain_vectors_as_well_as_counts():
    pairs = draw_candidate_pairs(seed=3, pairs=2_000)
    as_list = [vector for vector, count in pairs.items() for _ in range(count)]
    start = true_model()
    from_counts, _ = train_m_and_lambda_em(pairs, start, max_iterations=5)
    from_list, _ = train_m_and_lambda_em(as_list, start, max_iterations=5)
    assert_rows_close(from_list.m, from_counts.m, 1e-12)
    assert from_list.prior == pytest.approx(from_counts.prior, rel=1e-12)


def test_em_works_on_distinct_vectors_only(candidate_pairs):
    """10M pairs cost what their few thousand distinct vectors cost (timed in the benchmarks)."""
    huge = Counter({vector: count * 200 for vector, count in candidate_pairs.items()})
    assert sum(huge.values()) == 10_000_000
    start = true_model()

    small_model, _ = train_m_and_lambda_em(candidate_pairs, start, max_iterations=5)
    huge_model, report = train_m_and_lambda_em(huge, start, max_iterations=5)

    assert report.pairs == 10_000_000
    assert report.distinct_vectors == len(candidate_pairs)
    assert_rows_close(huge_model.m, small_model.m, 1e-3)


def test_em_stops_when_nothing_moves():
    _, report = train_m_and_lambda_em(
        draw_candidate_pairs(seed=4, pairs=5_000), true_model(), tolerance=0.5
    )
    assert report.converged
    assert report.iterations == 1


def test_em_on_degenerate_inputs_stays_finite():
    comparisons = [comparison("a", 3), comparison("never", 2)]
    start = default_model(comparisons)

    nothing, report = train_m_and_lambda_em([], start)
    assert nothing == start
    assert report.iterations == 0 and not report.converged and report.pairs == 0

    zero_counts, report = train_m_and_lambda_em(Counter({(0, None): 0, (1, 1): 0}), start)
    assert zero_counts == start and report.distinct_vectors == 0

    all_missing, report = train_m_and_lambda_em(Counter({(None, None): 1000}), start)
    assert all_missing.m == start.m
    assert 0 < all_missing.prior < 1

    for data in (
        Counter({(0, None): 500, (2, None): 500}),  # "never" is never observed
        Counter({(0, None): 1000}),  # every pair agrees: λ heads for 1
        Counter({(2, None): 1000}),  # every pair disagrees: λ heads for 0
    ):
        for fixed_u in (True, False):
            model, _ = train_m_and_lambda_em(data, start, fixed_u=fixed_u)
            assert model.m[1] == start.m[1]
            assert 0 < model.prior < 1
            assert math.isfinite(model.prior_weight)
            for c in range(2):
                assert all(math.isfinite(w) for w in model.level_weights(c))
            for vector in [(0, 0), (2, 1), (None, None)]:
                assert math.isfinite(model.weight(vector))


def test_em_refuses_negative_counts_and_wrong_shapes():
    start = default_model(COMPARISONS)
    with pytest.raises(ValueError):
        train_m_and_lambda_em(Counter({(0, 0, 0, 0, 0): -1}), start)
    with pytest.raises(ValueError):
        train_m_and_lambda_em([(0, 0)], start)
