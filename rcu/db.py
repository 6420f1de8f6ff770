"""Database helpers every module shares: which engine runs, when COPY pays, chunks,
one UPDATE giving rows different values.

SQLite is the zero-setup default and PostgreSQL the production database; code that
needs one of PostgreSQL's features (COPY, SKIP LOCKED, ON CONFLICT … RETURNING at
scale) asks `is_postgresql()` here rather than comparing vendor strings itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Case, Field, ForeignKey, Lookup, Model, QuerySet, Value, When

T = TypeVar("T")

# Enough ids per IN (...) to keep round trips few, few enough for SQLite's parameter limit.
CHUNK = 5000


class AnyOf(Lookup):
    """`field__any_of=[...]`: the `in` lookup for long lists of plain values. PostgreSQL
    gets them as one array parameter (``= ANY(%s)``): an IN list of thousands of
    parameters costs Django and the driver more per value than the query itself (a batch
    run asks about hundreds of thousands of customers). Elsewhere, an IN list."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if not values:
            raise EmptyResultSet
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


# Foreign keys keep lookups of their own (ids of the rows they point at, here).
Field.register_lookup(AnyOf)
ForeignKey.register_lookup(AnyOf)


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


# Ids per `any_of` query on PostgreSQL, where they go as one array parameter.
ARRAY_CHUNK = 50_000


def id_chunks(ids: Sequence[T]) -> Iterator[list[T]]:
    """`chunks` sized for an `any_of` lookup: large on PostgreSQL (one array parameter),
    `CHUNK` elsewhere (one parameter per value)."""
    return chunks(ids, ARRAY_CHUNK if is_postgresql() else CHUNK)


def driver_rows(query: QuerySet) -> Iterable[tuple]:
    """The rows of a `values_list` query. On PostgreSQL straight from the driver, which
    gives the values Django would (aware datetimes, dates, UUIDs; cast JSON to text in
    the query): on a million rows Django's per-row steps cost as much as the rest.
    Elsewhere the query itself (SQLite's dates need Django's converters)."""
    if not is_postgresql():
        return query
    try:
        sql, params = query.query.sql_with_params()
    except EmptyResultSet:  # an empty `any_of`: no query, as the ORM does
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


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
