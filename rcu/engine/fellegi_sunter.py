"""Fellegi-Sunter scoring: m/u probabilities per comparison level, a prior, match weights.

A pair is scored from its comparison vector (one `Level` per comparison). Its match
weight is the prior weight log2(λ / (1 - λ)) plus, for every comparison whose level is
known, log2(m / u) for that level; a missing level (None) adds nothing. The weight
tables are computed once per model, so scoring a vector is a few dict lookups and a sum.

Parameters are learnt without labels, the way Splink does it: u from randomly drawn
pairs (`train_u`), then m and λ by expectation-maximisation over the blocked
candidate pairs (`train_m_and_lambda_em`). Both work on distinct vectors with their
counts, so millions of pairs cost no more than the few thousand vectors they collapse to.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import getitem
from typing import Any, NamedTuple

from rcu.engine.term_frequency import TermFrequencies
from rcu.engine.types import Comparison, Level

Vector = tuple[Level, ...]

# No trained probability goes below this, so no level weight is ever infinite.
PROBABILITY_FLOOR = 1e-6
# λ is kept strictly inside (0, 1): its log-odds must stay finite.
PRIOR_FLOOR = 1e-12
# Added to every level's count when training u from random pairs (Laplace).
U_PSEUDO_COUNT = 1.0
# EM counts are expected counts (fractions of pairs): a lighter pseudo-count keeps
# small match populations from being flattened towards uniform.
EM_PSEUDO_COUNT = 0.01

# Before any training: m falls and u rises from the strongest level to disagreement.
DEFAULT_PRIOR = 1e-4
DEFAULT_M_EXACT = 0.90
DEFAULT_U_EXACT = 0.001
DEFAULT_U_FIRST_PARTIAL = 0.005

FORMAT_VERSION = 1


# The label of what a disagreement gets back when another household comparison differs
# too (`Model.household_disagreements`): one move changes address, town and landline.
WITH_ANOTHER_DIFFERENCE = "with_another_difference"


class Contribution(NamedTuple):
    """What one comparison adds to the match weight of a pair."""

    comparison: str
    level: str | None  # the level's label; None when the value is missing
    weight: float


@dataclass(frozen=True, slots=True)
class Explanation:
    """A pair's score, broken down: `prior_weight` + Σ contributions == `total_weight`."""

    prior_weight: float
    contributions: tuple[Contribution, ...]
    total_weight: float
    probability: float


@dataclass(frozen=True, slots=True)
class TrainingReport:
    """How an expectation-maximisation run went."""

    iterations: int
    converged: bool
    prior_history: tuple[float, ...]  # λ after each iteration
    distinct_vectors: int
    pairs: float

    @property
    def prior(self) -> float:
        return self.prior_history[-1]


def probability_from_weight(weight: float) -> float:
    """2^w / (1 + 2^w), written so that no power of two can overflow."""
    if weight >= 0:
        return 1.0 / (1.0 + 2.0**-weight)
    odds = 2.0**weight
    return odds / (1.0 + odds)


def weight_from_probability(probability: float) -> float:
    """The match weight at which a pair reaches this probability (the inverse of
    `probability_from_weight`); minus infinity for 0, infinity for 1."""
    if probability <= 0.0:
        return -math.inf
    if probability >= 1.0:
        return math.inf
    return math.log2(probability / (1.0 - probability))


def _household_levels(credit: float | Sequence[float], level_count: int) -> tuple[float, ...]:
    """A household credit by level; a single number (a model stored before credits
    were learnt per level) is the strongest level's, the others getting none."""
    values = [float(credit)] if isinstance(credit, int | float) else [float(c) for c in credit]
    if len(values) > level_count:
        raise ValueError("a household credit has more levels than its comparison")
    return tuple(values + [0.0] * (level_count - len(values)))


def _weight_table(m: Sequence[float], u: Sequence[float]) -> dict[Level, float]:
    table: dict[Level, float] = {None: 0.0}
    for level, (m_level, u_level) in enumerate(zip(m, u, strict=True)):
        table[level] = math.log2(m_level / u_level)
    return table


