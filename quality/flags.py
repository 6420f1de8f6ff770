"""What each quality flag says about validity and consistency (pure, no ORM).

Normalisation flags a record "<attribute>.<problem>" (`rcu.normalisation`). For the
figures, a flag is one of:
- *dropped*: the value was received but not kept (unreadable, impossible): it counts as
  received, and invalid;
- *invalid but kept*: `postcode.unknown` (not in La Poste's base; kept as received);
- *inconsistent*: the value is valid on its own but disagrees with another field of the
  record (`city.postcode_mismatch`, a `mobile` that is not a mobile number, titles in the
  names that contradict the civility);
- a *notice*: something was repaired or noted (`city.corrected`, `postcode.padded`,
  `phone.leading_zero_restored`, `civility.from_name`): the value is valid.
"""

from __future__ import annotations

from dataclasses import dataclass

DROPPED_PROBLEMS = frozenset(
    {"invalid", "unknown", "unparseable", "impossible", "future", "implausible", "placeholder"}
)
INVALID_KEPT_FLAGS = frozenset({"postcode.unknown"})


@dataclass(frozen=True, slots=True)
class ConsistencyCheck:
    """A flag of disagreement between fields, and the attributes it needs to be checked."""

    flag: str
    attribute: str  # the attribute the figure is shown on
    needs: tuple[str, ...]  # the record is checked only when all of these are filled


CONSISTENCY_CHECKS: tuple[ConsistencyCheck, ...] = (
    ConsistencyCheck("city.postcode_mismatch", "city", ("postcode", "city")),
    ConsistencyCheck("mobile.not_mobile", "mobile", ("mobile",)),
    ConsistencyCheck("civility.name_conflict", "civility", ("civility",)),
)
CONSISTENCY_FLAGS = frozenset(check.flag for check in CONSISTENCY_CHECKS)


def flag_attribute(flag: str) -> str:
    return flag.partition(".")[0]


def is_dropped(flag: str) -> bool:
    """The value was received and left out of the record's attributes."""
    return flag not in INVALID_KEPT_FLAGS and flag.partition(".")[2] in DROPPED_PROBLEMS


def is_invalid(flag: str) -> bool:
    return is_dropped(flag) or flag in INVALID_KEPT_FLAGS
