"""What to generate: the size, the seed and the sources of a demo data set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rcu.demo.participation import expected_records_per_person

SOURCE_CODES: tuple[str, ...] = ("crm", "eshop", "caisse", "service_client")

# A fixed "now": the same spec must give the same bytes whatever the day it runs. Naive on
# purpose: the sources write French wall-clock times without a zone.
AS_OF = datetime(2026, 11, 1, 9, 0, 0)  # noqa: DTZ001
# Business timestamps spread over the five years before AS_OF.
HISTORY_SECONDS = 5 * 365 * 24 * 3600


@dataclass(frozen=True)
class DatasetSpec:
    persons: int = 5000
    seed: int = 42
    sources: tuple[str, ...] = SOURCE_CODES
    bad_rows: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", tuple(self.sources))
        unknown = sorted(set(self.sources) - set(SOURCE_CODES))
        if unknown:
            raise ValueError(f"unknown sources {unknown}; known: {', '.join(SOURCE_CODES)}")
        if not self.sources:
            raise ValueError("at least one source is needed")
        if self.persons < 0 or self.bad_rows < 0:
            raise ValueError("persons and bad_rows cannot be negative")

    @classmethod
    def for_records(
        cls,
        records: int,
        seed: int = 42,
        sources: tuple[str, ...] = SOURCE_CODES,
        bad_rows: int = 0,
    ) -> DatasetSpec:
        """The spec whose data set holds about `records` records."""
        persons = max(1, round(records / expected_records_per_person(sources)))
        return cls(persons=persons, seed=seed, sources=tuple(sources), bad_rows=bad_rows)

    @property
    def ordered_sources(self) -> tuple[str, ...]:
        """The chosen sources in their canonical order."""
        return tuple(code for code in SOURCE_CODES if code in self.sources)