class Model:
    """Fellegi-Sunter parameters for an ordered set of comparisons; immutable."""

    __slots__ = (
        "_against", "_against_cache", "_bound_tables", "_household", "_household_against",
        "_labels", "_m", "_names", "_prior", "_prior_weight", "_tables", "_tf", "_u",
    )

    def __init__(
        self,
        *,
        names: Sequence[str],
        levels: Sequence[Sequence[str]],
        m: Sequence[Sequence[float]],
        u: Sequence[Sequence[float]],
        prior: float,
        term_frequencies: TermFrequencies | None = None,
        household_weights: Mapping[str, float | Sequence[float]] | None = None,
        household_disagreements: Mapping[str, Sequence[float | None]] | None = None,
    ) -> None:
        names = tuple(names)
        labels = tuple(tuple(row) for row in levels)
        m_rows = tuple(tuple(float(p) for p in row) for row in m)
        u_rows = tuple(tuple(float(p) for p in row) for row in u)
        if not len(names) == len(labels) == len(m_rows) == len(u_rows):
            raise ValueError("names, levels, m and u must have one entry per comparison")
        if len(set(names)) != len(names):
            raise ValueError("comparison names must be unique")
        for name, row_labels, m_row, u_row in zip(names, labels, m_rows, u_rows, strict=True):
            if len(row_labels) < 2:
                raise ValueError(f"{name}: a comparison needs at least two levels")
            for kind, row in (("m", m_row), ("u", u_row)):
                if len(row) != len(row_labels):
                    raise ValueError(f"{name}: {kind} needs one probability per level")
                if not all(0.0 < p <= 1.0 for p in row):
                    raise ValueError(f"{name}: {kind} probabilities must lie in (0, 1]")
                if not math.isclose(math.fsum(row), 1.0, abs_tol=1e-6):
                    raise ValueError(f"{name}: {kind} probabilities must sum to 1")
        prior = float(prior)
        if not 0.0 < prior < 1.0:
            raise ValueError("the prior must lie strictly between 0 and 1")
        self._names = names
        self._labels = labels
        self._m = m_rows
        self._u = u_rows
        self._prior = prior
        self._tf = term_frequencies
        self._household = {
            name: _household_levels(credit, len(labels[names.index(name)]))
            for name, credit in (household_weights or {}).items()
            if name in names
        }
        self._prior_weight = math.log2(prior / (1.0 - prior))
        # One dict per comparison, None mapped to 0.0: scoring is then a single
        # map(getitem) with no branch, and a level out of range raises KeyError.
        self._tables = tuple(
            _weight_table(m_row, u_row) for m_row, u_row in zip(m_rows, u_rows, strict=True)
        )
        self._household_against: dict[str, tuple[float | None, ...]] = {}
        for name, learnt_row in (household_disagreements or {}).items():
            if name not in names:
                continue
            if len(learnt_row) != len(labels[names.index(name)]):
                raise ValueError(f"{name}: household disagreements need one value per level")
            self._household_against[name] = tuple(
                None if w is None else float(w) for w in learnt_row
            )
        # By comparison index, what each disagreeing level weighs beside another
        # household disagreement (between the level's own weight and nothing); and the
        # tables with those levels at that weight: the most a level may end at.
        self._bound_tables = tuple(dict(table) for table in self._tables)
        against: list[tuple[int, dict[int, float]]] = []
        for name, against_row in sorted(self._household_against.items()):
            index = names.index(name)
            bound = self._bound_tables[index]
            credits: dict[int, float] = {}
            for level, learnt in enumerate(against_row):
                if learnt is not None and bound[level] < 0.0:
                    bound[level] = credits[level] = min(0.0, max(bound[level], learnt))
            against.append((index, credits))
        self._against = tuple(against)
        self._against_cache: dict[tuple[Level, ...], tuple[tuple[int, float], ...]] = {}

    # --- parameters -------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    @property
    def levels(self) -> tuple[tuple[str, ...], ...]:
        return self._labels

    @property
    def m(self) -> tuple[tuple[float, ...], ...]:
        return self._m

    @property
    def u(self) -> tuple[tuple[float, ...], ...]:
        return self._u

    @property
    def prior(self) -> float:
        return self._prior

    @property
    def prior_weight(self) -> float:
        return self._prior_weight

    @property
    def household_weights(self) -> Mapping[str, tuple[float, ...]]:
        """Per household comparison, what each of its levels still weighs once the pair
        agrees on another household comparison, by level (learnt; missing: nothing)."""
        return self._household

    @property
    def household_disagreements(self) -> Mapping[str, tuple[float | None, ...]]:
        """Per household comparison, what each of its disagreeing levels still weighs
        when another household comparison differs too, by level (None: not learnt, the
        level counts in full). A move changes address, postcode, town and landline at
        once: counted in full, one fact would weigh as several."""
        return self._household_against

    @property
    def term_frequencies(self) -> TermFrequencies | None:
        """How common each value is in the base (see `rcu.engine.term_frequency`)."""
        return self._tf

    @property
    def tables(self) -> tuple[dict[Level, float], ...]:
        """Per comparison, the weight of each level (None, a missing value, is 0)."""
        return self._tables

    @property
    def bound_tables(self) -> tuple[dict[Level, float], ...]:
        """`tables`, with each household difference that may get weight back beside
        another (`shared_differences`) at the most it may end at: what an early stop
        adds up, so that it never gives up a pair that would reach its mark."""
        return self._bound_tables

    def level_weights(self, comparison: int) -> tuple[float, ...]:
        """log2(m / u) of each level of one comparison, best level first."""
        table = self._tables[comparison]
        return tuple(table[level] for level in range(len(self._labels[comparison])))

    def is_for(self, comparisons: Sequence[Comparison]) -> bool:
        """Whether this model was built for exactly these comparisons and levels."""
        return self._names == tuple(c.name for c in comparisons) and self._labels == tuple(
            tuple(c.levels) for c in comparisons
        )

    def replace(
        self,
        *,
        m: Sequence[Sequence[float]] | None = None,
        u: Sequence[Sequence[float]] | None = None,
        prior: float | None = None,
        term_frequencies: TermFrequencies | None = None,
        household_weights: Mapping[str, float | Sequence[float]] | None = None,
        household_disagreements: Mapping[str, Sequence[float | None]] | None = None,
    ) -> Model:
        return Model(
            names=self._names,
            levels=self._labels,
            m=self._m if m is None else m,
            u=self._u if u is None else u,
            prior=self._prior if prior is None else prior,
            term_frequencies=self._tf if term_frequencies is None else term_frequencies,
            household_weights=self._household if household_weights is None else household_weights,
            household_disagreements=(
                self._household_against if household_disagreements is None
                else household_disagreements
            ),
        )

    # --- scoring ----------------------------------------------------------------------

    def weight(self, vector: Sequence[Level]) -> float:
        if len(vector) != len(self._tables):
            raise ValueError(f"expected {len(self._tables)} levels, got {len(vector)}")
        if self._against:
            return self._prior_weight + sum(
                [*map(getitem, self._tables, vector), *(x for _, x in self.shared_differences(vector))]
            )
        return self._prior_weight + sum(map(getitem, self._tables, vector))

    def shared_differences(self, vector: Sequence[Level]) -> tuple[tuple[int, float], ...]:
        """What the household disagreements of a vector get back, by comparison index
        (in index order, none when fewer than two differ): of the household
        comparisons that differ, the one weighing most against counts in full, each
        other one as much as it weighs beside another difference
        (`household_disagreements`). Added after the levels' weights (and any
        term-frequency adjustments), in this order."""
        if not self._against:
            return ()
        key = tuple(vector[i] for i, _ in self._against)
        found = self._against_cache.get(key)
        if found is None:
            tables = self._tables
            differing = [
                (weight, i, credits.get(level, weight))
                for (i, credits), level in zip(self._against, key, strict=True)
                if level is not None and (weight := tables[i][level]) < 0.0
            ]
            found = ()
            if len(differing) > 1:
                strongest = min(differing)
                found = tuple(
                    (i, credit - weight) for weight, i, credit in sorted(differing, key=lambda d: d[1])
                    if (weight, i, credit) != strongest and credit > weight
                )
            self._against_cache[key] = found
        return found

    def probability(self, vector: Sequence[Level]) -> float:
        return probability_from_weight(self.weight(vector))

    def explain(self, vector: Sequence[Level]) -> Explanation:
        if len(vector) != len(self._tables):
            raise ValueError(f"expected {len(self._tables)} levels, got {len(vector)}")
        contributions = tuple(
            Contribution(name, None if level is None else labels[level], table[level])
            for name, labels, table, level in zip(
                self._names, self._labels, self._tables, vector, strict=True
            )
        )
        contributions += tuple(
            Contribution(self._names[i], WITH_ANOTHER_DIFFERENCE, back)
            for i, back in self.shared_differences(vector)
        )
        # The same floats summed in the same order as `weight`: the two always agree.
        total = self._prior_weight + sum(c.weight for c in contributions)
        return Explanation(
            prior_weight=self._prior_weight,
            contributions=contributions,
            total_weight=total,
            probability=probability_from_weight(total),
        )

    # --- storage ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = {
            "format": FORMAT_VERSION,
            "prior": self._prior,
            "comparisons": [
                {"name": name, "levels": list(labels), "m": list(m_row), "u": list(u_row)}
                for name, labels, m_row, u_row in zip(
                    self._names, self._labels, self._m, self._u, strict=True
                )
            ],
        }
        if self._tf is not None:
            data["term_frequencies"] = self._tf.to_dict()
        if self._household:
            data["household_weights"] = {
                name: list(credit) for name, credit in sorted(self._household.items())
            }
        if self._household_against:
            data["household_disagreements"] = {
                name: list(row) for name, row in sorted(self._household_against.items())
            }
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Model:
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown model format: {data.get('format')!r}")
        comparisons = data["comparisons"]
        return cls(
            names=[c["name"] for c in comparisons],
            levels=[c["levels"] for c in comparisons],
            m=[c["m"] for c in comparisons],
            u=[c["u"] for c in comparisons],
            prior=data["prior"],
            term_frequencies=(
                TermFrequencies.from_dict(data["term_frequencies"])
                if data.get("term_frequencies") else None
            ),
            household_weights=data.get("household_weights"),
            household_disagreements=data.get("household_disagreements"),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self._names, self._labels, self._m, self._u, self._prior))

    def __repr__(self) -> str:
        return f"Model(names={self._names!r}, prior={self._prior!r})"


