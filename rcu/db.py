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
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Case, Field, ForeignKey, ForeignObject, Model, Value, When
from django.db.models.expressions import ColPairs
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In

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


class ArrayIn(In):
    """`field__in=[...]` with several plain values, on PostgreSQL: `field = ANY(%s)` with
    the values as one array parameter, not one placeholder each. A batch run's writes
    filter on thousands of ids at a time; a placeholder each made the driver rewrite
    every such query (too long for its cache) and Django prepare every value, a fifth
    of applying a run. The rows found are the same: PostgreSQL plans `IN (...)` as
    `= ANY(...)` itself. Registered for every field in `RcuConfig.ready`."""

    def _as_array(self, connection) -> bool:
        return (
            connection.vendor == "postgresql"
            and self.rhs_is_direct_value()
            and not isinstance(self.lhs, tuple | ColPairs)
            and len(self.rhs) > 1
        )

    def process_rhs(self, compiler, connection):
        if self._as_array(connection):
            values = [value for value in dict.fromkeys(self.rhs) if value is not None]
            if not values:
                raise EmptyResultSet
            sqls, params = self.batch_process_rhs(compiler, connection, values)
            if all(sql == "%s" for sql in sqls):  # plain values, no expression among them
                return "%s", [list(params)]
        return super().process_rhs(compiler, connection)

    def get_rhs_op(self, connection, rhs):
        if rhs == "%s" and self._as_array(connection):
            return "= ANY(%s)"
        return super().get_rhs_op(connection, rhs)


class ArrayRelatedIn(ArrayIn, RelatedIn):
    """`ArrayIn` for a foreign key (`customer_id__in=[...]`)."""


def array_in_register() -> None:
    """`__in` lookups of several values as one array parameter on PostgreSQL (`ArrayIn`)."""
    Field.register_lookup(ArrayIn)
    ForeignObject.register_lookup(ArrayRelatedIn)
