"""Training the model without labels: u of the levels no random pair can measure."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from rcu.engine.comparators import COMPARISONS as ENGINE_COMPARISONS
from rcu.engine.fellegi_sunter import TrainingReport, default_model
from rcu.engine.scoring import Scorer
from rcu.engine.training import (
    COUNTED_PSEUDO_PAIRS,
    counted_u,
    drifting,
    known_shares,
    train_model,
    with_counted_u,
)
from rcu.engine.types import Comparison, Level, MatchRecord


def _never_compared(left: MatchRecord, right: MatchRecord) -> Level:
    return None


NAME = Comparison("name", ("exact", "different"), _never_compared)
EMAIL = Comparison(
    "email", ("exact", "close", "different"), _never_compared, counted_level="exact", key_kind="em"
)
COMPARISONS = (NAME, EMAIL)


def fitted_model(*, prior: float = 0.5):
    """Matches agree on both, non-matches on neither: a posterior of 0.99 for (0, 0)."""
    return default_model(COMPARISONS).replace(
        m=((0.9, 0.1), (0.9, 0.05, 0.05)), u=((0.1, 0.9), (0.1, 0.1, 0.8)), prior=prior
    )


def test_known_shares_are_the_random_pairs_where_both_hold_a_value():
    vectors = Counter({(0, None): 30, (1, 2): 50, (None, None): 20})
    assert known_shares(vectors, 2) == [0.8, 0.5]


def test_counted_u_is_the_non_matches_sharing_a_value_over_the_pairs_holding_one():
    fitted = fitted_model()
    blocked = Counter({(0, 0): 1000, (1, 0): 100, (0, 2): 5000, (None, 0): 10})
    counted = counted_u(
        fitted, blocked, comparisons=COMPARISONS, known=[1.0, 0.25], possible_pairs=1e8
    )
    non_matches = sum(
        count * (1 - fitted.probability(vector))
        for vector, count in blocked.items()
        if vector[1] == 0
    )
    assert set(counted) == {1}  # only the e-mail has a counted level
    assert counted[1] == pytest.approx((non_matches + COUNTED_PSEUDO_PAIRS) / (1e8 * 0.25))


def test_counted_u_scales_a_share_of_the_blocks_to_the_whole_base():
    blocked = Counter({(1, 0): 400})
    whole = counted_u(
        fitted_model(), blocked, comparisons=COMPARISONS, known=[1, 1], possible_pairs=1e9
    )
    tenth = counted_u(
        fitted_model(), blocked, comparisons=COMPARISONS, known=[1, 1], possible_pairs=1e9,
        blocked_share=0.1,
    )
    assert tenth[1] == pytest.approx(
        (10 * (whole[1] * 1e9 - COUNTED_PSEUDO_PAIRS) + COUNTED_PSEUDO_PAIRS) / 1e9
    )


def test_oversized_blocks_of_the_key_kind_count_as_non_matches():
    plain = counted_u(
        fitted_model(), Counter(), comparisons=COMPARISONS, known=[1, 1], possible_pairs=1e6
    )
    with_crowd = counted_u(
        fitted_model(), Counter(), comparisons=COMPARISONS, known=[1, 1], possible_pairs=1e6,
        unblocked_pairs={"em": 4950.0, "ph": 1e5},
    )
    assert plain[1] == pytest.approx(COUNTED_PSEUDO_PAIRS / 1e6)
    assert with_crowd[1] == pytest.approx((4950 + COUNTED_PSEUDO_PAIRS) / 1e6)


def test_a_base_too_small_to_hold_a_pair_with_both_values_keeps_the_sampled_u():
    counted = counted_u(
        fitted_model(), Counter({(0, 0): 1}), comparisons=COMPARISONS, known=[1, 0.0],
        possible_pairs=10,
    )
    assert counted == {}


def test_the_other_levels_share_what_is_left_in_their_former_proportions():
    model = default_model(COMPARISONS).replace(u=((0.1, 0.9), (0.01, 0.09, 0.9)))
    updated = with_counted_u(model, {1: 1e-7}, COMPARISONS)
    close, different = updated.u[1][1], updated.u[1][2]
    assert updated.u[1][0] == 1e-7
    assert math.fsum(updated.u[1]) == pytest.approx(1.0)
    assert different / close == pytest.approx(10.0)
    assert updated.u[0] == model.u[0]


def _record(pk: int, *, first: str, last: str, email: str) -> MatchRecord:
    return MatchRecord(pk, "crm", {}, {"first_name": first, "last_name": last, "email": email})


def test_a_shared_email_weighs_more_in_a_larger_base_where_sampling_cannot_see_it():
    """Random pairs of 400 people never share an e-mail: u stops at the smoothing floor,
    whatever the size of the base. Counted among blocked pairs, it falls as the base
    grows, as the prior does: sharing an e-mail keeps its meaning in a big base."""
    people = [(f"prenom{i}", f"nom{i % 40}", f"p{i}@example.fr") for i in range(400)]
    sample = [
        _record(2 * i + side, first=first, last=last, email=email)
        for i, (first, last, email) in enumerate(people)
        for side in (0, 1)
    ]
    email = [c.name for c in ENGINE_COMPARISONS].index("email")
    exact = ENGINE_COMPARISONS[email].levels.index("exact")
    scorer = Scorer(default_model(ENGINE_COMPARISONS))
    duplicates = Counter(scorer.vector(sample[2 * i], sample[2 * i + 1]) for i in range(400))
    namesakes = Counter(
        scorer.vector(sample[2 * i], sample[2 * (i + 40)]) for i in range(360)
    )
    blocked = duplicates + namesakes
    small, _ = train_model(record_count=800, sample=sample, blocked_vectors=blocked)
    large, _ = train_model(record_count=80_000, sample=sample, blocked_vectors=blocked)
    assert large.u[email][exact] < small.u[email][exact] / 1000
    assert large.level_weights(email)[exact] > small.level_weights(email)[exact] + 9
    # The sampled u of the other e-mail levels is kept, rescaled.
    assert math.fsum(large.u[email]) == pytest.approx(1.0)


def test_u_from_random_pairs_leaves_out_the_matches_among_them():
    """In a file where a random pair is a match once in 5,000, as often as two strangers
    agree on the name here, the agreements counted among random pairs are half
    matches: u of the agreeing level is what is left once they are taken out."""
    from rcu.engine.training import u_without_matches

    model = default_model(COMPARISONS).replace(
        m=((0.9, 0.1), (0.9, 0.05, 0.05)), prior=1 / 5000)
    random_vectors = Counter({(0, None): 40, (1, None): 199_960})
    corrected = u_without_matches(model, random_vectors)
    matches_expected = 200_000 * (1 / 5000) * 0.9  # 36 of the 40 agreements
    assert corrected.u[0][0] == pytest.approx((40 - matches_expected + 1) / (200_000 - 40 + 2),
                                              rel=1e-3)
    assert corrected.u[0][0] < model.replace(u=((41 / 200_002, 1 - 41 / 200_002),
                                                model.u[1])).u[0][0] / 5
    assert corrected.u[1] == model.u[1]  # never observed: kept
    tiny = u_without_matches(model.replace(prior=1e-12), random_vectors)
    assert tiny.u[0][0] == pytest.approx(41 / 200_002)  # a large base: nothing changes


def test_u_of_an_equal_value_level_is_counted_over_every_pair_of_the_sample():
    """Two strangers share a birth date once in tens of thousands of pairs: counted from
    the dates' frequencies over every pair of the sample, less the matches expected
    there, never below what the blocked pairs show."""
    from rcu.engine.term_frequency import TermFrequencies
    from rcu.engine.training import u_from_frequencies

    born = Comparison("born", ("exact", "different"), _never_compared,
                      equal_value=("exact", "birth_date"))
    comparisons = (born,)
    model = default_model(comparisons).replace(m=((0.95, 0.05),), u=((0.01, 0.99),),
                                               prior=1e-4)
    # 1,000 records: 100 dates held twice, the rest once.
    frequencies = TermFrequencies(counts={"birth_date": {f"d{i}": 2 for i in range(100)}},
                                  totals={"birth_date": 1000}, shared={"birth_date": 0.001})
    share = 100 * 2 / (1000 * 999)
    sure = default_model(comparisons).replace(m=((0.999, 0.001),), u=((1e-6, 1 - 1e-6),),
                                              prior=0.5)
    matches_blocked = u_from_frequencies(model, frequencies, sure, Counter({(0,): 10}),
                                         comparisons)
    assert matches_blocked.u[0][0] == pytest.approx((share - 1e-4 * 0.95) / (1 - 1e-4))
    assert sum(matches_blocked.u[0]) == pytest.approx(1.0)
    # Nothing blocked at the level: nothing to say how many are matches, none taken out.
    nothing = u_from_frequencies(model, frequencies, sure, Counter(), comparisons)
    assert nothing.u[0][0] == pytest.approx(share)
    # Blocked pairs at the level that EM calls strangers nine times in ten: the share of
    # strangers among all pairs sharing a date is at least that.
    doubtful = default_model(comparisons).replace(m=((0.1, 0.9),), u=((0.9, 0.1),), prior=0.5)
    bounded = u_from_frequencies(model, frequencies, doubtful, Counter({(0,): 10}), comparisons)
    assert bounded.u[0][0] == pytest.approx(share * 0.9)
    plain = Comparison("born", ("exact", "different"), _never_compared)
    assert u_from_frequencies(model, frequencies, model, Counter(), (plain,)).u == model.u


def _report(history: list[float], converged: bool = False) -> TrainingReport:
    return TrainingReport(iterations=len(history), converged=converged,
                          prior_history=tuple(history), distinct_vectors=10, pairs=1000.0)


def test_em_that_stops_on_a_plateau_is_not_drifting_one_still_sliding_is():
    plateau = [0.10, 0.13, 0.135, *[0.1351 - 1e-6 * i for i in range(47)]]
    sliding = [0.05 + 0.01 * i for i in range(50)]  # the 1M French base: 0.05 to 0.54
    assert not drifting(_report(plateau))
    assert drifting(_report(sliding))
    assert not drifting(_report(sliding, converged=True))
    assert not drifting(_report(sliding[:5]))


def test_personal_em_that_drifts_gives_way_to_em_over_every_comparison(monkeypatch):
    """Households share surname and address: EM learns on the other comparisons first;
    when that drifts instead of settling, every comparison takes part."""
    from rcu.engine import training

    calls: list[int] = []
    real = training.train_m_and_lambda_em

    def em(vectors, start, **options):
        model, report = real(vectors, start, **options)
        calls.append(sum(1 for vector in vectors for level in vector if level is not None))
        if len(calls) == 1:  # the personal run, made to slide
            report = _report([0.05 + 0.01 * i for i in range(50)])
        return model, report

    monkeypatch.setattr(training, "train_m_and_lambda_em", em)
    start = default_model(ENGINE_COMPARISONS)
    household = [c.household for c in ENGINE_COMPARISONS]
    agree_all = tuple(0 for _ in ENGINE_COMPARISONS)
    differ_personal = tuple(0 if h else len(c.levels) - 1 for c, h in zip(ENGINE_COMPARISONS, household, strict=True))
    vectors = Counter({agree_all: 30, differ_personal: 300})

    training._train_on_personal_evidence(vectors, start, ENGINE_COMPARISONS)

    assert len(calls) == 2
    assert calls[1] > calls[0]  # the second run saw the household comparisons too


def test_m_is_counted_among_the_pairs_the_other_comparisons_alone_would_link():
    """EM's "match" class held namesakes: it learnt that duplicates often have two
    phones and two e-mails, so neither counted. Counted among the pairs that the other
    comparisons make near-certain, m is what one person's records really show."""
    from rcu.engine.comparators import BirthDateLevel, EmailLevel, PhoneLevel
    from rcu.engine.training import m_from_confident_pairs

    names = [c.name for c in ENGINE_COMPARISONS]
    birth, email, phone = (names.index(n) for n in ("birth_date", "email", "phone"))

    def vector(**levels):
        return tuple(levels.get(name) for name in names)

    vectors = Counter({
        # One person: names, birth date, e-mail and loyalty card agree; a few changed
        # their phone, one in ten holds a second e-mail.
        vector(first_name=0, last_name=0, birth_date=0, email=0, phone=0, identifiers=0): 900,
        vector(first_name=0, last_name=0, birth_date=0, email=0, phone=3, identifiers=0): 10,
        vector(first_name=0, last_name=0, birth_date=0, email=3, phone=0, identifiers=0): 100,
        # Namesakes: the names agree, nothing else does.
        vector(first_name=0, last_name=0, birth_date=4, email=3, phone=3): 500,
    })
    as_em_learnt = default_model(ENGINE_COMPARISONS)
    m = [list(row) for row in as_em_learnt.m]
    m[phone] = [0.59, 0.005, 0.005, 0.40]
    m[birth] = [0.69, 0.005, 0.0025, 0.0025, 0.30]
    m[email] = [0.98, 0.005, 0.005, 0.01]
    as_em_learnt = as_em_learnt.replace(m=m)
    assert as_em_learnt.level_weights(phone)[PhoneLevel.DIFFERENT] > -2.0

    counted = m_from_confident_pairs(as_em_learnt, vectors, ENGINE_COMPARISONS)

    assert counted.m[phone][PhoneLevel.DIFFERENT] == pytest.approx(10 / 1010, abs=0.01)
    assert counted.m[birth][BirthDateLevel.DIFFERENT] < 0.01
    assert counted.m[email][EmailLevel.DIFFERENT] == pytest.approx(100 / 1010, abs=0.01)
    assert counted.level_weights(phone)[PhoneLevel.DIFFERENT] < -5.0


