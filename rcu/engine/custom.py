"""Comparisons of the administrators' custom attributes (pure, no ORM).

A custom attribute (`rcu.attributes.CustomAttribute`) that is compared becomes one more
`Comparison` of the model, after the built-in ones, named after the attribute: EM learns
its own m and u like any other's, exact agreements are adjusted by term frequencies,
and explanations list it. Its comparison key lives in `MatchRecord.keys` under
`key_name(...)`: "custom:<name>", or "custom_id:<name>" for identifiers, which are also
blocking keys ("id:custom_id:<name>:<value>"; see `rcu.engine.blocking`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import JaroWinkler

from rcu.engine.comparators import COMPARISONS, JARO_WINKLER_HIGH, JARO_WINKLER_LOW
from rcu.engine.fellegi_sunter import Model, default_model
from rcu.engine.phonetic import phonetic_key
from rcu.engine.types import Comparison, Level, Levels, MatchRecord

# Keys of custom attributes: compared only, or compared and blocked on.
CUSTOM_PREFIX = "custom:"
BLOCKED_PREFIX = "custom_id:"


def key_name(name: str, *, blocked: bool = False) -> str:
    """Where a custom attribute's comparison key lives in `MatchRecord.keys`."""
    return f"{BLOCKED_PREFIX if blocked else CUSTOM_PREFIX}{name}"


def is_custom_key(name: str) -> bool:
    return name.startswith((CUSTOM_PREFIX, BLOCKED_PREFIX))


class NameLevel(Levels):
    EXACT = 0
    JARO_WINKLER_HIGH = 1
    PHONETIC = 2
    JARO_WINKLER_LOW = 3
    DIFFERENT = 4


class TextLevel(Levels):
    EXACT = 0
    JARO_WINKLER_HIGH = 1
    JARO_WINKLER_LOW = 2
    DIFFERENT = 3


class DateLevel(Levels):
    EXACT = 0
    SAME_MONTH = 1
    SAME_YEAR = 2
    DIFFERENT = 3


class ExactLevel(Levels):
    SAME = 0
    DIFFERENT = 1


class NumberLevel(Levels):
    EXACT = 0
    WITHIN_TOLERANCE = 1
    DIFFERENT = 2


@dataclass(frozen=True, slots=True)
class CustomComparison:
    """What the engine needs of one compared custom attribute."""

    name: str  # the attribute's name: the comparison's name in the model
    method: str  # rcu.attributes.ComparisonMethod value: name, text, date, exact, number
    key: str  # its key in MatchRecord.keys (`key_name`)
    tolerance: float = 0.0  # number: values this close are a partial agreement
    # An administrator declared that two records disagreeing on it are two people.
    tells_apart: bool = False


def _name(key: str) -> Callable[[MatchRecord, MatchRecord], Level]:
    def compare(a: MatchRecord, b: MatchRecord) -> Level:
        x, y = a.keys.get(key), b.keys.get(key)
        if not x or not y:
            return None
        if x == y:
            return NameLevel.EXACT
        similarity = JaroWinkler.similarity(x, y)
        if similarity >= JARO_WINKLER_HIGH:
            return NameLevel.JARO_WINKLER_HIGH
        if phonetic_key(x) == phonetic_key(y):
            return NameLevel.PHONETIC
        if similarity >= JARO_WINKLER_LOW:
            return NameLevel.JARO_WINKLER_LOW
        return NameLevel.DIFFERENT
    return compare


def _text(key: str) -> Callable[[MatchRecord, MatchRecord], Level]:
    def compare(a: MatchRecord, b: MatchRecord) -> Level:
        x, y = a.keys.get(key), b.keys.get(key)
        if not x or not y:
            return None
        if x == y:
            return TextLevel.EXACT
        similarity = JaroWinkler.similarity(x, y)
        if similarity >= JARO_WINKLER_HIGH:
            return TextLevel.JARO_WINKLER_HIGH
        if similarity >= JARO_WINKLER_LOW:
            return TextLevel.JARO_WINKLER_LOW
        return TextLevel.DIFFERENT
    return compare


def _date(key: str) -> Callable[[MatchRecord, MatchRecord], Level]:
    def compare(a: MatchRecord, b: MatchRecord) -> Level:
        x, y = a.keys.get(key), b.keys.get(key)
        if not x or not y:
            return None
        if x == y:
            return DateLevel.EXACT
        if x[:7] == y[:7]:
            return DateLevel.SAME_MONTH
        if x[:4] == y[:4]:
            return DateLevel.SAME_YEAR
        return DateLevel.DIFFERENT
    return compare