# --- defaults ---------------------------------------------------------------------------


def default_m(level_count: int) -> tuple[float, ...]:
    """0.90 on the strongest level, the rest halving level after level (descending)."""
    shares = [2.0**-level for level in range(1, level_count)]
    rest = 1.0 - DEFAULT_M_EXACT
    return (DEFAULT_M_EXACT, *(rest * share / sum(shares) for share in shares))


def default_u(level_count: int) -> tuple[float, ...]:
    """0.001 on the strongest level, 0.005 then doubling on partial levels, the rest on
    disagreement (ascending)."""
    partial = [DEFAULT_U_FIRST_PARTIAL * 2.0**i for i in range(level_count - 2)]
    head = [DEFAULT_U_EXACT, *partial]
    return (*head, 1.0 - sum(head))


def default_model(comparisons: Sequence[Comparison]) -> Model:
    """Parameters before any training: plausible, monotone, and meant to be replaced."""
    return Model(
        names=[c.name for c in comparisons],
        levels=[c.levels for c in comparisons],
        m=[default_m(len(c.levels)) for c in comparisons],
        u=[default_u(len(c.levels)) for c in comparisons],
        prior=DEFAULT_PRIOR,
    )


# --- training ---------------------------------------------------------------------------


def _grouped(
    vectors: Iterable[Sequence[Level]] | Mapping[Vector, float], size: int
) -> list[tuple[Vector, float]]:
    """Distinct vectors with their (positive) counts."""
    counts: Mapping[Vector, float] = (
        vectors if isinstance(vectors, Mapping) else Counter(map(tuple, vectors))
    )
    grouped: list[tuple[Vector, float]] = []
    for vector, count in counts.items():
        if len(vector) != size:
            raise ValueError(f"expected {size} levels, got {len(vector)}")
        if count < 0:
            raise ValueError("vector counts cannot be negative")
        if count > 0:
            grouped.append((tuple(vector), float(count)))
    return grouped