def test_a_comparison_too_few_confident_pairs_hold_keeps_what_em_learnt():
    from rcu.engine.training import CONFIDENT_MIN_PAIRS, m_from_confident_pairs

    names = [c.name for c in ENGINE_COMPARISONS]
    phone = names.index("phone")
    confident = {"first_name": 0, "last_name": 0, "birth_date": 0, "email": 0, "identifiers": 0}
    vector = tuple({**confident, "phone": 3}.get(n) for n in names)
    model = default_model(ENGINE_COMPARISONS)
    # Linked on what it holds besides its phone: it counts, but alone it is too few.
    assert Scorer(model).link_guard(tuple(confident.get(n) for n in names)) is None
    few = int(CONFIDENT_MIN_PAIRS) - 1
    assert m_from_confident_pairs(
        model, Counter({vector: few}), ENGINE_COMPARISONS).m[phone] == model.m[phone]
    enough = int(CONFIDENT_MIN_PAIRS)
    assert m_from_confident_pairs(
        model, Counter({vector: enough}), ENGINE_COMPARISONS).m[phone] != model.m[phone]


def test_a_family_does_not_vouch_for_what_tells_its_members_apart():
    """Parents and children share surname, address, landline and often one e-mail:
    counted as evidence for the first name, they would teach that one person's records
    often hold two first names. What tells a household apart is judged on the personal
    comparisons alone."""
    from rcu.engine.comparators import FirstNameLevel
    from rcu.engine.training import m_from_confident_pairs

    names = [c.name for c in ENGINE_COMPARISONS]
    first = names.index("first_name")

    def vector(**levels):
        return tuple(levels.get(name) for name in names)

    vectors = Counter({
        vector(first_name=0, last_name=0, birth_date=0, email=0, identifiers=0): 1000,
        vector(first_name=FirstNameLevel.DIFFERENT, last_name=0, email=0, phone=0, address=0,
               postcode_city=0): 500,
    })
    # A base where a shared surname and address still weigh beside a shared landline.
    model = default_model(ENGINE_COMPARISONS).replace(household_weights={
        "last_name": (12.0,) * 6, "address": (12.0,) * 4, "postcode_city": (12.0,) * 5})
    family = Scorer(model)
    shared = vector(last_name=0, email=0, phone=0, address=0, postcode_city=0)
    assert family.link_guard(shared) is None  # what they share would link them
    counted = m_from_confident_pairs(model, vectors, ENGINE_COMPARISONS)
    assert counted.m[first][FirstNameLevel.DIFFERENT] < 0.01


