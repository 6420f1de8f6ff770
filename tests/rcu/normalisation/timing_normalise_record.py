"""How long normalising one full record takes: a check run by hand, not a test.

    .venv/bin/python tests/rcu/normalisation/timing_normalise_record.py [records]

Records are varied French customers from Faker; caches start empty, as at the start of
an import, and the first pass is the one reported.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from faker import Faker

from rcu.normalisation.record import normalise_record


def _mobile(rng: random.Random) -> str:
    digits = "".join(rng.choices("0123456789", k=7))
    return rng.choice(["06 1{}", "+33 6 2{}", "07.8{}"]).format(digits)


def _records(count: int) -> list[dict[str, str]]:
    fake = Faker("fr_FR")
    Faker.seed(20240601)
    rng = random.Random(20240601)
    rows = []
    for _ in range(count):
        first, last = fake.first_name(), fake.last_name()
        rows.append(
            {
                "civility": rng.choice(["M", "Mme", "Monsieur", "MADAME", "2", ""]),
                "first_name": rng.choice([first, first.upper(), f"M. {first}"]),
                "last_name": rng.choice([last, last.upper()]),
                "birth_date": fake.date_of_birth(minimum_age=18, maximum_age=90).strftime(
                    "%d/%m/%Y"
                ),
                "email": rng.choice([fake.email(), fake.free_email().upper()]),
                "phone": fake.phone_number(),
                "mobile": _mobile(rng),
                "address_line1": fake.street_address(),
                "address_line2": rng.choice(["", "Bât. B", f"Appt {rng.randint(1, 80)}"]),
                "postcode": fake.postcode(),
                "city": rng.choice([fake.city(), fake.city().upper() + " CEDEX"]),
                "country": rng.choice(["France", "FR", "FRANCE", ""]),
                "loyalty_card": str(rng.randint(10**9, 10**10)),
            }
        )
    return rows


def _clear_caches() -> None:
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("rcu.normalisation"):
            for value in vars(module).values():
                if hasattr(value, "cache_clear"):
                    value.cache_clear()


def _pass(rows: list[dict[str, str]]) -> float:
    """CPU µs per record for one pass over `rows` (CPU time: other processes don't count)."""
    today = date(2025, 1, 1)
    formats = {"birth_date": "%d/%m/%Y"}
    start = time.process_time()
    for row in rows:
        normalise_record(row, date_formats=formats, today=today)
    return (time.process_time() - start) / len(rows) * 1e6


def main(count: int, repeats: int = 5) -> None:
    rows = _records(count)
    # Best of several runs: cache and scheduler noise only ever add time.
    cold, warm = [], []
    for _ in range(repeats):
        _clear_caches()
        cold.append(_pass(rows))
        warm.append(_pass(rows))
    print(
        f"{count} records, best of {repeats}: {min(cold):.1f} µs/record with empty caches, "
        f"{min(warm):.1f} µs/record with warm caches"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