def distribution(
    counts: Sequence[float], previous: Sequence[float], *, pseudo_count: float
) -> tuple[float, ...]:
    """Smoothed, floored frequencies; a comparison never observed keeps `previous`."""
    total = math.fsum(counts)
    if total <= 0.0:
        return tuple(previous)
    smoothed = [(c + pseudo_count) / (total + pseudo_count * len(counts)) for c in counts]
    floored = [max(p, PROBABILITY_FLOOR) for p in smoothed]
    norm = math.fsum(floored)
    return tuple(p / norm for p in floored)


def _level_counts(model: Model) -> list[list[float]]:
    return [[0.0] * len(labels) for labels in model.levels]


def train_u(
    model: Model, random_pairs: Iterable[Sequence[Level]] | Mapping[Vector, float]
) -> Model:
    """`model` with u learnt from the vectors of randomly drawn pairs.

    Random pairs are almost all non-matches, so each level's share among the known
    levels gives u directly. Laplace smoothing and a floor keep every u positive;
    a comparison never observed keeps its previous u.
    """
    counts = _level_counts(model)
    for vector, count in _grouped(random_pairs, len(model.names)):
        for c, level in enumerate(vector):
            if level is not None:
                counts[c][level] += count
    u = [
        distribution(row, previous, pseudo_count=U_PSEUDO_COUNT)
        for row, previous in zip(counts, model.u, strict=True)
    ]
    return model.replace(u=u)


