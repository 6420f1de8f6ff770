"""Training the model from the data itself, without labels.

u (how often levels occur among different people) comes from random pairs of a
sample of records: almost all of them are different people. m and the prior come
from expectation-maximisation over blocked pairs, where matches are common enough to
be learnt. The prior is therefore the share of matches among *blocked* pairs, which is
what the engine scores: the probability of a candidate pair is P(match | levels,
blocked together).

Random pairs cannot measure how rarely two different people share an e-mail, a phone
number or a loyalty card: a hundred thousand of them hold none, and the u trained stops
at its smoothing floor (about 1 in 20,000), whatever the size of the base, while the
prior falls with it. Two records sharing such a value share its blocking key, so every
such pair is among the blocked pairs: for these levels (`Comparison.counted_level`), u
is counted there, as the non-matches EM finds among them over every pair of records
that both hold a value (`counted_u`).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from rcu.engine.columnar import vector_counts
from rcu.engine.comparators import COMPARISONS
from rcu.engine.fellegi_sunter import (
    EM_PSEUDO_COUNT,
    PROBABILITY_FLOOR,
    U_PSEUDO_COUNT,
    Model,
    TrainingReport,
    default_model,
    distribution,
    train_m_and_lambda_em,
    train_u,
)
from rcu.engine.scoring import Scorer
from rcu.engine.term_frequency import TermFrequencies, count_term_frequencies
from rcu.engine.types import Comparison, Level, MatchRecord

RANDOM_PAIRS = 100_000
SEED = 20_240_601
# Added to the non-matches counted at a level, so that its u stays above zero.
COUNTED_PSEUDO_PAIRS = 1.0


def random_pair_vectors(
    records: Sequence[MatchRecord], scorer: Scorer, *, pairs: int = RANDOM_PAIRS, seed: int = SEED
) -> Counter[tuple[Level, ...]]:
    """Comparison vectors of `pairs` random pairs of distinct records (deterministic)."""
    if len(records) < 2:
        return Counter()
    prepared = [scorer.prepare(record) for record in records]
    rng = random.Random(seed)
    size = len(prepared)
    possible = size * (size - 1) // 2
    first, second = [], []
    for _ in range(min(pairs, possible)):
        i = rng.randrange(size)
        j = rng.randrange(size - 1)
        if j >= i:
            j += 1
        first.append(i)
        second.append(j)
    return vector_counts(scorer, prepared, [
        (np.array(first, dtype=np.int64), np.array(second, dtype=np.int64))
    ])


def u_without_matches(
    model: Model, random_vectors: Counter[tuple[Level, ...]] | Mapping[tuple[Level, ...], float]
) -> Model:
    """`model` with u learnt from the random pairs less the matches among them.

    A random pair is a match with probability λ (`model.prior`): in a small file where
    most people have several records, λ is near 1 in 5,000, as common as two strangers
    sharing a birth date, and those matches nearly all agree. Counting them as
    non-matches makes u of the most telling levels (a full birth date, a rare name)
    several times too large, and their weight a bit or two too small. So the count of
    each level loses the matches expected there (λ times the pairs with both values
    known times m of the level), then is smoothed as `train_u` does. In a large base λ
    is tiny and nothing changes.
    """
    prior = model.prior
    counts = [[0.0] * len(labels) for labels in model.levels]
    for vector, count in random_vectors.items():
        for c, level in enumerate(vector):
            if level is not None:
                counts[c][level] += count
    u = []
    for row, m_row, previous in zip(counts, model.m, model.u, strict=True):
        known = math.fsum(row)
        corrected = [max(0.0, n - prior * known * m) for n, m in zip(row, m_row, strict=True)]
        u.append(distribution(corrected, previous, pseudo_count=U_PSEUDO_COUNT))
    return model.replace(u=u)


def u_from_frequencies(
    model: Model,
    frequencies: TermFrequencies,
    fitted: Model | _PersonalPosterior,
    blocked_vectors: Counter[tuple[Level, ...]],
    comparisons: tuple[Comparison, ...],
) -> Model:
    """`model` with u of each equal-value level (`Comparison.equal_value`) counted from
    how often two records of the sample share a value: Σ n(n - 1) / N(N - 1) over the
    values held n times among the N records holding one. That is every pair of the
    sample, where a random draw sees a hundred thousand: two strangers share a birth
    date once in 30,000 pairs, so a draw holds three such pairs and u is noise.

    Two records of one person share their values too: the matches expected at the level
    (λ times m) are taken out, as in `u_without_matches`. Taken out no further than the
    blocked pairs allow: every pair of one person sharing a birth date or a name shares
    a blocking key, so the share of non-matches EM finds among the blocked pairs at
    that level is a lower bound of theirs among all pairs at it (more strangers share a
    value than share a key).
    """
    prior = model.prior
    u = [list(row) for row in model.u]
    for c, comparison in enumerate(comparisons):
        if comparison.equal_value is None:
            continue
        label, attribute = comparison.equal_value
        total = frequencies.totals.get(attribute)
        if not total or total < 2:
            continue
        level = comparison.levels.index(label)
        sharing = math.fsum(n * (n - 1) for n in frequencies.counts.get(attribute, {}).values())
        share = sharing / (total * (total - 1))
        matches = non_matches = 0.0
        for vector, count in blocked_vectors.items():
            if vector[c] == level:
                p = fitted.probability(vector)
                matches += count * p
                non_matches += count * (1.0 - p)
        lower = share * non_matches / (matches + non_matches) if matches + non_matches else share
        value = max((share - prior * model.m[c][level]) / (1.0 - prior), lower, PROBABILITY_FLOOR)
        others = math.fsum(p for i, p in enumerate(u[c]) if i != level)
        if value >= 1.0 or others <= 0.0:
            continue
        u[c] = [value if i == level else p * (1.0 - value) / others for i, p in enumerate(u[c])]
    return model.replace(u=u)


def known_shares(random_vectors: Counter[tuple[Level, ...]], size: int) -> list[float]:
    """Per comparison, the share of random pairs in which both records hold a value."""
    total = sum(random_vectors.values())
    known = [0.0] * size
    for vector, count in random_vectors.items():
        for c, level in enumerate(vector):
            if level is not None:
                known[c] += count
    return [k / total if total else 0.0 for k in known]


def counted_u(
    fitted: Model | _PersonalPosterior,
    blocked_vectors: Counter[tuple[Level, ...]],
    *,
    comparisons: tuple[Comparison, ...],
    known: Sequence[float],
    possible_pairs: float,
    blocked_share: float = 1.0,
    unblocked_pairs: Mapping[str, float] | None = None,
) -> dict[int, float]:
    """u of each comparison's counted level, by comparison index.

    The non-matches at that level are the blocked pairs there weighted by EM's
    posterior of not matching (scaled up when EM saw a share of the blocks only), plus
    the pairs of the oversized blocks of its key kind (`unblocked_pairs`, by kind: never
    compared, counted as non-matches). They are divided by the pairs of records that
    both hold a value: every pair times the share of random pairs with both known.
    """
    unblocked_pairs = unblocked_pairs or {}
    counted = {
        c: comparison.levels.index(comparison.counted_level)
        for c, comparison in enumerate(comparisons)
        if comparison.counted_level is not None
    }
    non_matches = dict.fromkeys(counted, 0.0)
    for vector, count in blocked_vectors.items():
        as_non_match = None
        for c, level in counted.items():
            if vector[c] == level:
                if as_non_match is None:
                    as_non_match = count * (1.0 - fitted.probability(vector))
                non_matches[c] += as_non_match
    result: dict[int, float] = {}
    for c in counted:
        both_known = possible_pairs * known[c]
        if both_known < 1.0:
            continue
        found = non_matches[c] / blocked_share
        found += unblocked_pairs.get(comparisons[c].key_kind or "", 0.0)
        result[c] = min((found + COUNTED_PSEUDO_PAIRS) / both_known, 1.0)
    return result


def with_counted_u(model: Model, counted: Mapping[int, float], comparisons: tuple[Comparison, ...]) -> Model:
    """`model` with the counted u in place; the comparison's other levels share the rest
    in their former proportions."""
    u = [list(row) for row in model.u]
    for c, value in counted.items():
        level = comparisons[c].levels.index(comparisons[c].counted_level)
        others = math.fsum(p for i, p in enumerate(u[c]) if i != level)
        if others <= 0.0 or value >= 1.0:
            continue
        u[c] = [value if i == level else p * (1.0 - value) / others for i, p in enumerate(u[c])]
    return model.replace(u=u)


class _PersonalPosterior:
    """P(match) of a comparison vector as judged on its personal comparisons alone."""

    def __init__(self, model: Model, personal: tuple[bool, ...]) -> None:
        self.model = model
        self.personal = personal
        self.m = model.m

    def probability(self, vector: Sequence[Level]) -> float:
        return self.model.probability(_personal_part(vector, self.personal))


def _personal_part(vector: Sequence[Level], personal: tuple[bool, ...]) -> tuple[Level, ...]:
    return tuple(level if keep else None for level, keep in zip(vector, personal, strict=True))


def _train_on_personal_evidence(
    vectors: Counter[tuple[Level, ...]], start: Model, comparisons: tuple[Comparison, ...]
) -> tuple[Model | _PersonalPosterior, TrainingReport]:
    """m and λ by EM, with the class "same person" told apart by personal comparisons.

    Among blocked pairs, the members of one household agree on surname, address,
    postcode and landline together, and often outnumber the duplicates: EM left free on
    every comparison takes "same household" for "same person", learns that a different
    address is near impossible between duplicates (a person who moved is then lost) and
    that a different first name is common (a spouse is then linked). So EM runs on the
    comparisons households do not share (`Comparison.household` false) and every
    comparison's m comes from one M-step on the posterior it found. With no household
    comparison, or nothing else, this is plain EM over every comparison.
    """
    personal = tuple(not c.household for c in comparisons)
    if all(personal) or not any(personal):
        return train_m_and_lambda_em(vectors, start, fixed_u=False)
    masked: Counter[tuple[Level, ...]] = Counter()
    for vector, count in vectors.items():
        masked[_personal_part(vector, personal)] += count
    fitted, report = train_m_and_lambda_em(masked, start, fixed_u=False)
    if drifting(report):
        # The personal comparisons alone did not separate duplicates from the namesakes
        # the blocks gather: on the 1M French base EM's "same person" class swelled from
        # 5 % to 54 % of the blocked pairs (the truth: 7 %; `bench.em_drift`), where EM
        # over every comparison settles at 6 %. Then every comparison it is.
        return train_m_and_lambda_em(vectors, start, fixed_u=False)
    posterior = _PersonalPosterior(fitted, personal)
    m_counts = [[0.0] * len(c.levels) for c in comparisons]
    for vector, count in vectors.items():
        as_match = count * posterior.probability(vector)
        for c, level in enumerate(vector):
            if level is not None:
                m_counts[c][level] += as_match
    m = [
        distribution(row, previous, pseudo_count=EM_PSEUDO_COUNT)
        for row, previous in zip(m_counts, fitted.m, strict=True)
    ]
    posterior.m = tuple(tuple(row) for row in m)
    return posterior, report


def drifting(report: TrainingReport, *, window: int = 10, tolerance: float = 0.01) -> bool:
    """Whether EM stopped without converging while its prior was still moving (by more
    than `tolerance` of itself over the last `window` iterations): a run that has only
    crawled to its end (a plateau) is not drifting, one sliding toward a degenerate
    split is."""
    history = report.prior_history
    if report.converged or len(history) < window:
        return False
    return abs(history[-1] - history[-window]) > tolerance * max(history[-1], 1e-9)


# Fewer non-matching pairs than this say too little about what a household shares.
HOUSEHOLD_MIN_PAIRS = 30.0


def household_weights(
    fitted: Model, vectors: Counter[tuple[Level, ...]], comparisons: tuple[Comparison, ...],
    m: Sequence[Sequence[float]],
) -> dict[str, tuple[float, ...]]:
    """What each level of each household comparison still weighs when the pair already
    agrees on another household comparison: log2(m / u'), u' the share of different
    people at that level among those agreeing on another household comparison (at any
    level `fitted` weighs as an agreement: a postcode without its town is one) and on
    something personal (a first name: blocked by it and the place, whatever their
    surnames). Where families share names and homes u' is high and the agreement adds
    little; where namesakes under one roof are rare it keeps its weight. Every level is
    learnt, not only the strongest: a surname with a typo, or the same town without the
    same postcode, is evidence beside a shared place too, and how much is the base's to
    say. Counted on the blocked pairs, weighed by `fitted`'s posterior of not matching;
    by comparison name, one credit per level (0 where the level is no agreement)."""
    household = [i for i, c in enumerate(comparisons) if c.household]
    personal = [i for i, c in enumerate(comparisons) if not c.household]
    agreeing = {
        i: frozenset(level for level, w in enumerate(fitted.level_weights(i)) if w > 0.0)
        for i in household
    }
    together = dict.fromkeys(household, 0.0)
    at_level = {i: [0.0] * len(comparisons[i].levels) for i in household}
    for vector, count in vectors.items():
        if not any(vector[i] == 0 for i in personal):
            continue
        top = [i for i in household if vector[i] in agreeing[i]]
        if not top:
            continue
        non_match = count * (1.0 - fitted.probability(vector))
        for i in household:
            level = vector[i]
            if level is None or not any(j != i for j in top):
                continue
            together[i] += non_match
            at_level[i][level] += non_match
    weights: dict[str, tuple[float, ...]] = {}
    for i in household:
        if together[i] < HOUSEHOLD_MIN_PAIRS:
            continue
        credits = []
        for level, found in enumerate(at_level[i]):
            u_given = (found + 1.0) / (together[i] + 2.0)
            credits.append(max(0.0, math.log2(m[i][level] / u_given)))
        weights[comparisons[i].name] = tuple(credits)
    return weights


# Rounds of `m_from_confident_pairs`: the m it finds move the weights that choose the
# pairs; on the generated bases the second round moves a few pairs, the third none.
CONFIDENT_ROUNDS = 3
# Fewer pairs than this at a comparison say too little to replace what EM found.
CONFIDENT_MIN_PAIRS = 30.0


def _links_alone(scorer: Scorer, levels: tuple[Level, ...], personal: Sequence[bool]) -> bool:
    """Whether these levels alone would link a pair: a personal comparison agrees (its
    level weighs for a match) and `Scorer.link_guard` lets it through. What vouches for
    a pair as one person's when the model learns from its other levels."""
    tables = scorer.model.tables
    return any(
        personal[j] and level is not None and tables[j][level] > 0.0
        for j, level in enumerate(levels)
    ) and scorer.link_guard(levels) is None


def m_from_confident_pairs(
    model: Model, vectors: Counter[tuple[Level, ...]], comparisons: tuple[Comparison, ...],
    *, rounds: int = CONFIDENT_ROUNDS,
) -> Model:
    """m of each comparison counted among the blocked pairs that the *other*
    comparisons alone would link: near-certain duplicates, whose level at this
    comparison says how often one person's records agree there.

    EM's two classes are not "same person" and "different people": on the personal
    comparisons its "match" class is mostly "same first name" (namesakes, a father and
    his son), over every comparison "same household". Its m of the disagreements came
    out far too high (generated 100k base: a different phone 0.26 where one person's
    records differ 0.004, a different surname 0.29 for 0.026, a different birth date
    0.28 for none), so a disagreement barely counted, and its m of a second e-mail or
    loyalty card nil. A pair counts for a comparison when, that comparison left out, a
    personal comparison agrees and the pair passes `Scorer.link_guard`: no
    contradiction, enough evidence with a household's agreements counted once. For a
    personal comparison (what tells a household's members apart: first name, birth
    date) only the other personal ones vouch: a shared surname, address and landline
    are what a family shares. The weights move with the m found: a few rounds. The
    household credits stay as learnt beside EM's m (relearnt from the sharper weights
    they fell, and recall with them, for no precision). A comparison with fewer than
    `CONFIDENT_MIN_PAIRS` such pairs keeps EM's m.
    """
    personal = [not c.household for c in comparisons]
    for _ in range(rounds):
        scorer = Scorer(model, None, comparisons)
        counts = [[0.0] * len(c.levels) for c in comparisons]
        for vector, count in vectors.items():
            for c, level in enumerate(vector):
                if level is None:
                    continue
                others = (*vector[:c], None, *vector[c + 1 :])
                if personal[c]:
                    # What tells a household's members apart is judged on what they
                    # do not share: their surname, address and landline say nothing.
                    others = tuple(o if personal[j] else None for j, o in enumerate(others))
                if _links_alone(scorer, others, personal):
                    counts[c][level] += count
        m = [
            distribution(row, previous, pseudo_count=EM_PSEUDO_COUNT)
            if math.fsum(row) >= CONFIDENT_MIN_PAIRS else previous
            for row, previous in zip(counts, model.m, strict=True)
        ]
        model = model.replace(m=m)
    return model


def household_disagreements(
    model: Model, vectors: Counter[tuple[Level, ...]], comparisons: tuple[Comparison, ...],
) -> dict[str, tuple[float | None, ...]]:
    """What each disagreeing level of each household comparison still weighs when the
    pair differs on another household comparison too: log2(m' / u'), m' its share
    among the pairs that differ there and that their personal comparisons alone would
    link (`Scorer.link_guard` of those: first name with birth date, e-mail or an
    identifier), u' among the non-matches that differ there (the blocked pairs that
    agree on something personal, weighed by `model`'s posterior of not matching). A person
    who moved changes address, postcode, town and landline at once: counted as
    independent, one move weighed as three or four facts against a match (a moved
    person with the same names and birth date scored under auto-link). Where a second
    difference tells matches from non-matches no better than the first, it adds
    nothing; where it does (a different surname beside a different address), it keeps
    what the base says. None where fewer than `HOUSEHOLD_MIN_PAIRS` of either kind
    differ elsewhere (the level then counts in full)."""
    household = [i for i, c in enumerate(comparisons) if c.household]
    personal = [i for i, c in enumerate(comparisons) if not c.household]
    against = {
        i: frozenset(level for level, w in enumerate(model.level_weights(i)) if w < 0.0)
        for i in household
    }
    size = {i: len(comparisons[i].levels) for i in household}
    matches = dict.fromkeys(household, 0.0)
    others = dict.fromkeys(household, 0.0)
    matches_at = {i: [0.0] * size[i] for i in household}
    others_at = {i: [0.0] * size[i] for i in household}
    scorer = Scorer(model, None, comparisons)
    is_personal = [not c.household for c in comparisons]
    for vector, count in vectors.items():
        if not any(vector[i] == 0 for i in personal):
            continue
        differing = [i for i in household if vector[i] in against[i]]
        if not differing:
            continue
        # One person's records: what they do not share with a household links them.
        vouched = _links_alone(
            scorer,
            tuple(level if is_personal[i] else None for i, level in enumerate(vector)),
            is_personal,
        )
        other = count * (1.0 - model.probability(vector))
        for i in household:
            level = vector[i]
            if level is None or not any(j != i for j in differing):
                continue
            if vouched:
                matches[i] += count
                matches_at[i][level] += count
            others[i] += other
            others_at[i][level] += other
    learnt: dict[str, tuple[float | None, ...]] = {}
    for i in household:
        if matches[i] < HOUSEHOLD_MIN_PAIRS or others[i] < HOUSEHOLD_MIN_PAIRS:
            continue
        learnt[comparisons[i].name] = tuple(
            math.log2(
                ((matches_at[i][level] + 1.0) / (matches[i] + 2.0))
                / ((others_at[i][level] + 1.0) / (others[i] + 2.0))
            ) if level in against[i] else None
            for level in range(size[i])
        )
    return learnt


def train_model(
    *,
    record_count: int,
    blocked_share: float = 1.0,
    sample: Sequence[MatchRecord],
    blocked_vectors: Iterable[tuple[Level, ...]] | Counter[tuple[Level, ...]],
    scorer_for: type[Scorer] = Scorer,
    comparisons: tuple[Comparison, ...] = COMPARISONS,
    generic=None,
    random_pairs: int = RANDOM_PAIRS,
    unblocked_pairs: Mapping[str, float] | None = None,
) -> tuple[Model, TrainingReport]:
    """A model learnt from a random sample of records and the vectors of blocked pairs.

    EM separates blocked pairs into matches and non-matches with u free, since
    blocked non-matches (namesakes, relatives) agree far more often than random pairs:
    it yields m. u comes from random pairs, except at the counted levels (see
    `counted_u`), and the prior is the expected number of matches found by EM over
    every possible pair, so probabilities are P(match | levels) whatever pairs are later
    compared (blocked ones, or the pairs inside a cluster). How common each value of the
    sample is gives the term-frequency adjustments (`rcu.engine.term_frequency`).
    """
    start = default_model(comparisons)
    scorer = scorer_for(start, generic, comparisons)
    random_vectors = random_pair_vectors(sample, scorer, pairs=random_pairs)
    with_u = train_u(start, random_vectors)
    vectors = Counter(blocked_vectors) if not isinstance(blocked_vectors, Counter) else blocked_vectors
    fitted, report = _train_on_personal_evidence(vectors, with_u, comparisons)
    possible = record_count * (record_count - 1) / 2
    # `blocked_vectors` may come from a share of the blocks only.
    expected_matches = report.prior * report.pairs / blocked_share
    prior = min(max(expected_matches / possible, 1e-9), 0.5) if possible else start.prior
    model = with_u.replace(m=fitted.m, prior=prior)
    frequencies = count_term_frequencies(
        (scorer.prepare(record) for record in sample),
        [attribute for c in comparisons for _, attribute in c.term_frequency],
    )
    if report.pairs > 0:
        model = u_without_matches(model, random_vectors)
        if frequencies is not None:
            model = u_from_frequencies(model, frequencies, fitted, vectors, comparisons)
        counted = counted_u(
            fitted, vectors, comparisons=comparisons,
            known=known_shares(random_vectors, len(comparisons)), possible_pairs=possible,
            blocked_share=blocked_share, unblocked_pairs=unblocked_pairs,
        )
        model = with_counted_u(model, counted, comparisons)
    if report.pairs > 0:
        # Judged on every comparison: a duplicate without its birth date agrees on its
        # name and home, a relative does not share the first name.
        among_blocked = model.replace(prior=min(max(report.prior, 1e-9), 0.5))
        model = model.replace(
            household_weights=household_weights(among_blocked, vectors, comparisons, model.m)
        )
        model = m_from_confident_pairs(model, vectors, comparisons)
        among_blocked = model.replace(prior=min(max(report.prior, 1e-9), 0.5))
        model = model.replace(
            household_disagreements=household_disagreements(among_blocked, vectors, comparisons)
        )
    if frequencies is not None:
        model = model.replace(term_frequencies=frequencies)
    return model, report