def _exact(key: str) -> Callable[[MatchRecord, MatchRecord], Level]:
    def compare(a: MatchRecord, b: MatchRecord) -> Level:
        x, y = a.keys.get(key), b.keys.get(key)
        if not x or not y:
            return None
        return ExactLevel.SAME if x == y else ExactLevel.DIFFERENT
    return compare


def _number(key: str, tolerance: float) -> Callable[[MatchRecord, MatchRecord], Level]:
    def compare(a: MatchRecord, b: MatchRecord) -> Level:
        x, y = a.keys.get(key), b.keys.get(key)
        if not x or not y:
            return None
        if x == y:
            return NumberLevel.EXACT
        try:
            close = abs(float(x) - float(y)) <= tolerance
        except ValueError:  # stored before its type was a number: no evidence
            return None
        return NumberLevel.WITHIN_TOLERANCE if close else NumberLevel.DIFFERENT
    return compare


def custom_comparison(spec: CustomComparison) -> Comparison:
    """The model's comparison of one custom attribute.

    Its disagreement stops an automatic link where an administrator declared that it
    tells people apart, and otherwise where the model learnt that a person's records
    seldom disagree on it (`Comparison.tells_apart`, `tells_apart_when_stable`)."""
    key = spec.key
    compare: Callable[[MatchRecord, MatchRecord], Level]
    levels: type[Levels]
    exact: Levels | None
    if spec.method == "name":
        levels, compare, exact = NameLevel, _name(key), NameLevel.EXACT
    elif spec.method == "text":
        levels, compare, exact = TextLevel, _text(key), TextLevel.EXACT
    elif spec.method == "date":
        levels, compare, exact = DateLevel, _date(key), DateLevel.EXACT
    elif spec.method == "exact":
        levels, compare, exact = ExactLevel, _exact(key), ExactLevel.SAME
    elif spec.method == "number":
        levels, compare, exact = NumberLevel, _number(key, spec.tolerance), None
    else:
        raise ValueError(f"{spec.name}: unknown comparison {spec.method!r}")
    return Comparison(
        spec.name, levels.labels(), compare,
        term_frequency=((exact.label, key),) if exact is not None else (),
        tells_apart=spec.tells_apart, tells_apart_when_stable=True,
    )


def comparisons_with(specs: Sequence[CustomComparison]) -> tuple[Comparison, ...]:
    """The built-in comparisons, then one per custom attribute in name order."""
    if not specs:
        return COMPARISONS
    taken = {c.name for c in COMPARISONS}
    clash = [s.name for s in specs if s.name in taken]
    if clash:
        raise ValueError(f"custom attributes named like a built-in comparison: {clash}")
    return (*COMPARISONS, *(custom_comparison(s) for s in sorted(specs, key=lambda s: s.name)))


def model_for(stored: Model | None, comparisons: Sequence[Comparison]) -> Model:
    """`stored` when it was built for these comparisons; otherwise a model for them that
    keeps what `stored` learnt of every comparison it shares (same name, same levels),
    its prior, term frequencies and household weights, with default parameters for the
    others until the next training (a custom attribute added or archived)."""
    if stored is not None and stored.is_for(comparisons):
        return stored
    start = default_model(comparisons)
    if stored is None:
        return start
    learnt = {
        name: (labels, m, u)
        for name, labels, m, u in zip(stored.names, stored.levels, stored.m, stored.u, strict=True)
    }
    m: list[tuple[float, ...]] = []
    u: list[tuple[float, ...]] = []
    same_levels: set[str] = set()
    for i, comparison in enumerate(comparisons):
        found = learnt.get(comparison.name)
        same = found is not None and found[0] == tuple(comparison.levels)
        if same:
            same_levels.add(comparison.name)
        m.append(found[1] if same and found else start.m[i])
        u.append(found[2] if same and found else start.u[i])
    names = {c.name for c in comparisons}
    return Model(
        names=start.names, levels=start.levels, m=m, u=u, prior=stored.prior,
        term_frequencies=stored.term_frequencies,
        household_weights={k: v for k, v in stored.household_weights.items() if k in names},
        household_disagreements={
            k: v for k, v in stored.household_disagreements.items() if k in same_levels
        },
    )
