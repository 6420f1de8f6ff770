"""Scoring pairs of records: generic values neutralised, compared, weighed, explained.

`Scorer` binds a model to the generic values in force. `block_pairs` turns blocks into
the pairs worth comparing, each pair exactly once however many keys its records share:
a pair belongs to the smallest key its two records share, so a batch partition that
holds other keys of the pair leaves it to the partition holding that one.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import getitem

from rcu.engine.blocking import blocking_keys
from rcu.engine.comparators import (
    COMPARISONS,
    CONTRADICTING_LEVELS,
    CONTRADICTING_WHEN_AGAINST,
    TWINS_BIRTH_DATE,
    TWINS_FIRST_NAMES,
    TWINS_HOME,
)
from rcu.engine.fellegi_sunter import (
    WITH_ANOTHER_DIFFERENCE,
    Contribution,
    Explanation,
    Model,
    probability_from_weight,
    weight_from_probability,
)
from rcu.engine.generic import GenericValueSet
from rcu.engine.types import Comparison, Level, MatchRecord

MISSING_LEVEL = "-"
# The auto-link threshold of a new base (MatchSettings.auto_link's default).
DEFAULT_AUTO_LINK = 0.99
# Why a pair may not be linked without a steward (`Scorer.link_guard`).
CONTRADICTION = "contradiction:"
HOUSEHOLD_EVIDENCE = "household_evidence"
NAMES_ONLY = "names_only"
POSSIBLE_TWINS = "possible_twins"
# The comparisons that name a person: alone, they cannot tell namesakes apart.
NAME_COMPARISONS = ("first_name", "last_name")
# The level labels of a term-frequency contribution in an explanation.
RARE_VALUE = "rare_value"
COMMON_VALUE = "common_value"
# Contribution labels that are no level of their comparison: what is added to it.
ADDED_TO_A_LEVEL = frozenset({RARE_VALUE, COMMON_VALUE, WITH_ANOTHER_DIFFERENCE})
# Partial sums taken in another order may differ from the model's in the last bits: a
# pair is only given up when it misses the mark by more than this.
PRUNE_TOLERANCE = 1e-9


def levels_text(vector: tuple[Level, ...]) -> str:
    """A comparison vector as a short string, one character per comparison."""
    return "".join(MISSING_LEVEL if level is None else str(level) for level in vector)


def levels_from_text(text: str) -> tuple[Level, ...]:
    return tuple(None if char == MISSING_LEVEL else int(char) for char in text)


@dataclass(frozen=True, slots=True)
class PairScore:
    a: int  # always a < b
    b: int
    levels: tuple[Level, ...]
    weight: float
    probability: float


# A disagreement tells people apart (`Comparison.tells_apart_when_stable`) when two
# strangers' records reach it at least this many times as often as one person's: a
# value a person keeps from record to record (one slip in twenty at most).
STABLE_RATIO = 20.0


def _disagreement_telling_apart(comparison: Comparison, weights: Sequence[float]) -> set[int]:
    """`comparison`'s disagreement when it stops an automatic link: declared to tell
    people apart, or learnt to be seldom reached by a person's records (see
    `Comparison.tells_apart`); none otherwise."""
    level = comparison.disagreement
    stable = comparison.tells_apart_when_stable and weights[level] <= -math.log2(STABLE_RATIO)
    return {level} if comparison.tells_apart or stable else set()


@dataclass(frozen=True, slots=True)
class _TwinsRule:
    """When a pair may be twins (`comparators.TWINS_FIRST_NAMES`): comparison indexes
    and the levels that count. Personal evidence is an agreement the model weighs
    positively on a comparison that is neither a name, nor the birth date, nor one a
    household shares (an e-mail, an identifier, a custom attribute)."""

    first_name: int
    birth_date: int
    home: tuple[tuple[int, frozenset[int]], ...]
    personal: tuple[tuple[int, frozenset[int]], ...]

    @classmethod
    def of(cls, comparisons: Sequence[Comparison], model: Model) -> _TwinsRule | None:
        index = {c.name: i for i, c in enumerate(comparisons)}
        if "first_name" not in index or "birth_date" not in index:
            return None
        home = tuple(
            (index[name], frozenset(int(level) for level in levels))
            for name, levels in TWINS_HOME.items() if name in index
        )
        personal = tuple(
            (i, frozenset(level for level, weight in enumerate(model.level_weights(i)) if weight > 0.0))
            for i, c in enumerate(comparisons)
            if not c.household and c.name not in (*NAME_COMPARISONS, "birth_date")
        )
        return cls(index["first_name"], index["birth_date"], home, personal) if home else None

    def holds(self, levels: tuple[Level, ...]) -> bool:
        return (
            levels[self.first_name] in TWINS_FIRST_NAMES
            and levels[self.birth_date] == TWINS_BIRTH_DATE
            and any(levels[i] in agreeing for i, agreeing in self.home)
            and not any(levels[i] in agreeing for i, agreeing in self.personal)
        )


class Scorer:
    """Scores record pairs with one model, generic values read as missing."""

    def __init__(
        self,
        model: Model,
        generic: GenericValueSet | None = None,
        comparisons: tuple[Comparison, ...] = COMPARISONS,
        *,
        auto_link: float = DEFAULT_AUTO_LINK,
    ) -> None:
        if not model.is_for(comparisons):
            raise ValueError("the model was not built for these comparisons")
        self.model = model
        self.generic = generic or GenericValueSet()
        self._compares = tuple(c.compare for c in comparisons)
        self._names = tuple(c.name for c in comparisons)
        self._household = tuple(i for i, c in enumerate(comparisons) if c.household)
        self._beyond_names = tuple(
            i for i, c in enumerate(comparisons) if c.name not in NAME_COMPARISONS
        )
        # What each level of a household comparison still weighs beside another.
        self._household_credit = {
            i: model.household_weights.get(comparisons[i].name) or (0.0,) * len(comparisons[i].levels)
            for i in self._household
        }
        self._auto_link_weight = weight_from_probability(auto_link)
        # `link_guard_stored`'s answers by vector: (guard of the levels, household deduction).
        self._guards_by_text: dict[str, tuple[str | None, float]] = {}
        # `disagreement_stored`'s answers by vector.
        self._against_by_text: dict[str, float] = {}
        # `shared_back_stored`'s answers by vector.
        self._back_by_text: dict[str, float] = {}
        # Cheapest and most telling comparisons first, so that `score_at_least` can
        # stop a pair early; headroom[k] is the most the comparisons after the k-th
        # evaluated can still add.
        self._tables = model.tables
        # What `score_at_least` adds up to stop a pair early (`Model.bound_tables`).
        self._bound_tables = model.bound_tables
        self._order = evaluation_order(comparisons)
        # Term-frequency adjustments: by comparison index, the key attribute of each
        # level that has one (a comparison may adjust several levels: postcode, town).
        tf = model.term_frequencies
        self._tf = tf
        self._tf_rules: dict[int, dict[int, str]] = {}
        if tf is not None:
            for i, c in enumerate(comparisons):
                for label, attribute in c.term_frequency:
                    if attribute in tf.totals:
                        self._tf_rules.setdefault(i, {})[c.levels.index(label)] = attribute
        # Adjustments by (comparison, level) and value, computed once: a value recurs in
        # many pairs.
        self._tf_cache: dict[tuple[int, int], dict[str | None, float]] = {
            (i, level): {} for i, rules in self._tf_rules.items() for level in rules
        }
        best = [
            max(
                weight + (max(0.0, tf.largest_adjustment(self._tf_rules[i][level]))
                          if tf is not None and level in self._tf_rules.get(i, {}) else 0.0)
                for level, weight in self._bound_tables[i].items()
            )
            for i in self._order
        ]
        self._headroom = tuple(sum(best[k + 1 :]) for k in range(len(best)))
        # What stops a link: the contradicting levels, and the weak agreements the model
        # learnt to be evidence against a match (a "somewhat similar" first name where
        # twins with close names are common).
        self._contradicting = tuple(
            frozenset(int(level) for level in CONTRADICTING_LEVELS.get(c.name, ()))
            | {int(level) for level in CONTRADICTING_WHEN_AGAINST.get(c.name, ())
               if model.level_weights(i)[level] < 0.0}
            | _disagreement_telling_apart(c, model.level_weights(i))
            for i, c in enumerate(comparisons)
        )
        self._twins = _TwinsRule.of(comparisons, model)

    def link_guard(self, levels: tuple[Level, ...], weight: float | None = None) -> str | None:
        """Why a pair may not be linked without a steward whatever its score, or None.

        "contradiction:<comparisons>" when something that tells people apart differs
        (a contradicting level, or one the model weighs as evidence against a match);
        "names_only" when nothing but the names can be compared: however rare the
        name, the base's namesakes (a father and his son, a family's cousins) look the
        same, and the term frequencies that make a rare name weigh count strangers, not
        families (at 1M, 59 % of such pairs above auto-link were one person);
        "possible_twins" when the birth date and the home agree but the first names
        only loosely, and nothing personal agrees (`comparators.TWINS_FIRST_NAMES`);
        "household_evidence" when, counting once what a household shares, the evidence
        falls short of the auto-link threshold (`personal_weight`).
        """
        found = self._guard_of_levels(levels)
        if found is not None:
            return found
        if self.personal_weight(levels, weight) < self._auto_link_weight:
            return HOUSEHOLD_EVIDENCE
        return None

    def link_guard_stored(self, levels: str, weight: float) -> str | None:
        """`link_guard` of a stored pair (`levels_text`, its weight). What depends on the
        levels alone is worked out once per distinct vector: a run weighs hundreds of
        thousands of pairs that share a few thousand vectors."""
        known = self._guards_by_text.get(levels)
        if known is None:
            vector = levels_from_text(levels)
            known = self._guards_by_text[levels] = (
                self._guard_of_levels(vector), self._household_deduction(vector)
            )
        found, deduction = known
        if found is not None:
            return found
        # The same subtraction as `personal_weight`: the same float.
        if weight - deduction < self._auto_link_weight:
            return HOUSEHOLD_EVIDENCE
        return None

    def disagreement_stored(self, levels: str) -> float:
        """What the disagreements of a stored pair (`levels_text`) weigh together,
        each counted in full (household differences too: see `shared_back_stored`): the
        evidence against it whatever it agrees on (0 when nothing differs). Worked out
        once per distinct vector."""
        known = self._against_by_text.get(levels)
        if known is None:
            tables = self._tables
            known = self._against_by_text[levels] = math.fsum(
                min(0.0, tables[i][level])
                for i, level in enumerate(levels_from_text(levels)) if level is not None
            )
        return known

    def shared_back_stored(self, levels: str) -> float:
        """What a stored pair's household differences got back in its weight
        (`Model.shared_differences`; 0 for most pairs). Worked out once per distinct
        vector."""
        known = self._back_by_text.get(levels)
        if known is None:
            known = self._back_by_text[levels] = math.fsum(
                back for _, back in self.model.shared_differences(levels_from_text(levels))
            )
        return known

    def _guard_of_levels(self, levels: tuple[Level, ...]) -> str | None:
        contradicted = [
            name for name, level, bad in zip(self._names, levels, self._contradicting, strict=True)
            if level is not None and level in bad
        ]
        if contradicted:
            return CONTRADICTION + ",".join(contradicted)
        if all(levels[i] is None for i in self._beyond_names):
            return NAMES_ONLY
        if self._twins is not None and self._twins.holds(levels):
            return POSSIBLE_TWINS
        return None

    def personal_weight(self, levels: tuple[Level, ...], weight: float | None = None) -> float:
        """The match weight with the agreements a household shares counted once.

        Naive Bayes adds up evidence as if independent, but the members of a household
        agree on surname, address, postcode and landline all at once: a spouse or a
        record holding nothing else would reach any threshold on them. So of the positive
        contributions of household comparisons the largest counts in full, and each
        other one at most what the model learnt its level still weighs beside another
        household agreement in this base (`Model.household_weights`: nothing where
        families share names and homes, nearly all where namesakes at one address are
        rare; a surname with a typo or a town without its postcode likewise); everything
        else (first name, birth date, e-mail, identifiers, and every disagreement)
        counts in full. Which combination of agreements is enough is then the model's
        to say. `weight`: the pair's weight with its term-frequency adjustments, when
        known.
        """
        if weight is None:
            weight = self.model.weight(levels)
        return weight - self._household_deduction(levels)

    def _household_deduction(self, levels: tuple[Level, ...]) -> float:
        """What `personal_weight` takes away: the household agreements beyond the
        strongest, less what each still weighs beside another."""
        tables = self._tables
        shared = [
            (w, i, level) for i in self._household
            if (level := levels[i]) is not None and (w := tables[i][level]) > 0.0
        ]
        if len(shared) <= 1:
            return 0.0
        strongest = max(shared)
        credit = self._household_credit
        return math.fsum(
            w - min(w, credit[i][level]) for w, i, level in shared if (w, i, level) != strongest
        )

    def prepare(self, record: MatchRecord) -> MatchRecord:
        """The record as compared: without its generic values."""
        return self.generic.neutralise(record)

    def vector(self, a: MatchRecord, b: MatchRecord) -> tuple[Level, ...]:
        return tuple(compare(a, b) for compare in self._compares)

    def adjustment(self, index: int, level: Level, a: MatchRecord) -> float:
        """The term-frequency adjustment of comparison `index` at `level`, from the value
        `a` holds (the two agree on it); 0 where there is none. It never takes more
        than the level's own weight away: an agreement is never evidence against."""
        rules = self._tf_rules.get(index)
        if rules is None or level not in rules:
            return 0.0
        attribute = rules[level]
        value = a.keys.get(attribute)
        cache = self._tf_cache[(index, level)]
        adjustment = cache.get(value)
        if adjustment is None:
            tf = self._tf
            assert tf is not None  # a comparison has a rule only when the model has frequencies
            adjustment = cache[value] = max(
                tf.adjustment(attribute, value), -max(self._tables[index][level], 0.0)
            )
        return adjustment

    def adjustments(self, a: MatchRecord, levels: tuple[Level, ...]) -> tuple[float, ...]:
        """Every comparison's adjustment (0 for most), in the comparisons' order."""
        if not self._tf_rules:
            return ()
        found = [0.0] * len(levels)
        for index, rules in self._tf_rules.items():
            level = levels[index]
            if level in rules:
                found[index] = self.adjustment(index, level, a)
        return tuple(found)

    def total_weight(self, levels: tuple[Level, ...], adjustments: tuple[float, ...] = ()) -> float:
        """The match weight: the model's for the levels, plus the adjustments. One sum
        in one order, the explanation's too, so the two agree to the bit."""
        if not any(adjustments):
            return self.model.weight(levels)
        return self.model.prior_weight + sum([
            *map(getitem, self._tables, levels), *(x for x in adjustments if x),
            *(x for _, x in self.model.shared_differences(levels)),
        ])

    def score(self, a: MatchRecord, b: MatchRecord) -> PairScore:
        """Both records already `prepare`d."""
        if a.id > b.id:
            a, b = b, a
        vector = self.vector(a, b)
        weight = self.total_weight(vector, self.adjustments(a, vector))
        return PairScore(a.id, b.id, vector, weight, probability_from_weight(weight))

    def score_at_least(self, a: MatchRecord, b: MatchRecord, min_weight: float) -> PairScore | None:
        """The pair's score, or None as soon as it cannot reach `min_weight`: the weight
        is a sum, so once what is left to compare cannot lift it to `min_weight`, the
        remaining comparisons are not made. Same result as `score` for every pair it
        returns; both records already `prepare`d."""
        if a.id > b.id:
            a, b = b, a
        levels: list[Level] = [None] * len(self._compares)
        weight = self.model.prior_weight
        compares, tables, headroom = self._compares, self._bound_tables, self._headroom
        tf_rules = self._tf_rules
        found = [0.0] * len(levels) if tf_rules else None
        for step, index in enumerate(self._order):
            level = compares[index](a, b)
            levels[index] = level
            weight += tables[index][level]
            if found is not None and index in tf_rules:
                found[index] = adjustment = self.adjustment(index, level, a)
                weight += adjustment
            if weight + headroom[step] < min_weight - PRUNE_TOLERANCE:
                return None
        vector = tuple(levels)
        # The same sum in the same order as `score`, to the bit.
        weight = self.total_weight(vector, tuple(found) if found is not None else ())
        return PairScore(a.id, b.id, vector, weight, probability_from_weight(weight))

    def explain(
        self, levels: tuple[Level, ...], adjustments: tuple[float, ...] = ()
    ) -> Explanation:
        """The model's explanation, with one more contribution per term-frequency
        adjustment ("rare_value" or "common_value", after the comparison's own)."""
        explanation = self.model.explain(levels)
        if not any(adjustments):
            return explanation
        # In `total_weight`'s order: levels, adjustments, then what shared differences
        # get back.
        contributions = [
            c for c in explanation.contributions if c.level != WITH_ANOTHER_DIFFERENCE
        ]
        for name, adjustment in zip(self._names, adjustments, strict=True):
            if adjustment:
                label = RARE_VALUE if adjustment > 0 else COMMON_VALUE
                contributions.append(Contribution(name, label, adjustment))
        contributions += [
            c for c in explanation.contributions if c.level == WITH_ANOTHER_DIFFERENCE
        ]
        total = self.total_weight(levels, adjustments)
        return Explanation(
            prior_weight=explanation.prior_weight,
            contributions=tuple(contributions),
            total_weight=total,
            probability=probability_from_weight(total),
        )

    def explain_dict(self, levels: tuple[Level, ...]) -> dict:
        """The explanation from the levels alone (no term frequencies), JSON-ready, with
        what stops an automatic link if anything."""
        return explanation_as_dict(self.model.explain(levels), link_guard=self.link_guard(levels))

    def explain_pair_dict(self, a: MatchRecord, b: MatchRecord) -> dict:
        """The explanation of a pair of `prepare`d records, term frequencies included:
        its total is the pair's `score` weight."""
        if a.id > b.id:
            a, b = b, a
        return self.explain_scored_dict(a, self.vector(a, b))

    def explain_scored_dict(self, a: MatchRecord, levels: tuple[Level, ...]) -> dict:
        """`explain_pair_dict` of a pair already compared (`levels`): only the lower
        record (`prepare`d) is needed, it holds the values term frequencies weigh."""
        adjustments = self.adjustments(a, levels)
        explanation = self.explain(levels, adjustments)
        return explanation_as_dict(
            explanation, link_guard=self.link_guard(levels, explanation.total_weight)
        )


