"""Pre-drawn pools of names, streets, communes and e-mail domains.

Calling Faker once per person is far too slow for a million records, so Faker (seeded) and
the hand-picked vocabulary fill weighted pools once; persons are then drawn from the pools
with a plain `random.Random`. Weights are expressed by repetition, which makes each draw a
single `rng.choice`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from faker import Faker
from faker.providers.person import de_DE, es_ES, fr_BE, fr_CA, fr_CH, fr_FR, it_IT, pt_PT

from rcu.demo import vocabulary
from rcu.demo.communes import COMMUNES, Commune

# Share of persons whose surname comes from the 400 most common French surnames (rank
# weighted), so that Martin, Bernard and Dubois come back very often, as they do in France.
COMMON_SURNAME_SHARE = 0.35
# Share drawn from Italian, Spanish, Portuguese, German and other surnames heard in France.
FOREIGN_SURNAME_SHARE = 0.15
LAST_NAME_POOL_SIZE = 40_000
FIRST_NAME_POOL_SIZE = 4_000

T = TypeVar("T")


def pick(rng: random.Random, options: Sequence[T]) -> T:
    """`rng.choice`, several times faster: pools are drawn from millions of times."""
    return options[int(rng.random() * len(options))]


@dataclass(frozen=True)
class Pools:
    first_names_male: tuple[str, ...]
    first_names_female: tuple[str, ...]
    last_names: tuple[str, ...]
    street_types: tuple[str, ...]
    street_names: tuple[str, ...]
    communes: tuple[Commune, ...]
    communes_by_department: dict[str, tuple[Commune, ...]]
    email_domains: tuple[str, ...]

    def first_names(self, gender: str) -> tuple[str, ...]:
        return self.first_names_female if gender == "F" else self.first_names_male


def is_plain_name(name: str) -> bool:
    """A name every source can store: letters, spaces, hyphens, apostrophes, and Windows-1252."""
    if not name or not all(c.isalpha() or c in " -'" for c in name):
        return False
    try:
        name.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _plain(names: Iterable[str]) -> list[str]:
    """Usable names, in order, repeats kept (a repeat is a weight)."""
    return [n for n in names if is_plain_name(n) and n not in vocabulary.FIRST_NAMES_TO_SKIP]


def _distinct_plain(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(_plain(names)))


def _repeat(weighted: Iterable[tuple[str, int]]) -> list[str]:
    return [value for value, weight in weighted for _ in range(weight)]


def _first_names(fake: Faker, rng: random.Random, gender: str) -> tuple[str, ...]:
    male = gender == "M"
    draw_faker = fake.first_name_male if male else fake.first_name_female
    classic = _plain(draw_faker() for _ in range(FIRST_NAME_POOL_SIZE // 2))
    belgian = _distinct_plain(
        fr_BE.Provider.first_names_male if male else fr_BE.Provider.first_names_female
    )
    modern = vocabulary.MODERN_FIRST_NAMES_MALE if male else vocabulary.MODERN_FIRST_NAMES_FEMALE
    compound = (
        vocabulary.COMPOUND_FIRST_NAMES_MALE if male else vocabulary.COMPOUND_FIRST_NAMES_FEMALE
    )
    world = vocabulary.WORLD_FIRST_NAMES_MALE if male else vocabulary.WORLD_FIRST_NAMES_FEMALE
    pool = classic
    pool += rng.choices(modern, k=FIRST_NAME_POOL_SIZE * 3 // 10)
    pool += rng.choices(compound, k=FIRST_NAME_POOL_SIZE // 10)
    pool += rng.choices(world, k=FIRST_NAME_POOL_SIZE * 7 // 100)
    pool += rng.choices(belgian, k=FIRST_NAME_POOL_SIZE * 3 // 100)
    return tuple(pool)


def _last_names(rng: random.Random) -> tuple[str, ...]:
    common = list(dict.fromkeys(_plain(fr_FR.Provider.last_names)))
    head_size = int(LAST_NAME_POOL_SIZE * COMMON_SURNAME_SHARE)
    rank_weights = [1 / (rank**0.5) for rank in range(1, len(common) + 1)]
    scale = head_size / sum(rank_weights)
    pool = _repeat(
        (name, max(1, round(w * scale))) for name, w in zip(common, rank_weights, strict=True)
    )

    french_tail = _distinct_plain(
        [
            *fr_BE.Provider.last_names,
            *fr_CA.Provider.last_names,
            *fr_CH.Provider.last_names,
            *vocabulary.PARTICLE_SURNAMES,
            *vocabulary.ACCENTED_SURNAMES,
            *vocabulary.BRETON_SURNAMES,
        ]
    )
    foreign_tail = _distinct_plain(
        [
            *vocabulary.WORLD_SURNAMES,
            *de_DE.Provider.last_names,
            *it_IT.Provider.last_names,
            *es_ES.Provider.last_names,
            *pt_PT.Provider.last_names,
        ]
    )
    tail_size = LAST_NAME_POOL_SIZE - len(pool)
    foreign_size = int(LAST_NAME_POOL_SIZE * FOREIGN_SURNAME_SHARE)
    pool += rng.choices(french_tail, k=tail_size - foreign_size)
    pool += rng.choices(foreign_tail, k=foreign_size)
    return tuple(pool)


def _street_names(fake: Faker) -> tuple[str, ...]:
    # Streets named after someone ("rue Marcel Dupont") make the long tail of street names.
    honoured = _distinct_plain(f"{fake.first_name()} {fake.last_name()}" for _ in range(400))
    return tuple(list(vocabulary.STREET_NAMES) * 3 + honoured)


def build_pools(seed: int) -> Pools:
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    rng = random.Random(f"pools:{seed}")
    communes = tuple(c for c in COMMUNES for _ in range(c.weight))
    by_department: dict[str, list[Commune]] = {}
    for commune in COMMUNES:
        by_department.setdefault(commune.department, []).append(commune)
    return Pools(
        first_names_male=_first_names(fake, rng, "M"),
        first_names_female=_first_names(fake, rng, "F"),
        last_names=_last_names(rng),
        street_types=tuple(_repeat(vocabulary.STREET_TYPES)),
        street_names=_street_names(fake),
        communes=communes,
        communes_by_department={d: tuple(cs) for d, cs in by_department.items()},
        email_domains=tuple(_repeat(vocabulary.EMAIL_DOMAINS)),
    )