def _vector(**levels):
    return tuple(levels.get(c.name) for c in ENGINE_COMPARISONS)


MOVED = _vector(first_name=0, last_name=0, birth_date=0, phone=3, address=3, postcode_city=4)


def _moves_and_namesakes(moved: int) -> Counter:
    return Counter({
        # One person, at home in both records.
        _vector(first_name=0, last_name=0, birth_date=0, phone=0, address=0, postcode_city=0): 900,
        # One person who moved: a new address, town and landline all at once.
        MOVED: moved,
        # Namesakes, and people sharing a first name, living apart.
        _vector(first_name=0, last_name=0, birth_date=4, phone=3, address=3, postcode_city=4): 2000,
        _vector(first_name=0, last_name=5, birth_date=4, phone=3, address=3, postcode_city=4): 2000,
    })


def _personal_only(vector):
    return tuple(
        None if c.household else level for c, level in zip(ENGINE_COMPARISONS, vector, strict=True)
    )


def test_a_move_is_counted_once_and_a_surname_that_changes_with_it_still_counts():
    """A person who moved differs on address, postcode and landline at once; counted as
    independent, one move weighed as three facts against a match. Beside another
    difference, a different postcode says nothing more (one person's records and
    strangers' differ there alike), while a different surname still does: one person
    who moved keeps their surname, strangers do not."""
    from rcu.engine.comparators import LastNameLevel, PostcodeCityLevel
    from rcu.engine.training import household_disagreements

    names = [c.name for c in ENGINE_COMPARISONS]
    postcode, surname = names.index("postcode_city"), names.index("last_name")
    # Among blocked pairs: first name and birth date are enough to link.
    model = default_model(ENGINE_COMPARISONS).replace(prior=0.01)
    assert Scorer(model).link_guard(_personal_only(MOVED)) is None
    learnt = household_disagreements(model, _moves_and_namesakes(100), ENGINE_COMPARISONS)
    beside_another = learnt["postcode_city"][PostcodeCityLevel.DIFFERENT]
    assert model.level_weights(postcode)[PostcodeCityLevel.DIFFERENT] < -4.0
    assert -0.5 < beside_another <= 0.5
    different_surname = learnt["last_name"][LastNameLevel.DIFFERENT]
    assert different_surname < -5.0
    assert learnt["postcode_city"][PostcodeCityLevel.SAME_POSTCODE_AND_CITY] is None  # agrees

    moved = model.replace(household_disagreements=learnt)
    assert moved.weight(MOVED) > model.weight(MOVED) + 4.0
    assert moved.level_weights(surname) == model.level_weights(surname)


def test_too_few_moves_teach_nothing():
    from rcu.engine.training import HOUSEHOLD_MIN_PAIRS, household_disagreements

    few = int(HOUSEHOLD_MIN_PAIRS) - 1
    learnt = household_disagreements(
        default_model(ENGINE_COMPARISONS).replace(prior=0.01), _moves_and_namesakes(few),
        ENGINE_COMPARISONS,
    )
    assert learnt == {}