# Equality tests first, fuzzy string comparisons last.
_EVALUATION_COST = {
    "postcode_city": 0, "birth_date": 1, "email": 2, "phone": 3, "identifiers": 4,
    "last_name": 5, "first_name": 6, "address": 7,
}


def evaluation_order(comparisons: tuple[Comparison, ...]) -> tuple[int, ...]:
    """The positions of the comparisons, cheapest first (unknown ones last)."""
    return tuple(
        sorted(range(len(comparisons)), key=lambda i: _EVALUATION_COST.get(comparisons[i].name, 99))
    )


def usable_keys(record: MatchRecord, skip: Collection[str]) -> set[str]:
    """The record's blocking keys, less those skipped (generic values, oversized blocks)."""
    keys = blocking_keys(record)
    return keys.difference(skip) if skip else keys


def block_pairs(
    blocks: Mapping[str, list[int]],
    keys_of: Mapping[int, Collection[str]],
) -> Iterator[tuple[int, int]]:
    """Each pair (a < b) sharing a block, once: in the block of the smallest key the two
    records share. `keys_of` holds each record's usable keys (see `usable_keys`), as
    sets or, to hold half a million records in less memory, tuples; blocks whose key is
    not usable must be left out by the caller."""
    for key, members in blocks.items():
        if len(members) < 2:
            continue
        ordered = sorted(set(members))
        for i, a in enumerate(ordered):
            keys_a = set(keys_of[a])
            for b in ordered[i + 1 :]:
                shared = keys_a.intersection(keys_of[b])
                if key in shared and (len(shared) == 1 or min(shared) == key):
                    yield a, b


