"""Database helpers every module shares: which engine runs, when COPY pays, chunks,
one UPDATE giving rows different values.

SQLite is the zero-setup default and PostgreSQL the production database; code that
needs one of PostgreSQL's features (COPY, SKIP LOCKED, ON CONFLICT … RETURNING at
scale) asks `is_postgresql()` here rather than comparing vendor strings itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection
from django.db.models import Case, Field, ForeignKey, Model, Value, When

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


def column_set(model: type[Model], column: str, values: Mapping[int, Any]) -> None:
    """Give each row (primary key → value) its value of `column`: one UPDATE per chunk of
    rows however many distinct values there are (``CASE WHEN id IN (…) THEN value …``),
    where an UPDATE per value would cost a round trip per value (per customer an unmerge
    restores). Half a chunk of rows per UPDATE: each id is a parameter twice (its WHEN
    and the WHERE)."""
    field = model._meta.get_field(column)
    if not isinstance(field, Field):
        raise TypeError(f"{column} is not a column of {model.__name__}")
    output = field.target_field if isinstance(field, ForeignKey) else field
    for chunk in chunks(sorted(values), size=CHUNK // 2):
        by_value: dict[Any, list[int]] = defaultdict(list)
        for pk in chunk:
            by_value[values[pk]].append(pk)
        model._default_manager.filter(pk__in=chunk).update(**{field.attname: Case(
            *[When(pk__in=pks, then=Value(value)) for value, pks in by_value.items()], output_field=output,
        )})