def train_m_and_lambda_em(
    vectors: Iterable[Sequence[Level]] | Mapping[Vector, float],
    model: Model,
    *,
    fixed_u: bool = True,
    max_iterations: int = 50,
    tolerance: float = 1e-6,
) -> tuple[Model, TrainingReport]:
    """m and λ (and u unless `fixed_u`) by expectation-maximisation over candidate pairs.

    `vectors` are the comparison vectors of the blocked candidate pairs, or a mapping
    of distinct vectors to their counts. Each iteration computes, for every distinct
    vector, the posterior probability that it is a match (E-step), then re-computes
    the parameters from the expected level counts (M-step). The run stops when no
    parameter moves by more than `tolerance` or after `max_iterations`.
    """
    if max_iterations < 1:
        raise ValueError("max_iterations must be at least 1")
    data = _grouped(vectors, len(model.names))
    pairs = math.fsum(count for _, count in data)
    if not data:
        report = TrainingReport(
            iterations=0,
            converged=False,
            prior_history=(model.prior,),
            distinct_vectors=0,
            pairs=0.0,
        )
        return model, report
    # Only the known levels of each vector take part in the M-step.
    known = [
        (vector, count, [(c, level) for c, level in enumerate(vector) if level is not None])
        for vector, count in data
    ]
    current = model
    history: list[float] = []
    converged = False
    for _ in range(max_iterations):
        m_counts = _level_counts(current)
        u_counts = _level_counts(current)
        expected_matches = 0.0
        for vector, count, levels in known:
            as_match = count * current.probability(vector)
            as_non_match = count - as_match
            expected_matches += as_match
            for c, level in levels:
                m_counts[c][level] += as_match
                u_counts[c][level] += as_non_match
        prior = min(max(expected_matches / pairs, PRIOR_FLOOR), 1.0 - PRIOR_FLOOR)
        m = [
            distribution(row, previous, pseudo_count=EM_PSEUDO_COUNT)
            for row, previous in zip(m_counts, current.m, strict=True)
        ]
        u = (
            current.u
            if fixed_u
            else [
                distribution(row, previous, pseudo_count=EM_PSEUDO_COUNT)
                for row, previous in zip(u_counts, current.u, strict=True)
            ]
        )
        updated = current.replace(m=m, u=u, prior=prior)
        change = max(
            abs(updated.prior - current.prior),
            *_largest_changes(updated.m, current.m),
            *_largest_changes(updated.u, current.u),
        )
        current = updated
        history.append(prior)
        if change <= tolerance:
            converged = True
            break
    report = TrainingReport(
        iterations=len(history),
        converged=converged,
        prior_history=tuple(history),
        distinct_vectors=len(data),
        pairs=pairs,
    )
    return current, report


def _largest_changes(new: Sequence[Sequence[float]], old: Sequence[Sequence[float]]) -> list[float]:
    return [
        max(abs(a - b) for a, b in zip(new_row, old_row, strict=True))
        for new_row, old_row in zip(new, old, strict=True)
    ]
