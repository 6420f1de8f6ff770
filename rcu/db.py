"""Database helpers every module shares: which engine runs, when COPY pays, chunks.

SQLite is the zero-setup default and PostgreSQL the production database; code that
needs one of PostgreSQL's features (COPY, SKIP LOCKED, ON CONFLICT … RETURNING at
scale) asks `is_postgresql()` here rather than comparing vendor strings itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from django.conf import settings
from django.db import connection

T = TypeVar("T")

# Enough ids per IN (...) to keep round trips few, few enough for SQLite's parameter limit.
CHUNK = 5000


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def copy_worthwhile(rows: int) -> bool:
    """Whether writing this many rows goes through COPY (PostgreSQL, `RCU_COPY_MIN_ROWS`)."""
    return is_postgresql() and rows >= settings.RCU_COPY_MIN_ROWS


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[list[T]]:
    """Consecutive slices of at most `size` items, as lists (query parameters)."""
    for start in range(0, len(items), size):
        chunk = items[start : start + size]
        yield chunk if isinstance(chunk, list) else list(chunk)