def block_pairs_touching(
    blocks: Mapping[str, list[int]],
    keys_of: Mapping[int, Collection[str]],
    touching: Collection[int],
) -> Iterator[tuple[int, int]]:
    """The pairs of `block_pairs` that hold at least one record of `touching`, each once.

    A pending run rescores only these: the pairs of two records that did not change
    are stored already, scored with the same model."""
    for key, members in blocks.items():
        if len(members) < 2:
            continue
        ordered = sorted(set(members))
        changed = [a for a in ordered if a in touching]
        for a in changed:
            keys_a = set(keys_of[a])
            for b in ordered:
                if b == a or (b in touching and b < a):
                    continue  # the pair of two changed records comes from its smaller one
                shared = keys_a.intersection(keys_of[b])
                if key in shared and (len(shared) == 1 or min(shared) == key):
                    yield (a, b) if a < b else (b, a)


def explanation_as_dict(explanation: Explanation, *, link_guard: str | None = None) -> dict:
    """A JSON-ready explanation: what the API returns and candidates store."""
    return {
        "link_guard": link_guard,
        "probability": explanation.probability,
        "total_weight": explanation.total_weight,
        "prior_weight": explanation.prior_weight,
        "contributions": [
            {"comparison": c.comparison, "level": c.level, "weight": c.weight}
            for c in explanation.contributions
        ],
    }
