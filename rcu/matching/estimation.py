"""Estimating the model from the data itself, without labels.

u (how often levels occur among different people) comes from random pairs of a
sample of records: almost all of them are different people. m and the prior come
from expectation-maximisation over blocked pairs, where matches are common enough to
be learnt. The prior is therefore the share of matches among *blocked* pairs, which is
what the engine scores: the probability of a candidate pair is P(match | levels,
blocked together).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence

from rcu.matching.comparators import COMPARISONS
from rcu.matching.model import (
    EstimationReport,
    Model,
    default_model,
    estimate_m_and_lambda_em,
    estimate_u,
)
from rcu.matching.scoring import Scorer
from rcu.matching.types import Comparison, Level, MatchRecord

RANDOM_PAIRS = 100_000
SEED = 20_240_601


def random_pair_vectors(
    records: Sequence[MatchRecord], scorer: Scorer, *, pairs: int = RANDOM_PAIRS, seed: int = SEED
) -> Counter[tuple[Level, ...]]:
    """Comparison vectors of `pairs` random pairs of distinct records (deterministic)."""
    counts: Counter[tuple[Level, ...]] = Counter()
    if len(records) < 2:
        return counts
    prepared = [scorer.prepare(record) for record in records]
    rng = random.Random(seed)
    size = len(prepared)
    possible = size * (size - 1) // 2
    for _ in range(min(pairs, possible)):
        i = rng.randrange(size)
        j = rng.randrange(size - 1)
        if j >= i:
            j += 1
        counts[scorer.vector(prepared[i], prepared[j])] += 1
    return counts


def estimate_model(
    *,
    record_count: int,
    blocked_share: float = 1.0,
    sample: Sequence[MatchRecord],
    blocked_vectors: Iterable[tuple[Level, ...]] | Counter[tuple[Level, ...]],
    scorer_for: type[Scorer] = Scorer,
    comparisons: tuple[Comparison, ...] = COMPARISONS,
    generic=None,
    random_pairs: int = RANDOM_PAIRS,
) -> tuple[Model, EstimationReport]:
    """A model learnt from a random sample of records and the vectors of blocked pairs.

    EM separates blocked pairs into matches and non-matches with u free, since
    blocked non-matches (namesakes, relatives) agree far more often than random pairs:
    it yields m. u comes from random pairs, and the prior is the expected number of
    matches found by EM over every possible pair, so probabilities are P(match | levels)
    whatever pairs are later compared (blocked ones, or the pairs inside a cluster).
    """
    start = default_model(comparisons)
    scorer = scorer_for(start, generic, comparisons)
    with_u = estimate_u(start, random_pair_vectors(sample, scorer, pairs=random_pairs))
    vectors = Counter(blocked_vectors) if not isinstance(blocked_vectors, Counter) else blocked_vectors
    fitted, report = estimate_m_and_lambda_em(vectors, with_u, fixed_u=False)
    possible = record_count * (record_count - 1) / 2
    # `blocked_vectors` may come from a share of the blocks only.
    expected_matches = report.prior * report.pairs / blocked_share
    prior = min(max(expected_matches / possible, 1e-9), 0.5) if possible else start.prior
    return with_u.replace(m=fitted.m, prior=prior), report
