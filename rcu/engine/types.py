"""Shapes shared by blocking, comparison and scoring."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum


@dataclass(frozen=True, slots=True)
class MatchRecord:
    """One source record as the engine sees it: canonical values and comparison keys.

    `attributes` and `keys` are exactly `SourceRecord.attributes` and `SourceRecord.keys`
    (see `rcu.normalisation.record.normalise_record`): keys hold comparison forms
    (folded names, E.164 phones, lower-case e-mail, ISO birth date, expanded address…).
    """

    id: int
    source: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    keys: Mapping[str, str] = field(default_factory=dict)
    # Forms the comparators derive from `keys` (phone numbers, identifiers…), computed
    # on first use and kept: a record is compared with dozens of others.
    derived: dict = field(default_factory=dict, init=False, compare=False, repr=False)


class Levels(IntEnum):
    """The levels of one comparison, strongest agreement first (0), disagreement last.

    Members are ints: a comparison vector holds them, and model tables are indexed by
    them. The label (the member's name in lower case) is what a stored model and an
    explanation say."""

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def labels(cls) -> tuple[str, ...]:
        return tuple(member.name.lower() for member in cls)


# A comparison level: a `Levels` member (or its int); None means a value is missing
# on either side: no evidence for or against.
Level = int | None


@dataclass(frozen=True)
class Comparison:
    """One field comparison of the model: its levels, best first, and how to compare."""

    name: str
    levels: tuple[str, ...]
    compare: Callable[[MatchRecord, MatchRecord], Level]
    # The level no pair reaches without sharing a blocking key of kind `key_kind` (two
    # equal e-mails share their "em:" key): every such pair is among the blocked pairs,
    # so its u is counted there instead of sampled from random pairs (see training).
    counted_level: str | None = None
    key_kind: str | None = None
    # Whether the members of one household usually agree on it (surname, address,
    # postcode, landline): such agreements come together, so an automatic link counts
    # them once (see `Scorer.personal_weight`).
    household: bool = False
    # (level label, key attribute): at that level the two records hold the same value of
    # that attribute, and its frequency in the base adjusts the weight (term_frequency).
    term_frequency: tuple[tuple[str, str], ...] = ()
    # (level label, key attribute): the level means exactly that the two records hold
    # the same value of that attribute, so its u is the chance two records share a
    # value, counted from the values' frequencies over every pair of the sample rather
    # than from a draw of random pairs (see `rcu.engine.training.u_from_frequencies`).
    equal_value: tuple[str, str] | None = None
    # Whether its disagreement (the last level) stops an automatic link (`Scorer`):
    # always, when an administrator declared that it tells people apart; or where the
    # model learnt that a person's records seldom disagree on it (a birth year, a sex;
    # not a middle name, written in full on one record and as an initial on the next).
    tells_apart: bool = False
    tells_apart_when_stable: bool = False

    @property
    def disagreement(self) -> int:
        return len(self.levels) - 1
